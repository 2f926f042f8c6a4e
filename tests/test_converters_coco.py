"""COCO (and the COCO-style reader shared with CrowdPose, PoseTrack and mmpose's AIC).

Values are read by hand from ../shared/fixtures/coco/test_coco.json; the bad-input cases
run on a small synthetic file written here, in strict and in non-strict mode.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from smallpose.converters import coco, convert

from smallpose.errors import InputError
from smallpose.skeleton import INDEX


def test_fixture_values_by_hand(fixtures_dir):
    t = convert("coco", fixtures_dir / "coco" / "test_coco.json", split="val")
    assert t.source == "coco" and t.K == 17 and len(t.rejects) == 0
    assert len(t.images) == 4 and len(t.instances) == 14  # both num_keypoints 0 persons kept
    assert t.files == [fixtures_dir / "coco" / "test_coco.json"]
    img = t.images.set_index("source_image_id").loc["40083"]
    assert (img.file_name, img.width, img.height, img.source_split) == ("000000040083.jpg", 500, 333, "val")
    i = int(np.flatnonzero(t.instances.source_ann_id == "198196")[0])
    row = t.instances.iloc[i]
    assert row.source_image_id == "40083"
    assert [row.bbox_x, row.bbox_y, row.bbox_w, row.bbox_h] == [38.08, 110.95, 174.71, 174.71]
    assert row.source_area == 11025.219 and not row.iscrowd and row.track_id is pd_na()
    kp = t.keypoints[i]
    # native: nose 99,144,2; left_ear 0,0,0; right_ear 78,133,2; left_elbow 0,0,0; left_wrist 116,204,2;
    # right_wrist 0,0,0; left_hip 57,246,1; right_ankle 158,296,1
    assert kp[INDEX["nose"]].tolist() == [99, 144, 2]
    assert kp[INDEX["left_ear"]].tolist() == [0, 0, 0]
    assert kp[INDEX["right_ear"]].tolist() == [78, 133, 2]
    assert kp[INDEX["left_elbow"]].tolist() == [0, 0, 0]
    assert kp[INDEX["left_wrist"]].tolist() == [116, 204, 2]
    assert kp[INDEX["right_wrist"]].tolist() == [0, 0, 0]
    assert kp[INDEX["left_hip"]].tolist() == [57, 246, 1]
    assert kp[INDEX["right_ankle"]].tolist() == [158, 296, 1]
    for name in ("head_top", "head_bottom", "chest", "pelvis"):  # COCO never annotates these
        assert t.keypoints[:, INDEX[name]].tolist() == [[0, 0, 0]] * 14
    assert int((t.keypoints[i, :, 2] > 0).sum()) == 14  # the file's num_keypoints
    empty = t.instances.source_ann_id == "1202706"  # num_keypoints 0: kept as a COCO ignore
    assert t.keypoints[empty.to_numpy()].sum() == 0


def pd_na():
    import pandas as pd

    return pd.NA


def test_split_from_coco_file_name(tmp_path, fixtures_dir):
    data = json.loads((fixtures_dir / "coco" / "test_coco.json").read_text())
    (tmp_path / "person_keypoints_val2017.json").write_text(json.dumps(data))
    assert set(coco.convert(tmp_path).images.source_split) == {"val"}
    (tmp_path / "person_keypoints_val2017.json").rename(tmp_path / "keypoints.json")
    assert set(coco.convert(tmp_path).images.source_split) == {"train"}  # unknown: train


# ---------------------------------------------------------------- bad input


def _kp(seed: int) -> list:
    rng = np.random.default_rng(seed)
    xy = rng.integers(10, 90, size=(17, 2))
    return [int(v) for p in xy for v in (*p, 2)]


GOOD = {
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 100, "height": 100},
        {"id": 2, "file_name": "b.jpg", "width": 100, "height": 100},
    ],
    "annotations": [
        {"id": 101, "image_id": 1, "bbox": [1, 2, 30, 40], "keypoints": _kp(1), "iscrowd": 0, "area": 900.0},
        {"id": 102, "image_id": 2, "bbox": [5, 5, 50, 60], "keypoints": _kp(2), "iscrowd": 0, "area": 1800.0},
        {"id": 103, "image_id": 2, "bbox": [9, 9, 20, 20], "keypoints": _kp(3), "iscrowd": 1, "area": 300.0},
    ],
    "categories": [{"id": 1, "name": "person"}],
}


def _set(path: str, value):
    def mutate(d):
        where, i, key, *rest = path.split(".")
        rec = d[where][int(i)]
        if rest:
            rec[key][int(rest[0])] = value
        else:
            rec[key] = value

    return mutate


# (mutation, record named in the message, field, reason, instances kept, images kept)
CASES = {
    "nan keypoint": (_set("annotations.1.keypoints.3", math.nan), "102", "keypoints",
                     "non-finite value", 2, 2),
    "inf box": (_set("annotations.1.bbox.0", math.inf), "102", "bbox", "non-finite value", 2, 2),
    "zero width": (_set("annotations.1.bbox.2", 0), "102", "bbox", "non-positive box", 2, 2),
    "negative height": (_set("annotations.1.bbox.3", -4), "102", "bbox", "non-positive box", 2, 2),
    "short keypoints": (_set("annotations.1.keypoints", _kp(2)[:-3]), "102", "keypoints",
                        "wrong keypoint count", 2, 2),
    "string keypoint": (_set("annotations.1.keypoints.0", "12"), "102", "keypoints", "wrong type", 2, 2),
    "bbox string": (_set("annotations.1.bbox", "5,5,50,60"), "102", "bbox", "wrong type", 2, 2),
    "visibility 3": (_set("annotations.1.keypoints.2", 3), "102", "keypoints", "bad visibility", 2, 2),
    "duplicate ann id": (_set("annotations.1.id", 101), "101", "id", "duplicate id", 2, 2),
    "unknown image": (_set("annotations.1.image_id", 7), "102", "image_id", "unknown image", 2, 2),
    "area string": (_set("annotations.1.area", "big"), "102", "area", "wrong type", 2, 2),
    "duplicate image id": (_set("images.1.id", 1), "1", "id", "duplicate id", 1, 1),
    "absolute file_name": (_set("images.1.file_name", "/etc/passwd"), "2", "file_name",
                           "unsafe file_name", 1, 1),
    "climbing file_name": (_set("images.1.file_name", "../../b.jpg"), "2", "file_name",
                           "unsafe file_name", 1, 1),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_record_non_strict_rejects_and_keeps_the_rest(tmp_path, case):
    mutate, record, field, reason, n_inst, n_img = CASES[case]
    data = copy.deepcopy(GOOD)
    mutate(data)
    f = tmp_path / "person_keypoints_train2017.json"
    f.write_text(json.dumps(data))  # NaN/Infinity written as json's common extension
    t = coco.convert(f)
    assert len(t.instances) == n_inst and len(t.images) == n_img
    assert t.rejects.counts()[reason] == 1
    first = t.rejects.items[0]
    assert (first.file, first.record, first.field, first.reason) == (str(f), record, field, reason)
    if n_img == 1 and "file_name" in case:  # the refused image's persons follow it, under their own reason
        assert t.rejects.counts()["rejected image"] == 2


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_record_strict_names_file_record_field(tmp_path, case):
    mutate, record, field, reason, _, _ = CASES[case]
    data = copy.deepcopy(GOOD)
    mutate(data)
    f = tmp_path / "x.json"
    f.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        coco.convert(f, strict=True)
    e = err.value
    assert (e.file, str(e.record), e.field, e.reason) == (str(f), record, field, reason)
    assert str(e) == f"{f}: record {record}: field '{field}': {reason}"


def test_good_file_converts_exactly(tmp_path):
    f = tmp_path / "x.json"
    f.write_text(json.dumps(GOOD))
    t = coco.convert(f)
    assert len(t.rejects) == 0 and t.instances.iscrowd.tolist() == [False, False, True]
    assert t.instances.source_area.tolist() == [900.0, 1800.0, 300.0]
    nose = GOOD["annotations"][0]["keypoints"][:3]
    assert t.keypoints[0, INDEX["nose"]].tolist() == nose


def test_truncated_file_is_rejected_whole_and_the_rest_kept(tmp_path):
    (tmp_path / "a_good.json").write_text(json.dumps(GOOD))
    text = json.dumps({**GOOD, "images": [{"id": 9, "file_name": "z.jpg", "width": 1, "height": 1}]})
    (tmp_path / "b_cut.json").write_text(text[: len(text) // 2])
    t = coco.convert(tmp_path)
    assert len(t.instances) == 3 and len(t.images) == 2
    assert [r.reason for r in t.rejects.items] == ["malformed json"]
    assert t.rejects.items[0].record.startswith("line 1 col ")
    assert t.files == [tmp_path / "a_good.json", tmp_path / "b_cut.json"]
    with pytest.raises(InputError, match=r"b_cut.json: record line 1 col \d+: malformed json"):
        coco.convert(tmp_path, strict=True)


@pytest.mark.parametrize("top", [[], {"images": []}, {"images": {}, "annotations": []}, "text"])
def test_wrong_top_level_is_rejected(tmp_path, top):
    f = tmp_path / "x.json"
    f.write_text(json.dumps(top))
    t = coco.convert(f)
    assert len(t.images) == 0 and len(t.rejects) == 1
    assert t.rejects.items[0].reason in ("wrong type", "missing field")


def test_other_categories_are_not_persons(tmp_path):
    data = copy.deepcopy(GOOD)
    data["categories"].append({"id": 2, "name": "dog"})
    data["annotations"][2]["category_id"] = 2
    f = tmp_path / "x.json"
    f.write_text(json.dumps(data))
    t = coco.convert(f)
    assert t.instances.source_ann_id.tolist() == ["101", "102"] and len(t.rejects) == 0


def test_source_root_with_annotations_folder(tmp_path):
    ann = tmp_path / "annotations"
    ann.mkdir()
    (ann / "person_keypoints_val2017.json").write_text(json.dumps(GOOD))
    (ann / "captions_val2017.json").write_text(json.dumps({"annotations": [{"caption": "a dog"}]}))
    t = coco.convert(tmp_path)  # the root: annotations/ is found, captions are not person keypoints
    assert t.files == [ann / "person_keypoints_val2017.json"] and len(t.instances) == 3
    assert set(t.images.source_split) == {"val"} and len(t.rejects) == 0
