"""Bad input, strict mode, interrupted builds and one-line CLI errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_build_helpers import basic_tables, image, inputs, person, run_build, table

import smallpose.build as build_mod
from smallpose import cli
from smallpose.errors import InputError, SmallPoseError
from smallpose.store import open_store

TESTS = Path(__file__).resolve().parent


def _bad_tables():
    good = table("coco", 17, [image("1"), image("2")], [
        person("a", "1", (0, 0, 10, 10), {0: (1, 1, 2)}),
        person("b", "1", (0, 0, 0, 10), {0: (1, 1, 2)}),  # zero width
        person("c", "9", (0, 0, 10, 10)),  # image 9 does not exist
        person("a", "1", (5, 5, 10, 10)),  # duplicate annotation id
    ], rejects=[("coco.json", 7, "keypoints", "expected 51 numbers")])  # fmt: skip
    again = table("coco", 17, [image("2"), image("3")], [person("x", "2", (0, 0, 10, 10))])
    return {"coco.json": good, "coco2.json": again}


def test_rejects_are_skipped_counted_and_written(tmp_path):
    res = run_build(tmp_path, _bad_tables(), ["coco=coco.json", "coco=coco2.json"])
    st = open_store(tmp_path / "store")
    assert sorted(st.instances_df().source_ann_id) == ["a"]
    assert sorted(st.images_df().source_image_id) == ["1", "2", "3"]
    lines = [json.loads(x) for x in (tmp_path / "store" / "rejects.jsonl").read_text().splitlines()]
    assert lines[0] == {
        "file": "coco.json",
        "record": "7",
        "field": "keypoints",
        "reason": "expected 51 numbers",
    }
    by_field = {r["field"]: r for r in lines[1:]}
    assert by_field["source_image_id"]["file"] == str(tmp_path / "coco2.json")
    assert set(by_field) == {"source_image_id", "bbox", "source_ann_id"}
    reasons = {r["reason"] for r in lines}
    assert any(r.startswith("duplicate image (already read from") for r in reasons)
    assert len(lines) == 6  # converter's 1 + dup image, its instance x, bad bbox, unknown image, dup id
    assert sum(res.reject_counts.values()) == 6
    assert sum(st.manifest["counts"]["rejects"].values()) == 6


def test_strict_fails_at_first_bad_record(tmp_path):
    t = {"coco.json": table("coco", 17, [image("1")], [person("b", "1", (0, 0, 10, float("nan")))])}
    with pytest.raises(InputError) as e:
        run_build(tmp_path, t, ["coco=coco.json"], strict=True)
    assert e.value.file.endswith("coco.json") and e.value.record == "b" and e.value.field == "bbox"
    assert not (tmp_path / "store").exists()


def test_cli_reject_summary_and_one_line_errors(tmp_path, monkeypatch, capsys):
    conv = inputs(tmp_path, _bad_tables())
    monkeypatch.setattr(build_mod, "default_convert", conv)
    monkeypatch.setenv("SMALLPOSE_QUIET", "1")
    out = tmp_path / "s"
    rc = cli.main(["build", "--source", f"coco={tmp_path / 'coco.json'}", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 0 and len(err) == 4  # one line per reason
    assert all(line.startswith("smallpose build: skipped 1 record(s): ") for line in err)

    bad_args = [
        ["--source", "nosuch=x.json"],
        ["--source", f"coco={tmp_path / 'absent.json'}"],
        ["--source", "coco:dev=x.json"],
        ["--source", f"coco={tmp_path / 'coco.json'}", "--keep-buckets", "S,XL"],
        ["--source", f"coco={tmp_path / 'coco.json'}", "--test-fraction", "2"],
        ["--source", f"coco={tmp_path / 'coco.json'}", "--min-keypoints", "-1"],
        ["--source", f"coco={tmp_path / 'coco.json'}", "--strict"],
    ]
    for extra in bad_args:
        rc = cli.main(["build", *extra, "--out", str(tmp_path / "t")])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and err[0].startswith("smallpose build: error: "), (extra, err)
    assert not (tmp_path / "t").exists()


def test_cli_subprocess_error_is_one_line(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "smallpose", "build", "--source", "coco=/nonexistent.json",
         "--out", str(tmp_path)], capture_output=True, text=True,
    )  # fmt: skip
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "no such file" in p.stderr


def test_refuses_to_replace_a_non_store(tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("x")
    with pytest.raises(SmallPoseError, match="not a SmallPose store"):
        run_build(tmp_path, basic_tables(), ["coco=coco.json"], out="precious")
    assert (tmp_path / "precious" / "thesis.tex").read_text() == "x"


def test_concurrent_build_into_same_store_is_refused(tmp_path):
    with build_mod.build_lock(tmp_path / "store"):
        with pytest.raises(SmallPoseError, match="another build"):
            run_build(tmp_path, basic_tables(), ["coco=coco.json"])


_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_build_helpers import basic_tables, run_build
run_build(Path({tmp!r}), basic_tables(), ["coco=coco.json"])
"""


@pytest.mark.slow
def test_killed_build_leaves_previous_store_intact(tmp_path):
    run_build(tmp_path, basic_tables(), ["coco=coco.json", "posetrack=pt.json"])
    store = tmp_path / "store"
    before = {p.name: p.read_bytes() for p in store.iterdir()}
    env = {**os.environ, "SMALLPOSE_TEST_PAUSE_BEFORE_SWAP": "60", "SMALLPOSE_QUIET": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(tests=str(TESTS), tmp=str(tmp_path))], env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".store.building-*/manifest.json")):
            assert child.poll() is None and time.monotonic() < deadline, "child build ended early"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)  # with the finished temp store beside the old one
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert {p.name: p.read_bytes() for p in store.iterdir()} == before
    assert open_store(store).images.num_rows == 12
    assert list(tmp_path.glob(".store.building-*"))  # the dead build's leftovers
    run_build(tmp_path, basic_tables(), ["coco=coco.json"])  # the next build cleans them and succeeds
    assert not list(tmp_path.glob(".store.building-*"))
    assert open_store(store).images.num_rows == 3


def test_restores_store_renamed_away_by_a_crash(tmp_path):
    run_build(tmp_path, basic_tables(), ["coco=coco.json"])
    os.rename(tmp_path / "store", tmp_path / ".store.old-12345")  # crash between the two renames
    with build_mod.build_lock(tmp_path / "store"):
        pass
    assert open_store(tmp_path / "store").images.num_rows == 3
