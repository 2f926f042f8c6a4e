"""Hand-made metrics files for the report tests (numbers from the paper's Tables 2 and 3)."""

from __future__ import annotations

import json
from pathlib import Path

KEYS = ("AP", "AP_S", "AP_M", "AP_L", "AP_S_sparse", "AP_S_moderate", "AP_S_dense", "AR")

# (run name, model, backbone, setting, 8 values in KEYS order, extra run fields, surprise)
RUNS = [
    ("sb-b", "SimpleBaseline", "ResNet-50", "B", (68.2, 65.9, 69.1, 79.7, 32.8, 69.4, 26.0, 69.1), {}, 2.5),
    ("sb-a", "SimpleBaseline", "ResNet-50", "A", (43.2, 32.4, 50.5, 77.3, 8.8, 33.9, 0.1, 45.8), {}, None),
    ("hrnet-a", "HRNet", "HRNet-W32", "A", (45.0, 34.3, 52.3, 79.6, 10.3, 36.0, 0.1, 47.7), {}, None),
    ("hrnet-b", "HRNet", "HRNet-W32", "B", (66.4, 62.2, 69.3, 82.1, 32.0, 65.3, 11.7, 67.7), {}, None),
    ("simcc-a", "SimCC", "ResNet-50", "A", (43.2, 32.9, 50.3, 76.9, 18.7, 33.8, 0.0, 46.2), {}, None),
    ("simcc-b", "SimCC", "ResNet-50", "B", (68.8, 68.0, 67.3, 78.5, 38.6, 70.5, 63.6, 69.4), {}, 1.75),
    ("dekr-a", "DEKR", "HRNet-W32", "A", (32.5, 15.6, 46.5, 78.3, 3.6, 15.9, 0.0, 36.8), {}, None),
    ("dekr-b", "DEKR", "HRNet-W32", "B", (23.2, 20.1, 32.4, 22.8, 4.0, 20.0, 1.3, 46.6), {}, None),
    ("rtmo-b", "RTMO", "CSPDarknet", "B", (63.1, 55.1, 70.6, 79.9, 29.7, 58.1, 4.9, 64.3), {}, None),
    ("mynet-b", "MyNet", "ConvNeXt-T", "B", (50.0, 45.0, 70.0, 60.0, 20.0, 40.0, 10.0, 55.0), {}, 1.9),
    (
        "custom-b",
        "CustomTD",
        "ResNet-18",
        "B",
        (40.0, 30.0, 45.0, 50.0, 10.0, 30.0, 5.0, 44.0),
        {"paradigm": "top_down", "prediction_type": "Regression"},
        None,
    ),
]


def metrics_doc(name, model, backbone, setting, values, extra, surprise, with_curves=True) -> dict:
    metrics = {k: round(v / 100, 6) for k, v in zip(KEYS, values)}
    metrics["AP50"] = min(1.0, metrics["AP"] + 0.2)
    if surprise is not None:
        metrics["surprise"] = surprise
    doc = {
        "schema": "smallpose-metrics/1",
        "run": {"name": name, "model": model, "backbone": backbone, "input_size": [256, 192],
                "setting": setting, "train_data": "coco" if setting == "A" else "smallpose", **extra},
        "gt": {"store": "store", "split": "test", "fingerprint": "abc"},
        "protocol": {"name": "coco17" if setting == "A" else "smallpose"},
        "metrics": metrics,
    }  # fmt: skip
    if with_curves:
        base = metrics["AP_S"]
        doc["kd_curve"] = [
            {
                "kd_lo": lo / 10,
                "kd_hi": (lo + 1) / 10,
                "n_gt": 10 * (lo + 1),
                "AP": max(0.0, base - abs(lo - 5) / 20),
            }
            for lo in range(10)
        ]
        names = [
            "nose",
            "left_eye",
            "right_eye",
            "left_shoulder",
            "right_shoulder",
            "left_ankle",
            "right_ankle",
        ]
        if setting == "B":
            names += ["head_top", "chest", "pelvis"]
        doc["per_keypoint"] = {n: round(base + 0.02 * i, 4) for i, n in enumerate(names)}
    return doc


def write_runs(folder: Path, runs=RUNS, with_ci: bool = True) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for spec in runs:
        doc = metrics_doc(*spec)
        if with_ci and spec[0] == "sb-b":
            doc["ci"] = {"AP": [0.669, 0.695], "AP_S": [0.640, 0.670]}
        p = folder / f"{spec[0]}.json"
        p.write_text(json.dumps(doc))
        paths.append(p)
    return paths


# ---------------------------------------------------------------- tests

import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from smallpose.cli import main  # noqa: E402


