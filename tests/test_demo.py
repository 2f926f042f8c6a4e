"""The demo runs the whole story end to end, and its sample scores move the right way."""

import json

from smallpose.cli import main


def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--scale", "tiny", "--bootstrap", "20"]) == 0
    printed = capsys.readouterr().out
    html = out / "report" / "leaderboard.html"
    assert html.is_file() and f"file://{html}" in printed
    assert (out / "hub" / "README.md").is_file()
    ap = {}
    for name in ("gt-noise-2pct", "gt-noise-5pct-miss10", "gt-noise-10pct-miss20"):
        m = json.loads((out / "metrics" / f"{name}.json").read_text())
        assert m["schema"] == "smallpose-metrics/1" and m["gt"]["split"] == "test"
        ap[name] = m["metrics"]["AP"]
    # more keypoint noise and more misses can only lower AP
    assert ap["gt-noise-2pct"] > ap["gt-noise-5pct-miss10"] > ap["gt-noise-10pct-miss20"]
    html_text = html.read_text()
    assert all(n in html_text for n in ap)
    # a second run into the same folder replaces it; a foreign folder is refused
    assert main(["demo", "--out", str(out), "--scale", "tiny", "--bootstrap", "0", "--no-images"]) == 0
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    assert main(["demo", "--out", str(foreign)]) == 2
    assert (foreign / "keep.txt").exists()
