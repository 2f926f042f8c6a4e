"""PoseTrack18: per-video files and mmpose's merge must agree; values by hand from the fixture."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from smallpose.converters import posetrack

from smallpose.errors import InputError
from smallpose.skeleton import INDEX


def _sorted(t):
    order = np.argsort(t.instances.source_ann_id.to_numpy())
    inst = t.instances.iloc[order].reset_index(drop=True)
    imgs = t.images.sort_values("source_image_id").reset_index(drop=True)
    return imgs, inst, t.keypoints[order]


def test_per_video_files_and_merge_agree(fixtures_dir):
    ann = fixtures_dir / "posetrack18" / "annotations"
    per_video = posetrack.convert(ann / "val")
    merged = posetrack.convert(ann / "test_posetrack18_val.json")
    assert len(per_video.files) == 3 and len(per_video.instances) == 14
    a, b = _sorted(per_video), _sorted(merged)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    assert set(a[0].source_split) == {"val"}  # annotations/val/ folder; "test" of mpii_test ignored


def test_fixture_values_by_hand(fixtures_dir):
    t = posetrack.convert(fixtures_dir / "posetrack18" / "annotations" / "val" / "009473_mpii_test.json")
    assert t.K == 17 and len(t.instances) == 2 and len(t.rejects) == 0
    img = t.images.iloc[0]
    assert img.source_image_id == "10094730000"
    assert img.file_name == "images/val/009473_mpii_test/000000.jpg"
    assert (img.width, img.height, img.video_id, img.frame_index) == (1920, 1080, "009473", 0)
    assert img.source_split == "val"
    row = t.instances.iloc[0]
    assert row.source_ann_id == "1009473000000" and row.track_id == 0 and not row.iscrowd
    assert [row.bbox_x, row.bbox_y, row.bbox_w, row.bbox_h] == [
        631.5,
        167.77146757999992,
        351.0,
        751.4322540400001,
    ]
    assert [row.head_x, row.head_y, row.head_w, row.head_h] == [648, 253, 138, 103]
    assert t.instances.track_id.tolist() == [0, 1]
    kp = t.keypoints[0]
    # native v is 1 (annotated) -> 2; ears are placeholders (0) and dropped; no eyes in PoseTrack
    expected = {
        "nose": [750, 297.5, 2], "head_bottom": [734.1937256, 371.1997375, 2],
        "head_top": [704.1047363, 254.4751892, 2], "left_shoulder": [697, 352.5, 2],
        "right_shoulder": [766, 369, 2], "right_elbow": [857, 419, 2], "left_wrist": [766, 281, 2],
        "right_wrist": [942, 422.5, 2], "left_hip": [722, 525, 2], "right_hip": [792, 544, 2],
        "left_knee": [783, 697, 2], "right_knee": [755, 699, 2], "left_ankle": [808.5, 832.5, 2],
        "right_ankle": [672, 782.5, 2],
    }  # fmt: skip
    for name, i in INDEX.items():
        assert kp[i].tolist() == expected.get(name, [0, 0, 0]), name


def _video(labeled=(True, False), vis=1):
    kp = [0] * 51
    kp[0:3] = [10, 20, vis]
    images = [
        {"id": 10000000 + i, "file_name": f"images/train/000001_mpii_train/{i:06d}.jpg",
         "frame_id": 10000000 + i, "vid_id": "000001", "is_labeled": lab, "width": 64, "height": 48}
        for i, lab in enumerate(labeled)
    ]  # fmt: skip
    anns = [
        {"id": 7 + i, "image_id": img["id"], "bbox": [1, 1, 20, 30], "bbox_head": [2, 2, 5, 5],
         "keypoints": list(kp), "track_id": 3, "iscrowd": False}
        for i, img in enumerate(images)
    ]  # fmt: skip
    return {"images": images, "annotations": anns}


def test_unlabelled_frames_are_not_images(tmp_path):
    f = tmp_path / "train" / "000001_mpii_train.json"
    f.parent.mkdir()
    f.write_text(json.dumps(_video(labeled=(True, False, True))))
    t = posetrack.convert(tmp_path)
    assert t.images.frame_index.tolist() == [0, 2] and len(t.instances) == 2 and len(t.rejects) == 0
    assert set(t.images.source_split) == {"train"}
    assert t.keypoints[0, INDEX["nose"]].tolist() == [10, 20, 2]


def test_split_and_frame_fallbacks(tmp_path):
    data = _video(labeled=(True,))
    data["images"][0]["file_name"] = "images/x/frame_a.jpg"  # not a number: frame_id's last 4 digits
    f = tmp_path / "annotations" / "000001_mpii_test.json"  # "test" here is MPII's, not PoseTrack's
    f.parent.mkdir()
    f.write_text(json.dumps(data))
    t = posetrack.convert(f)
    assert t.images.source_split.tolist() == ["train"] and t.images.frame_index.tolist() == [0]
    assert posetrack.convert(f, split="test").images.source_split.tolist() == ["test"]


def test_bad_visibility_and_head_box(tmp_path):
    data = _video(labeled=(True, True), vis=1)
    data["annotations"][0]["keypoints"][2] = 5
    data["annotations"][1]["bbox_head"] = [2, 2, 0, 5]
    f = tmp_path / "v.json"
    f.write_text(json.dumps(data))
    t = posetrack.convert(f)
    assert len(t.instances) == 0
    assert [(r.record, r.field, r.reason) for r in t.rejects.items] == [
        ("7", "keypoints", "bad visibility"), ("8", "bbox_head", "non-positive box"),
    ]  # fmt: skip
    with pytest.raises(InputError, match="v.json: record 7: field 'keypoints': bad visibility"):
        posetrack.convert(f, strict=True)


def test_posetrack21_layout_reads_like_posetrack18(fixtures_dir, tmp_path):
    """PoseTrack21 keeps PoseTrack18's layout and adds ``has_labeled_person`` (images) and
    ``person_id`` (annotations): the same video written the PT21 way converts identically."""
    src = fixtures_dir / "posetrack18" / "annotations" / "val" / "009473_mpii_test.json"
    data = json.loads(src.read_text())
    for img in data["images"]:
        img["has_labeled_person"] = True
    for i, ann in enumerate(data["annotations"]):
        ann["person_id"] = 1000 + i
    pt21 = tmp_path / "posetrack21" / "annotations" / "val" / src.name
    pt21.parent.mkdir(parents=True)
    pt21.write_text(json.dumps(data))
    a, b = posetrack.convert(src), posetrack.convert(pt21)
    assert len(b.rejects) == 0
    pd.testing.assert_frame_equal(a.instances, b.instances)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert b.images.source_split.tolist() == ["val"] and b.instances.track_id.tolist() == [0, 1]
