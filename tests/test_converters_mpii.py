"""MPII: the HRNet/mmpose json (real fixture) and the official .mat layout (synthetic, irregular)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from smallpose.converters import mpii

from smallpose.errors import InputError
from smallpose.skeleton import INDEX


def test_json_fixture_values_and_box_by_hand(fixtures_dir):
    t = mpii.convert(fixtures_dir / "mpii" / "test_mpii.json")
    assert t.K == 16 and len(t.images) == 5 and len(t.instances) == 5 and len(t.rejects) == 0
    assert set(t.images.source_split) == {"test"}  # "test" in the file name
    assert t.images.width.tolist() == [0] * 5  # the json has no image size
    i = t.images.source_image_id.tolist().index("052475643.jpg")
    row = t.instances.iloc[i]
    assert row.source_ann_id == "052475643.jpg#0"
    # joints (1-based): x from 281 (r_elbow) to 403 (l_knee), y from 105.8949 (head_top) to 412 (r_ankle);
    # 0-based: x 280..402 (w 122), y 104.8949..411 (h 306.1051); padded by 10 % of w/h on each side
    assert row.bbox_x == pytest.approx(280 - 12.2, abs=1e-9)
    assert row.bbox_w == pytest.approx(146.4, abs=1e-9)
    assert row.bbox_y == pytest.approx(104.8949 - 30.61051, abs=1e-9)
    assert row.bbox_h == pytest.approx(367.32612, abs=1e-9)
    assert np.isnan(row.head_x)  # the json has no head rectangle
    kp = t.keypoints[i]
    assert kp[INDEX["right_ankle"]].tolist() == [316, 411, 2]  # joint 0: 317, 412
    assert kp[INDEX["pelvis"]].tolist() == [321, 274, 2]  # joint 6: 322, 275
    assert kp[INDEX["chest"]].tolist() == [326, 171, 2]  # joint 7 thorax: 327, 172
    assert kp[INDEX["head_bottom"]].tolist() == pytest.approx([328.9945, 161.1051, 2])  # upper_neck
    assert kp[INDEX["head_top"]].tolist() == pytest.approx([346.0055, 104.8949, 2])
    assert kp[INDEX["left_wrist"]].tolist() == [391, 166, 2]  # joint 15: 392, 167
    for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear"):
        assert kp[INDEX[name]].tolist() == [0, 0, 0]


def _entry(image, vis=None, **over):
    joints = [[11.0 + 3 * j, 21.0 + 5 * j] for j in range(16)]
    vis = vis if vis is not None else [1] * 16
    return {"image": image, "joints": joints, "joints_vis": vis, "center": [30.0, 60.0], "scale": 0.5, **over}


def test_json_missing_joints_positions_and_fallback_box(tmp_path):
    vis = [0] * 16
    vis[6] = 1  # a single annotated joint: no extent, so MPII's own center/scale gives the box
    entries = [
        _entry("a.jpg"),
        {"image": "b.jpg", "center": [5.0, 5.0], "scale": 1.0},  # test-set entry: no ground truth
        _entry("a.jpg", vis=vis),
        _entry("c.jpg", vis=[0] * 16),  # nothing annotated: not ground truth either
    ]
    f = tmp_path / "valid.json"
    f.write_text(json.dumps(entries))
    t = mpii.convert(f)
    assert t.images.source_image_id.tolist() == ["a.jpg"] and t.images.source_split.tolist() == ["val"]
    assert t.instances.source_ann_id.tolist() == ["a.jpg#0", "a.jpg#1"] and len(t.rejects) == 0
    single = t.instances.iloc[1]
    # center (30, 60) -> 0-based (29, 59); side 200 * 0.5 = 100
    assert [single.bbox_x, single.bbox_y, single.bbox_w, single.bbox_h] == [-21, 9, 100, 100]
    assert t.keypoints[1, INDEX["pelvis"]].tolist() == [28, 50, 2]  # joint 6: (11 + 18, 21 + 30) - 1
    assert int((t.keypoints[1, :, 2] > 0).sum()) == 1  # missing joints are (0, 0, 0)
    assert t.keypoints[1, INDEX["right_ankle"]].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "over, field, reason",
    [
        ({"joints": [[1.0, 2.0]] * 15}, "joints", "wrong keypoint count"),
        ({"joints_vis": [1] * 17}, "joints_vis", "wrong keypoint count"),
        ({"joints": [[1.0, "2"]] * 16}, "joints", "wrong type"),
        ({"joints": [[1.0, float("nan")]] * 16}, "joints", "non-finite value"),
        ({"joints_vis": [2] * 16}, "joints", "bad visibility"),
        ({"scale": "big"}, "scale", "wrong type"),
        ({"image": "/abs/x.jpg"}, "image", "unsafe file_name"),
    ],
)
def test_json_bad_records(tmp_path, over, field, reason):
    f = tmp_path / "train.json"
    f.write_text(json.dumps([_entry("ok.jpg"), {**_entry("bad.jpg"), **over}]))
    t = mpii.convert(f)
    assert "ok.jpg" in t.images.source_image_id.tolist() and len(t.instances) == 1
    assert reason in t.rejects.counts()
    assert [r.field for r in t.rejects.items if r.reason == reason] == [field]
    with pytest.raises(InputError) as err:
        mpii.convert(f, strict=True)
    assert err.value.file == str(f) and err.value.record.startswith("[1] (")


# ---------------------------------------------------------------- the official .mat layout


def _structs(dicts, fields):
    """A MATLAB struct array; loadmat(squeeze_me=True) returns a bare struct when it has one element."""
    a = np.zeros((len(dicts),), dtype=[(f, "O") for f in fields])
    for i, d in enumerate(dicts):
        for f in fields:
            a[i][f] = d.get(f, np.zeros((0,)))
    return a


def _pt(i, x, y, v):
    return {"id": i, "x": x, "y": y, "is_visible": v}


PT = ["id", "x", "y", "is_visible"]
RECT = ["x1", "y1", "x2", "y2", "annopoints", "objpos", "scale"]


def _release(path, annolist, img_train):
    from scipy.io import savemat

    savemat(
        path, {"RELEASE": {"annolist": _structs(annolist, ["image", "annorect"]), "img_train": img_train}}
    )


def _irregular_release(path):
    # person 1: points as an array; is_visible 1, '0', empty and '1'; a head rectangle
    p1 = _structs([_pt(0, 11.0, 101.0, 1), _pt(9, 21.0, 1.0, "0"), _pt(7, 31.0, 51.0, np.zeros((0,))),
                   _pt(13, 41.0, 41.0, "1")], PT)  # fmt: skip
    r1 = {"x1": 16.0, "y1": 1.0, "x2": 26.0, "y2": 13.0, "annopoints": {"point": p1},
          "objpos": {"x": 26.0, "y": 51.0}, "scale": 0.5}  # fmt: skip
    r2 = {"objpos": {"x": 100.0, "y": 100.0}, "scale": 1.0}  # no annopoints: skipped
    a = {"image": {"name": "a.jpg"}, "annorect": _structs([r1, r2], RECT)}
    # one annorect (a bare struct) whose one point is a bare struct too
    one_point = _structs([_pt(6, 51.0, 61.0, 1)], PT)
    single = {"annopoints": {"point": one_point}, "objpos": {"x": 51.0, "y": 61.0}, "scale": 0.25}
    b = {"image": {"name": "b.jpg"}, "annorect": _structs([single], RECT)}
    c = {
        "image": {"name": "c.jpg"},
        "annorect": _structs([{"objpos": {"x": 5.0, "y": 5.0}, "scale": 1.0}], RECT),
    }
    d = {"image": {"name": "d.jpg"}, "annorect": np.zeros((0,))}  # empty annorect
    e = {"image": {"name": "e.jpg"}, "annorect": _structs([{"annopoints": np.zeros((0,))}], RECT)}
    _release(path, [a, b, c, d, e], np.array([1, 0, 0, 1, 1]))


def test_mat_irregularities_by_hand(tmp_path):
    f = tmp_path / "mpii_human_pose_v1_u12_1.mat"
    _irregular_release(f)
    t = mpii.convert(f)
    assert len(t.rejects) == 0
    # only images with at least one person with joints; split from img_train (b.jpg is 0: test)
    assert t.images.source_image_id.tolist() == ["a.jpg", "b.jpg"]
    assert t.images.source_split.tolist() == ["train", "test"]
    assert t.instances.source_ann_id.tolist() == ["a.jpg#0", "b.jpg#0"]
    kp = t.keypoints[0]
    expected = {
        "right_ankle": [10, 100, 2],  # id 0, is_visible 1 -> visible
        "head_top": [20, 0, 1],  # id 9, is_visible '0' -> occluded
        "chest": [30, 50, 2],  # id 7 thorax, is_visible empty -> annotated, stored as visible
        "left_shoulder": [40, 40, 2],  # id 13, is_visible '1'
    }
    for name, i in INDEX.items():
        assert kp[i].tolist() == expected.get(name, [0, 0, 0]), name
    a, b = t.instances.iloc[0], t.instances.iloc[1]
    # joints x 10..40, y 0..100 -> padded 10 % each side
    assert [a.bbox_x, a.bbox_y, a.bbox_w, a.bbox_h] == [7, -10, 36, 120]
    assert [a.head_x, a.head_y, a.head_w, a.head_h] == [15, 0, 10, 12]  # x1 16 y1 1 x2 26 y2 13, 0-based
    # one joint: square of 200 * 0.25 around objpos (51, 61) -> (50, 60) 0-based
    assert [b.bbox_x, b.bbox_y, b.bbox_w, b.bbox_h] == [25, 35, 50, 50]
    assert np.isnan(b.head_x)
    assert mpii.convert(f, split="val").images.source_split.tolist() == ["val", "val"]


def test_mat_and_json_agree_on_the_same_person(tmp_path):
    joints = [[11.0 + 3 * j, 21.0 + 5 * j] for j in range(16)]
    pts = _structs([_pt(j, x, y, 1) for j, (x, y) in enumerate(joints)], PT)
    rect = {"annopoints": {"point": pts}, "objpos": {"x": 30.0, "y": 60.0}, "scale": 0.5}
    _release(
        tmp_path / "r.mat", [{"image": {"name": "a.jpg"}, "annorect": _structs([rect], RECT)}], np.array([1])
    )
    (tmp_path / "train.json").write_text(json.dumps([_entry("a.jpg")]))
    m, j = mpii.convert(tmp_path / "r.mat"), mpii.convert(tmp_path / "train.json")
    np.testing.assert_array_equal(m.keypoints, j.keypoints)
    cols = ["source_ann_id", "bbox_x", "bbox_y", "bbox_w", "bbox_h"]
    assert m.instances[cols].values.tolist() == j.instances[cols].values.tolist()


def test_mat_bad_points_and_damaged_file(tmp_path):
    bad_id = _structs([_pt(16, 1.0, 1.0, 1), _pt(0, 1.0, 1.0, 1)], PT)
    dup = _structs([_pt(3, 1.0, 1.0, 1), _pt(3, 5.0, 5.0, 1)], PT)
    vis = _structs([_pt(3, 1.0, 1.0, "yes"), _pt(4, 5.0, 9.0, 1)], PT)
    good = _structs([_pt(3, 1.0, 1.0, 1), _pt(4, 5.0, 9.0, 1)], PT)
    rects = _structs([{"annopoints": {"point": p}} for p in (bad_id, dup, vis, good)], RECT)
    f = tmp_path / "r.mat"
    _release(f, [{"image": {"name": "a.jpg"}, "annorect": rects}], np.array([1]))
    t = mpii.convert(f)
    assert t.instances.source_ann_id.tolist() == ["a.jpg#3"]
    assert [(r.field, r.reason) for r in t.rejects.items] == [
        ("annopoints.point.id", "bad joint id"), ("annopoints.point.id", "duplicate id"),
        ("joints", "bad visibility"),
    ]  # fmt: skip
    assert t.rejects.items[0].record == "annolist(1).annorect(1) (a.jpg#0)"
    with pytest.raises(
        InputError, match=r"record annolist\(1\).annorect\(1\) \(a.jpg#0\): field 'annopoints"
    ):
        mpii.convert(f, strict=True)
    broken = tmp_path / "broken.mat"
    broken.write_bytes(f.read_bytes()[:100])
    t = mpii.convert(broken)
    assert len(t.images) == 0 and t.rejects.counts() == {"malformed mat": 1}