def parse_markdown(text: str) -> dict[str, dict[str, list[dict[str, str]]]]:
    """{section: {group: [row dict]}} from the leaderboard's Markdown tables."""
    out: dict[str, dict[str, list[dict[str, str]]]] = {}
    section = group = None
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            section, group = line[3:], None
            out[section] = {}
        elif line.startswith("### "):
            group = line[4:]
            out[section][group] = []
            header = []
        elif line.startswith("|") and group is not None:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not header:
                header = cells
            elif not set(line) <= set("|-: "):
                out[section][group].append(dict(zip(header, cells)))
    return out


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    paths = write_runs(tmp / "metrics")
    assert main(["report", *map(str, paths), "--out", str(tmp / "out")]) == 0
    return tmp / "out"


def test_markdown_grouping_and_columns(report_dir):
    md = parse_markdown((report_dir / "leaderboard.md").read_text())
    para = md["By paradigm (as the paper's Table 2)"]
    assert list(para) == [
        "Top-down methods",
        "Bottom-up methods",
        "Single-stage methods",
        "Other (model not in the known-model table)",
    ]
    assert [r["Run"] for r in para["Top-down methods"]] == [
        "sb-a", "sb-b", "hrnet-a", "hrnet-b", "simcc-a", "simcc-b", "custom-b",
    ]  # fmt: skip
    assert [r["Run"] for r in para["Bottom-up methods"]] == ["dekr-a", "dekr-b"]
    assert [r["Run"] for r in para["Single-stage methods"]] == ["rtmo-b"]
    assert [r["Run"] for r in para["Other (model not in the known-model table)"]] == ["mynet-b"]
    pred = md["By prediction type (as the paper's Table 3)"]
    assert list(pred) == [
        "Heatmap-based",
        "Regression-based",
        "Classification-based",
        "Other (model not in the known-model table)",
    ]
    assert [r["Run"] for r in pred["Heatmap-based"]] == ["sb-a", "sb-b", "hrnet-a", "hrnet-b"]
    assert [r["Run"] for r in pred["Regression-based"]] == ["dekr-a", "dekr-b", "custom-b"]
    assert [r["Run"] for r in pred["Classification-based"]] == ["simcc-a", "simcc-b", "rtmo-b"]
    header = list(para["Top-down methods"][0])
    assert header == ["Method", "Backbone", "Input", "Setting", "AP", "AP^S", "AP^M", "AP^L", "AP^S_Sp",
                      "AP^S_Mo", "AP^S_De", "AR", "surprise", "Run"]  # fmt: skip
    rows = {r["Run"]: r for g in para.values() for r in g}
    # Setting A row first, B row next to it with Method/Backbone left blank (paper layout)
    assert rows["sb-a"]["Method"] == "SimpleBaseline" and rows["sb-a"]["Setting"] == "A"
    assert rows["sb-b"]["Method"] == "" and rows["sb-b"]["Setting"] == "B"
    assert rows["hrnet-a"]["AP^M"] == "**52.3**"
    assert rows["dekr-b"]["AP^L"] == "22.8"
    assert rows["dekr-a"]["surprise"] == "–"
    assert rows["mynet-b"]["surprise"] == "1.900"
    assert rows["sb-b"]["AP"] == "68.2 ±1.3"  # CI [0.669, 0.695] -> half-width 1.3
    assert rows["sb-b"]["AP^S"] == "65.9 ±1.5"


def test_best_marks_per_setting(report_dir):
    md = parse_markdown((report_dir / "leaderboard.md").read_text())
    rows = {r["Run"]: r for g in md["By paradigm (as the paper's Table 2)"].values() for r in g}
    bold = {(run, col) for run, r in rows.items() for col, v in r.items() if v.startswith("**")}
    expected = {
        # Setting B (hand-read from the numbers above)
        ("simcc-b", "AP"), ("simcc-b", "AP^S"), ("rtmo-b", "AP^M"), ("hrnet-b", "AP^L"),
        ("simcc-b", "AP^S_Sp"), ("simcc-b", "AP^S_Mo"), ("simcc-b", "AP^S_De"), ("simcc-b", "AR"),
        ("simcc-b", "surprise"),  # lowest surprise wins: 1.75 < 1.9 < 2.5
        # Setting A: HRNet everywhere but AP^S_Sp (SimCC 18.7); AP^S_De tie at 0.1
        ("hrnet-a", "AP"), ("hrnet-a", "AP^S"), ("hrnet-a", "AP^M"), ("hrnet-a", "AP^L"),
        ("simcc-a", "AP^S_Sp"), ("hrnet-a", "AP^S_Mo"), ("hrnet-a", "AP^S_De"), ("sb-a", "AP^S_De"),
        ("hrnet-a", "AR"),
    }  # fmt: skip
    assert bold == expected


def test_html_is_self_contained_and_marks_best(report_dir):
    html = (report_dir / "leaderboard.html").read_text()
    for run in RUNS:
        assert f'data-run="{run[0]}"' in html
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith("data:image/png;base64,") for r in refs), refs
    assert "http://" not in html and "https://" not in html
    assert 'class="num best" data-v="68.8"' in html  # SimCC B AP
    assert 'title="95% CI [66.9, 69.5]"' in html
    assert 'addEventListener("click"' in html


