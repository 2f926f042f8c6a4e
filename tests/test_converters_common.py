"""The converter registry, file discovery, split names and path safety, shared by every source."""

from __future__ import annotations

import json

import pytest
from smallpose.converters import CONVERTERS, convert
from smallpose.converters._jsonio import safe_file_name, split_from_name

from smallpose.errors import SmallPoseError
from smallpose.skeleton import SOURCES


def test_registry_covers_every_source():
    assert set(CONVERTERS) == set(SOURCES) == {"coco", "mpii", "aic", "hieve", "posetrack", "crowdpose"}


def test_unknown_kind_and_missing_path(tmp_path):
    with pytest.raises(SmallPoseError, match="unknown source 'lsp'"):
        convert("lsp", tmp_path)
    with pytest.raises(SmallPoseError, match="no such file or folder"):
        convert("coco", tmp_path / "absent.json")


def test_empty_folder_and_bad_split(tmp_path):
    with pytest.raises(SmallPoseError, match="no .json files"):
        convert("coco", tmp_path)
    (tmp_path / "a.json").write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(SmallPoseError, match="split must be one of"):
        convert("coco", tmp_path, split="holdout")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("person_keypoints_train2017", "train"),
        ("person_keypoints_val2017", "val"),
        ("valid", "val"),
        ("keypoint_validation_annotations_20170911", "val"),
        ("keypoint_test_a_annotations_20170923", "test"),
        ("crowdpose_trainval", "train"),  # trainval holds training images: never test
        ("test_posetrack18_val", "val"),  # the last split word wins
        ("keypoint_annotations_3images", None),
        ("contest_results", None),  # "contest" is not "test"
    ],
)
def test_split_from_name(name, expected):
    assert split_from_name(name) == expected


def test_split_words_after_mpii_are_video_names():
    assert split_from_name("003418_mpii_test", ("mpii",)) is None


@pytest.mark.parametrize(
    "name, expected",
    [
        ("000000000785.jpg", "000000000785.jpg"),
        ("images\\val\\x.jpg", "images/val/x.jpg"),
        ("./a/b.jpg", "a/b.jpg"),
        ("/etc/passwd", None),
        ("C:/data/x.jpg", None),
        ("../x.jpg", None),
        ("a/../../x.jpg", None),
        ("", None),
        (12, None),
    ],
)
def test_safe_file_name(name, expected):
    assert safe_file_name(name) == expected
