"""`smallpose build` on hand-built source tables: derived values, splits, ids, determinism."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest
from test_build_helpers import basic_tables, image, person, run_build, table

from smallpose import ids
from smallpose.errors import SmallPoseError
from smallpose.selection import Selection
from smallpose.splits import SplitConfig
from smallpose.store import open_store


def _by(df, col):
    return {r[col]: r for r in df.to_dict("records")}


def test_derived_values_and_default_split(tmp_path):
    run_build(tmp_path, basic_tables(), ["coco=coco.json", "posetrack=pt.json"])
    st = open_store(tmp_path / "store")
    im = _by(st.images_df(), "source_image_id")
    ins = _by(st.instances_df(), "source_ann_id")
    # source train -> train, source val -> test; vid0's val frame follows its video into train
    assert im["1"]["split"] == "train" and im["2"]["split"] == "test" and im["3"]["split"] == "test"
    assert [im[f"v0f{f}"]["split"] for f in range(4)] == ["train"] * 4
    assert {im[f"v1f{f}"]["split"] for f in range(4)} | {im["v2f0"]["split"]} == {"test"}
    # KD by hand: 96x64 box, K = 17, 10 points
    x = (96 * 64 / (128 * 96)) * (17 / 10)
    a = ins["10"]
    assert a["kd"] == pytest.approx(2 * (1 - 1 / (1 + math.exp(-x))), rel=1e-14)
    assert a["size_bucket"] == "S" and a["kd_class"] == "moderate" and a["num_keypoints"] == 10
    assert a["source_num_keypoints"] == 17 and a["bbox_area"] == a["area"] == 96 * 64
    assert ins["20"]["size_bucket"] == "L" and pd.isna(ins["20"]["kd_class"])
    assert ins["30"]["size_bucket"] == "L" and np.isnan(ins["30"]["kd"])  # 256*192 exactly: L; no points
    assert ins["v0f1#0"]["track_id"] == 1 and ins["v0f1#0"]["source_num_keypoints"] == 17
    # CI of image 2: 20's box holds both of 21's points (2/1), 21's box holds 20's point (1/2)
    assert im["2"]["crowd_index"] == pytest.approx(1.25) and im["1"]["crowd_index"] == 0.0
    assert np.isnan(im["3"]["crowd_index"]) and im["2"]["num_instances"] == 2
    assert im["v1f2"]["video_id"] == "vid1" and im["v1f2"]["frame_index"] == 2
    # rows sorted by image_id, then instance_id
    assert st.images_df()["image_id"].is_monotonic_increasing
    key = st.instances_df()[["image_id", "instance_id"]].to_records(index=False).tolist()
    assert key == sorted(key)
    m = st.manifest
    assert m["counts"]["images_per_split"] == {"train": 5, "test": 7}
    assert m["counts"]["instances_per_bucket"]["test"] == {"S": 6, "M": 0, "L": 2}
    assert m["counts"]["split_info"]["images_moved_to_train_with_their_video"] == 1
    src = m["sources"][0]
    body = (tmp_path / "coco.json").read_bytes()
    assert src["kind"] == "coco" and src["root"] == str(tmp_path)
    assert src["files"] == [{"path": str(tmp_path / "coco.json"), "sha256": hashlib.sha256(body).hexdigest(),
                             "size": len(body)}]  # fmt: skip
    assert m["tool"]["version"] and m["build"]["split"]["mode"] == "source"


def test_ids_stable_53_bit_and_independent_of_other_sources(tmp_path):
    run_build(tmp_path, basic_tables(), ["coco=coco.json", "posetrack=pt.json"], out="both")
    run_build(tmp_path, basic_tables(), ["coco=coco.json"], out="alone")
    both = open_store(tmp_path / "both").instances_df()
    alone = open_store(tmp_path / "alone").instances_df()
    m = both.merge(alone, on="source_ann_id", suffixes=("_b", "_a"))
    assert len(m) == 4
    assert (m.instance_id_b == m.instance_id_a).all() and (m.image_id_b == m.image_id_a).all()
    assert both.instance_id.between(1, 2**53 - 1).all() and both.instance_id.is_unique


def test_source_order_does_not_change_table_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    run_build(tmp_path, basic_tables(), ["coco=coco.json", "posetrack=pt.json"], out="a")
    run_build(tmp_path, basic_tables(), ["coco=coco.json", "posetrack=pt.json"], out="b")
    run_build(tmp_path, basic_tables(), ["posetrack=pt.json", "coco=coco.json"], out="c")
    for name in ("images.parquet", "instances.parquet", "manifest.json", "rejects.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for name in ("images.parquet", "instances.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "c" / name).read_bytes(), name
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["created"] == "2023-11-14T22:13:20Z"


def _videos(n_videos=40, frames=5, n_train_videos=10, stills=60):
    ims = [image(f"v{v}f{f}", "train" if v < n_train_videos else "val", video_id=f"v{v}", frame_index=f)
           for v in range(n_videos) for f in range(frames)]  # fmt: skip
    ims += [image(f"s{k}", "test") for k in range(stills)]
    people = [person(f"{i['source_image_id']}#0", i["source_image_id"], (0, 0, 9, 9)) for i in ims]
    return {"pt.json": table("posetrack", 17, ims, people)}


def _split_of(store):
    df = open_store(store).images_df()
    return dict(zip(df.source_image_id, df.split))


def test_hash_split_groups_videos_and_keeps_train_out(tmp_path):
    run_build(tmp_path, _videos(), ["posetrack=pt.json"], out="h1", split=SplitConfig(0.5, seed=3))
    run_build(tmp_path, _videos(), ["posetrack=pt.json"], out="h2", split=SplitConfig(0.5, seed=3))
    run_build(tmp_path, _videos(), ["posetrack=pt.json"], out="h3", split=SplitConfig(0.5, seed=4))
    s1, s2, s3 = (_split_of(tmp_path / h) for h in ("h1", "h2", "h3"))
    assert s1 == s2 and s1 != s3  # deterministic, and the seed matters
    for v in range(40):
        assert len({s1[f"v{v}f{f}"] for f in range(5)}) == 1  # a video never straddles
    assert all(s1[f"v{v}f0"] == "train" for v in range(10))  # source train never in test
    n_test = sum(s1[f"v{v}f0"] == "test" for v in range(10, 40)) + sum(
        s1[f"s{k}"] == "test" for k in range(60)
    )
    assert 25 <= n_test <= 65  # 90 eligible groups at F = 0.5 (binomial sd ~4.7)
    m = open_store(tmp_path / "h1").manifest["build"]["split"]
    assert m == {"mode": "hash", "test_fraction": 0.5, "seed": 3, "allow_train_in_test": False,
                 "group": m["group"]}  # fmt: skip
    run_build(tmp_path, _videos(), ["posetrack=pt.json"], out="h4", split=SplitConfig(0.5, 3, True))
    s4 = _split_of(tmp_path / "h4")
    assert any(s4[f"v{v}f0"] == "test" for v in range(10))
    assert all(len({s4[f"v{v}f{f}"] for f in range(5)}) == 1 for v in range(40))


def test_hash_split_independent_of_other_sources(tmp_path):
    tables = {**_videos(), **basic_tables()}
    cfg = SplitConfig(0.3, seed=1)
    run_build(tmp_path, tables, ["posetrack=pt.json"], out="one", split=cfg)
    run_build(tmp_path, tables, ["coco=coco.json", "posetrack=pt.json"], out="two", split=cfg)
    one, two = _split_of(tmp_path / "one"), _split_of(tmp_path / "two")
    assert all(two[k] == v for k, v in one.items())


def test_split_override_and_bad_split_config(tmp_path):
    run_build(tmp_path, basic_tables(), ["coco:test=coco.json"])
    st = open_store(tmp_path / "store")
    assert set(st.images_df().split) == {"test"}
    assert st.manifest["sources"][0]["split_override"] == "test"
    with pytest.raises(SmallPoseError, match="test-fraction"):
        SplitConfig(1.5)
    with pytest.raises(SmallPoseError, match="needs --test-fraction"):
        SplitConfig(None, 0, True)


def test_selection_flags(tmp_path):
    sel = Selection(keep_buckets=None, min_keypoints=0, frame_stride=2)
    run_build(tmp_path, basic_tables(), ["coco=coco.json", "posetrack=pt.json"], out="stride", selection=sel)
    kept = set(open_store(tmp_path / "stride").images_df().source_image_id)
    assert kept == {"1", "2", "3", "v0f0", "v0f2", "v1f0", "v1f2", "v2f0"}

    sel = Selection(keep_buckets=None, min_keypoints=2)
    run_build(tmp_path, basic_tables(), ["coco=coco.json"], out="minkp", selection=sel)
    st = open_store(tmp_path / "minkp")
    assert set(st.instances_df().source_ann_id) == {"10", "21"}
    im = _by(st.images_df(), "source_image_id")
    assert im["2"]["num_instances"] == 1 and im["3"]["num_instances"] == 0
    assert im["2"]["crowd_index"] == pytest.approx(1.25)  # CI is the scene's: computed before selection

    sel = Selection(keep_buckets=("L",))
    run_build(tmp_path, basic_tables(), ["coco=coco.json"], out="keepL", selection=sel)
    st = open_store(tmp_path / "keepL")
    assert set(st.images_df().source_image_id) == {"2", "3"}
    assert set(st.instances_df().source_ann_id) == {"20", "21", "30"}  # 21 (S) stays with its image
    c = st.manifest["counts"]["selection_dropped"]
    assert c["images_keep_buckets"] == 1 and c["instances_keep_buckets"] == 1
    assert st.manifest["build"]["selection"]["keep_buckets"] == ["L"]
    with pytest.raises(SmallPoseError, match="keep-buckets"):
        Selection(keep_buckets=Selection.parse_buckets("S,X"))


def test_id_collision_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(ids, "hash53", lambda key: 42)
    with pytest.raises(ids.IdCollisionError, match="collision"):
        run_build(tmp_path, basic_tables(), ["coco=coco.json"])
    assert not (tmp_path / "store").exists()


def test_empty_and_missing_inputs(tmp_path):
    with pytest.raises(SmallPoseError, match="no such file"):
        run_build(tmp_path, {}, ["coco=missing.json"])
    t = {"e.json": table("aic", 14, [image("a")], [person("1", "a", (0, 0, 10, 10))])}
    run_build(tmp_path, t, ["aic=e.json"])
    st = open_store(tmp_path / "store")
    assert st.images.num_rows == 1 and st.instances["kd"].null_count == 1