def test_figures_written(report_dir):
    figs = sorted(p.name for p in (report_dir / "figures").glob("*.png"))
    assert figs == ["ap_by_size.png", "ap_vs_kd.png", "per_keypoint_ap.png"]
    for name in figs:
        with Image.open(report_dir / "figures" / name) as im:
            assert im.width > 400 and im.height > 250
            px = np.asarray(im.convert("RGB"), dtype=float)
        assert px.std() > 20, name  # not blank
        assert (report_dir / "leaderboard.md").read_text().count(f"(figures/{name})") == 1


def test_deterministic_bytes(tmp_path):
    paths = write_runs(tmp_path / "m", runs=RUNS[:4])
    outs = []
    for i in range(2):
        assert main(["report", *map(str, paths), "--out", str(tmp_path / f"o{i}")]) == 0
        outs.append(tmp_path / f"o{i}")
    for rel in ("leaderboard.md", "leaderboard.html", "figures/ap_by_size.png", "figures/ap_vs_kd.png"):
        assert (outs[0] / rel).read_bytes() == (outs[1] / rel).read_bytes(), rel
    assert b"Software" not in (outs[0] / "figures/ap_by_size.png").read_bytes()


def test_unknown_schema_refused(tmp_path, capsys):
    good = write_runs(tmp_path, runs=RUNS[:1])[0]
    bad = tmp_path / "bad.json"
    doc = metrics_doc(*RUNS[1])
    doc["schema"] = "smallpose-metrics/9"
    bad.write_text(json.dumps(doc))
    assert main(["report", str(good), str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(bad) in err and "smallpose-metrics/9" in err and "schema" in err
    assert not (tmp_path / "o" / "leaderboard.html").exists()


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{not json", "JSON"),
        (json.dumps([1, 2]), "not a metrics file"),
        (json.dumps({"schema": "smallpose-metrics/1", "run": {"name": "x"}, "metrics": {}}), "'gt'"),
        (json.dumps(dict(metrics_doc(*RUNS[0]), metrics={"AP": "high"})), "metrics.AP"),
        (json.dumps(dict(metrics_doc(*RUNS[0]), ci={"AP": [0.7]})), "ci.AP"),
        (json.dumps(dict(metrics_doc(*RUNS[0]), kd_curve=[{"kd_lo": 0}])), "kd_curve"),
        (json.dumps(dict(metrics_doc(*RUNS[0]), per_keypoint={"nose": "x"})), "per_keypoint.nose"),
    ],
)
def test_bad_metrics_files_one_line(tmp_path, capsys, content, needle):
    bad = tmp_path / "m.json"
    bad.write_text(content)
    assert main(["report", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and needle in err


def test_missing_curves_noted(tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps(metrics_doc(*RUNS[0], with_curves=False)))
    assert main(["report", str(p), "--out", str(tmp_path / "o")]) == 0
    md = (tmp_path / "o" / "leaderboard.md").read_text()
    assert "ap_vs_kd.png skipped: no run has a kd_curve" in md
    assert sorted(x.name for x in (tmp_path / "o" / "figures").glob("*.png")) == ["ap_by_size.png"]


def test_model_table_lookup():
    from smallpose.reports.groups import groups_for, lookup_model

    assert lookup_model("ViTPose") == ("top-down", "heatmap")
    assert lookup_model("vitpose_s_rle") == ("top-down", "regression")
    assert lookup_model("hrnet_w32") == ("top-down", "heatmap")
    assert lookup_model("simcc-res50") == ("top-down", "classification")
    assert lookup_model("RTMO") == ("single-stage", "classification")
    assert lookup_model("DEKR") == ("bottom-up", "regression")
    assert lookup_model("totally-new") == ("other", "other")
    assert groups_for("totally-new", paradigm="Single_Stage") == ("single-stage", "other")


def test_eval_style_document_accepted(tmp_path):
    """What ``smallpose eval`` writes: model null, per-keypoint dicts, null AP bins."""
    doc = metrics_doc(*RUNS[3])
    doc["run"]["model"] = None
    doc["run"]["name"] = "hrnet_w32_b"
    doc["per_keypoint"] = {"nose": {"AP": 0.5, "AP50": 0.7, "n_gt": 3}, "chest": {"AP": None, "n_gt": 0}}
    doc["kd_curve"][0]["AP"] = None
    p = tmp_path / "e.json"
    p.write_text(json.dumps(doc))
    from smallpose.reports.metrics_reader import read_metrics

    run = read_metrics(p)
    assert run.model == "hrnet_w32_b"  # the name stands in, and finds HRNet's group
    assert run.per_keypoint["nose"] == 0.5 and np.isnan(run.per_keypoint["chest"])
    assert main(["report", str(p), "--out", str(tmp_path / "o")]) == 0
    md = parse_markdown((tmp_path / "o" / "leaderboard.md").read_text())
    assert [r["Run"] for r in md["By paradigm (as the paper's Table 2)"]["Top-down methods"]] == [
        "hrnet_w32_b"
    ]
    assert oct((tmp_path / "o" / "leaderboard.html").stat().st_mode & 0o444) == oct(0o444)
