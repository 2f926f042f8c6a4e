"""AIC: the native list and mmpose's COCO-style conversion of the same 3 images must agree exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from smallpose.converters import aic

from smallpose.errors import InputError
from smallpose.skeleton import INDEX


def test_native_and_coco_style_agree(fixtures_dir):
    native = aic.convert(fixtures_dir / "aic" / "native" / "keypoint_annotations_3images.json", split="val")
    cocoish = aic.convert(fixtures_dir / "aic" / "test_aic.json", split="val")
    assert len(native.instances) == 9 and len(native.rejects) == len(cocoish.rejects) == 0
    pd.testing.assert_frame_equal(native.instances, cocoish.instances)
    np.testing.assert_array_equal(native.keypoints, cocoish.keypoints)
    # images agree except the size, which only mmpose's file states (native AIC has none)
    cols = ["source_image_id", "file_name", "source_split", "video_id", "frame_index"]
    pd.testing.assert_frame_equal(native.images[cols], cocoish.images[cols])
    assert native.images.width.tolist() == [0, 0, 0]
    assert cocoish.images[["width", "height"]].values.tolist() == [[900, 600], [900, 596], [950, 641]]


def test_fixture_values_by_hand(fixtures_dir):
    t = aic.convert(fixtures_dir / "aic" / "native" / "keypoint_annotations_3images.json")
    assert set(t.images.source_split) == {"train"}  # no split word in the file name: train
    row = t.instances.iloc[0]
    assert row.source_ann_id == "054d9ce9201beffc76e5ff2169d2af2f027002ca#0"  # human1
    assert t.images.file_name.iloc[0] == "054d9ce9201beffc76e5ff2169d2af2f027002ca.jpg"
    # human1 box [279, 55, 492, 599] (x1, y1, x2, y2)
    assert [row.bbox_x, row.bbox_y, row.bbox_w, row.bbox_h] == [279, 55, 213, 544]
    kp = t.keypoints[0]
    # human1 native: r_sho 313,201,1 | r_elb 312,313,2 | r_wri 320,424,1 | l_sho 406,197,2 | l_elb 431,286,2
    # | l_wri 459,269,1 | r_hip 375,447,2 | r_knee 0,0,3 | r_ank 0,0,3 | l_hip 416,441,1 | l_knee, l_ank 3
    # | head_top 395,74,1 | neck 372,170,1.   v: 1 -> 2, 2 -> 1, 3 -> 0
    expected = {
        "right_shoulder": [313, 201, 2], "right_elbow": [312, 313, 1], "right_wrist": [320, 424, 2],
        "left_shoulder": [406, 197, 1], "left_elbow": [431, 286, 1], "left_wrist": [459, 269, 2],
        "right_hip": [375, 447, 1], "left_hip": [416, 441, 2], "head_top": [395, 74, 2],
        "head_bottom": [372, 170, 2],
    }  # fmt: skip
    for name, i in INDEX.items():
        assert kp[i].tolist() == expected.get(name, [0, 0, 0]), name
    # human2 is the second row, human3 the third (keys are unsorted in the file)
    assert t.instances.bbox_x.tolist()[:3] == [279, 541, 88]


def _person(x):
    return [v for j in range(14) for v in (x + j, 10 + j, 1)]


def test_numeric_person_order_and_bad_records(tmp_path):
    entries = [
        {"image_id": "img1", "keypoint_annotations": {f"human{n}": _person(n) for n in (10, 2, 1)},
         "human_annotations": {f"human{n}": [n, 0, n + 50, 100] for n in (10, 2, 1)}},
        {"image_id": "img2", "keypoint_annotations": {"human1": _person(0)[:-3], "human2": _person(5)},
         "human_annotations": {"human1": [0, 0, 9, 9], "human2": [30, 0, 20, 9]}},
        {"image_id": "img3", "keypoint_annotations": {"person1": _person(0)}, "human_annotations": {}},
        {"image_id": "../img4", "keypoint_annotations": {}, "human_annotations": {}},
    ]  # fmt: skip
    f = tmp_path / "keypoint_validation_annotations_20170911.json"
    f.write_text(json.dumps(entries))
    t = aic.convert(f)
    assert t.images.source_image_id.tolist() == ["img1", "img2"] and set(t.images.source_split) == {"val"}
    assert t.instances.source_ann_id.tolist() == ["img1#0", "img1#1", "img1#2"]
    assert t.instances.bbox_x.tolist() == [1, 2, 10]  # human1, human2, human10
    assert [(r.record, r.field, r.reason) for r in t.rejects.items] == [
        ("img2/human1", "keypoint_annotations", "wrong keypoint count"),
        ("img3", "keypoint_annotations", "wrong type"),
        ("../img4", "file_name", "unsafe file_name"),
        ("img2/human2", "human_annotations", "non-positive box"),  # found by the column-wise pass
    ]  # fmt: skip
    with pytest.raises(InputError, match="record img2/human1: field 'keypoint_annotations'"):
        aic.convert(f, strict=True)
