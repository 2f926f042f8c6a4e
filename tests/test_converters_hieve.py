"""HiEve, both layouts, on synthetic files written from the format description (no public sample)."""

from __future__ import annotations

import json

import pytest
from smallpose.converters import hieve

from smallpose.errors import InputError
from smallpose.skeleton import INDEX


def _frame(fname, objects):
    return {"annotation": {"filename": fname, "size": {"width": "1920", "height": "1080"}, "object": objects}}


def _obj(name="P-4", **parts):
    box = {"xmin": "100", "ymin": "50", "xmax": "160", "ymax": "250"}
    return {"name": name, "bndbox": {**box, **parts}}


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_layout_a_frame_by_hand(tmp_path):
    parts = {"Nose": "128,60,0", "Chest": "130,90,1", "Right_Shoulder": "115,85,-1", "LeftAnkle": "140,245,0"}
    _write(tmp_path / "21" / "000005.json", _frame("000005.jpg", _obj(**parts)))  # one object: a dict
    t = hieve.convert(tmp_path)
    assert t.K == 14 and len(t.rejects) == 0
    img = t.images.iloc[0]
    assert (img.source_image_id, img.file_name, img.video_id, img.frame_index) == (
        "21/000005.jpg", "21/000005.jpg", "21", 5,
    )  # fmt: skip
    assert (img.width, img.height, img.source_split) == (1920, 1080, "test")  # sequence 21: test
    row = t.instances.iloc[0]
    assert (row.source_ann_id, row.track_id) == ("21/000005.jpg#0", 4)
    assert [row.bbox_x, row.bbox_y, row.bbox_w, row.bbox_h] == [100, 50, 60, 200]
    # flags 0 visible -> 2, 1 invisible -> 1, -1 not annotated -> (0, 0, 0); absent parts (0, 0, 0)
    expected = {"nose": [128, 60, 2], "chest": [130, 90, 1], "left_ankle": [140, 245, 2]}
    for name, i in INDEX.items():
        assert t.keypoints[0, i].tolist() == expected.get(name, [0, 0, 0]), name


def test_layout_a_xml_frame(tmp_path):
    xml = (
        "<annotation><filename>000002.jpg</filename><size><width>640</width><height>480</height></size>"
        "<object><name>P-1</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>11</xmax><ymax>32</ymax>"
        "<r_wrist>5,6,0</r_wrist></bndbox></object>"
        "<object><name>P-2</name><bndbox><xmin>20</xmin><ymin>2</ymin><xmax>30</xmax><ymax>32</ymax>"
        "</bndbox></object></annotation>"
    )
    (tmp_path / "seq3").mkdir()
    (tmp_path / "seq3" / "000002.xml").write_text(xml)
    t = hieve.convert(tmp_path)
    assert t.images.source_split.tolist() == ["train"] and (t.images.width[0], t.images.height[0]) == (
        640,
        480,
    )
    assert t.instances.track_id.tolist() == [1, 2]
    assert t.keypoints[0, INDEX["right_wrist"]].tolist() == [5, 6, 2]
    assert t.keypoints[1].sum() == 0  # a box-only person: kept, with no points (an ignore in COCO eval)


def test_layout_b_annolist_by_hand(tmp_path):
    person = {
        "x1": [10], "y1": [20], "x2": [50], "y2": [120], "track_id": [3],
        "annopoints": [{"point": [{"id": [0], "x": [30], "y": [25], "score": [0.9]},
                                  {"id": [13], "x": [40], "y": [115], "score": [0.8]},
                                  {"id": [6], "x": [33], "y": [60], "is_visible": [0]}]}],
    }  # fmt: skip
    seq = {"annolist": [{"image": [{"name": "000001.jpg"}], "annorect": [person]},
                        {"image": [{"name": "000002.jpg"}], "annorect": []}]}  # fmt: skip
    _write(tmp_path / "7.json", seq)
    t = hieve.convert(tmp_path / "7.json")
    assert t.images.file_name.tolist() == ["7/000001.jpg", "7/000002.jpg"]
    assert t.images.frame_index.tolist() == [1, 2] and set(t.images.video_id) == {"7"}
    assert set(t.images.source_split) == {"train"}  # sequence 7
    row = t.instances.iloc[0]
    assert [row.bbox_x, row.bbox_y, row.bbox_w, row.bbox_h] == [10, 20, 40, 100] and row.track_id == 3
    # native 0 nose, 13 l_ankle, 6 l_elbow (is_visible 0 -> occluded); the rest were omitted
    expected = {"nose": [30, 25, 2], "left_ankle": [40, 115, 2], "left_elbow": [33, 60, 1]}
    for name, i in INDEX.items():
        assert t.keypoints[0, i].tolist() == expected.get(name, [0, 0, 0]), name
    assert hieve.convert(tmp_path, split="test").images.source_split.tolist() == ["test", "test"]


@pytest.mark.parametrize("seq, split", [("1", "train"), ("19", "train"), ("20", "test"), ("32", "test"),
                                        ("hm_in_lab", "train"), ("33", "train")])  # fmt: skip
def test_sequence_split(seq, split):
    assert hieve.sequence_split(seq) == split


BAD = {
    "unknown part": ({"Hat": "1,2,0"}, "Hat", "unknown part name"),
    "bad flag": ({"Nose": "1,2,5"}, "bndbox", "bad visibility"),
    "two numbers": ({"Nose": "1,2"}, "Nose", "wrong type"),
    "nan": ({"Nose": "nan,2,0"}, "Nose", "wrong type"),
    "inverted box": ({"xmax": "90"}, "bndbox", "non-positive box"),
    "box text": ({"ymin": "top"}, "ymin", "wrong type"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_layout_a_bad_records(tmp_path, case):
    parts, field, reason = BAD[case]
    f = _write(tmp_path / "4" / "000001.json", _frame("000001.jpg", [_obj("P-1"), _obj("P-2", **parts)]))
    t = hieve.convert(tmp_path)
    assert t.instances.track_id.tolist() == [1]
    assert [(r.record, r.field, r.reason) for r in t.rejects.items] == [("4/000001.jpg#1", field, reason)]
    with pytest.raises(InputError) as err:
        hieve.convert(tmp_path, strict=True)
    assert (err.value.file, err.value.record, err.value.field) == (str(f), "4/000001.jpg#1", field)


def test_layout_b_bad_records_and_damaged_files(tmp_path):
    good = {
        "x1": [0],
        "y1": [0],
        "x2": [9],
        "y2": [9],
        "annopoints": [{"point": [{"id": [1], "x": [1], "y": [2]}]}],
    }
    bad_id = {**good, "annopoints": [{"point": [{"id": [14], "x": [1], "y": [2]}]}]}
    no_box = {k: v for k, v in good.items() if k != "y2"}
    seq = {"annolist": [{"image": [{"name": "000001.jpg"}], "annorect": [good, bad_id, no_box]}]}
    _write(tmp_path / "a" / "25.json", seq)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "000001.xml").write_text("<annotation><filename>")
    _write(tmp_path / "c" / "x.json", {"something": 1})
    t = hieve.convert(tmp_path)
    assert len(t.instances) == 1 and t.images.source_split.tolist() == ["test"]
    assert t.keypoints[0, INDEX["chest"]].tolist() == [1, 2, 2]
    assert [(r.field, r.reason) for r in t.rejects.items] == [
        ("annopoints.point.id", "bad joint id"), ("y2", "missing field"), ("", "malformed xml"),
        ("", "wrong type"),
    ]  # fmt: skip
    assert len(t.files) == 3
