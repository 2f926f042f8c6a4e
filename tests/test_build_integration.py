"""The build through the real converters, on the real native fixtures and on synth data.

Skips (with the reason) while the converter or synth modules are absent; values are checked
against the raw json files read here, not against the build's own output.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

from smallpose import cli
from smallpose.store import open_store


def _need(module: str, attr: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    mod = importlib.import_module(module)
    if not hasattr(mod, attr):
        pytest.skip(f"{module}.{attr} is not written yet")


def _sources(fx):
    return [
        f"coco={fx / 'coco' / 'test_coco.json'}",
        f"mpii={fx / 'mpii' / 'test_mpii.json'}",
        f"aic={fx / 'aic' / 'test_aic.json'}",
        f"posetrack={fx / 'posetrack18' / 'annotations' / 'val'}",
        f"crowdpose={fx / 'crowdpose' / 'test_crowdpose.json'}",
    ]


@pytest.fixture
def fixture_store(fixtures_dir, tmp_path, monkeypatch):
    _need("smallpose.converters", "convert")
    monkeypatch.setenv("SMALLPOSE_QUIET", "1")
    args = ["build", "--out", str(tmp_path / "store")]
    for s in _sources(fixtures_dir):
        args += ["--source", s]
    assert cli.main(args) == 0
    return open_store(tmp_path / "store")


def test_fixture_counts_match_the_raw_files(fixture_store, fixtures_dir):
    st = fixture_store
    im, ins = st.images_df(), st.instances_df()
    coco = json.loads((fixtures_dir / "coco" / "test_coco.json").read_text())
    aic = json.loads((fixtures_dir / "aic" / "test_aic.json").read_text())
    mpii = json.loads((fixtures_dir / "mpii" / "test_mpii.json").read_text())
    crowd = json.loads((fixtures_dir / "crowdpose" / "test_crowdpose.json").read_text())
    for src, n_img, n_ann in [
        ("coco", len(coco["images"]), len(coco["annotations"])),
        ("aic", len(aic["images"]), len(aic["annotations"])),
        ("mpii", len({r["image"] for r in mpii}), len(mpii)),
        ("crowdpose", len(crowd["images"]), len(crowd["annotations"])),
    ]:
        assert (im.source == src).sum() == n_img and (ins.source == src).sum() == n_ann, src
    assert set(im.split) == {"test"}  # every fixture is a val/test split
    # every COCO instance: bucket and KD from its raw bbox and keypoints, by hand
    kp = st.keypoints()
    for a in coco["annotations"]:
        row = ins[(ins.source == "coco") & (ins.source_ann_id == str(a["id"]))]
        assert len(row) == 1
        r = row.iloc[0]
        x, y, w, h = a["bbox"]
        assert r.bbox_area == pytest.approx(w * h)
        assert r.size_bucket == ("S" if w * h < 12288 else "M" if w * h < 49152 else "L")
        n = sum(v > 0 for v in a["keypoints"][2::3])
        assert r.num_keypoints == n == int((kp[row.index[0], :, 2] > 0).sum())
        if n:
            assert r.kd == pytest.approx(2 * (1 - 1 / (1 + math.exp(-(w * h / 12288) * (17 / n)))), rel=1e-12)
        else:
            assert np.isnan(r.kd)
    for s in st.manifest["sources"]:
        assert s["images_found_under_root"], s["kind"]  # file_name resolves against the recorded root


def test_crowd_index_agrees_with_crowdpose(fixture_store, fixtures_dir):
    crowd = json.loads((fixtures_dir / "crowdpose" / "test_crowdpose.json").read_text())
    im = fixture_store.images_df()
    for img in crowd["images"]:
        (ci,) = im.loc[(im.source == "crowdpose") & (im.source_image_id == str(img["id"])), "crowd_index"]
        assert abs(ci - img["crowdIndex"]) <= 0.005 + 1e-12  # published to 2 decimals


def test_posetrack_videos_stay_whole_in_a_hash_split(fixtures_dir, tmp_path, monkeypatch):
    _need("smallpose.converters", "convert")
    monkeypatch.setenv("SMALLPOSE_QUIET", "1")
    src = f"posetrack={fixtures_dir / 'posetrack18' / 'annotations' / 'val'}"
    for seed in range(4):
        out = tmp_path / f"s{seed}"
        args = ["build", "--source", src, "--out", str(out), "--test-fraction", "0.5", "--seed", str(seed)]
        assert cli.main(args) == 0
        im = open_store(out).images_df()
        assert im.video_id.notna().all()
        assert (im.groupby("video_id").split.nunique() == 1).all()


def test_bad_record_skipped_or_strict(fixtures_dir, tmp_path, capsys, monkeypatch):
    _need("smallpose.converters", "convert")
    monkeypatch.setenv("SMALLPOSE_QUIET", "1")
    d = json.loads((fixtures_dir / "coco" / "test_coco.json").read_text())
    bad_id = d["annotations"][3]["id"]
    d["annotations"][3]["bbox"] = "oops"
    bad = tmp_path / "bad_coco.json"
    bad.write_text(json.dumps(d))
    assert cli.main(["build", "--source", f"coco={bad}", "--out", str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped 1 record(s)" in err[0]
    (rej,) = [json.loads(x) for x in (tmp_path / "s" / "rejects.jsonl").read_text().splitlines()]
    assert rej["field"] == "bbox" and str(bad_id) in rej["record"]
    assert open_store(tmp_path / "s").instances.num_rows == len(d["annotations"]) - 1
    rc = cli.main(["build", "--source", f"coco={bad}", "--out", str(tmp_path / "t"), "--strict"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "bad_coco.json" in err[0] and "bbox" in err[0]
    assert not (tmp_path / "t").exists()


def synth_sources(root) -> list[str]:
    """--source arguments for a synth corpus, from its SOURCES.json listing."""
    listing = json.loads((root / "SOURCES.json").read_text())
    out = []
    for e in listing:
        head = e["kind"] + (f":{e['split']}" if e.get("split") else "")
        out += ["--source", f"{head}={root / e['path']}"]
    return out


@pytest.mark.slow
def test_synth_corpus_builds_deterministically(tmp_path):
    _need("smallpose.synth", "generate")
    _need("smallpose.converters", "convert")
    from smallpose.synth import generate

    roots = generate(tmp_path / "synth", "tiny", False, 0)
    cmd = [sys.executable, "-m", "smallpose", "build", "--out"]
    srcs = synth_sources(tmp_path / "synth")
    env = {"SOURCE_DATE_EPOCH": "1700000000", "SMALLPOSE_QUIET": "1", "PATH": "/usr/bin:/bin"}
    for out in ("a", "b"):
        p = subprocess.run([*cmd, str(tmp_path / out), *srcs], capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr
    for name in ("images.parquet", "instances.parquet", "manifest.json", "rejects.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    st = open_store(tmp_path / "a")
    assert set(st.images_df().source) == {k for k, _ in roots}
    im = st.images_df()
    vids = im[im.video_id.notna()]
    assert (vids.groupby(["source", "video_id"]).split.nunique() == 1).all()
    shutil.rmtree(tmp_path / "synth")
