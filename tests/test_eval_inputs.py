"""Bad values in a COCO-format ground truth or a submission: one line naming file, record and
field (never a traceback, never a silently converted number), and what valid files still read.

The cases are the ones that used to escape as a TypeError/ValueError/OverflowError traceback
or be read silently: ``"area": null``, a malformed ``head_box``, ids beyond 64 bits (orjson
reads those as floats; the standard library as big ints), non-numeric or boolean boxes and
keypoints, and non-finite numbers.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from smallpose.metrics.groundtruth import load_groundtruth
from smallpose.metrics.submission import load_submission

from smallpose.cli import main
from smallpose.errors import InputError
from smallpose.skeleton import KEYPOINT_NAMES

K = len(KEYPOINT_NAMES)
BIG = 2**70  # beyond 64 bits


def ann(i: int, **kw) -> dict:
    a = {"id": i, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [10.0, 20.0, 30.0, 60.0],
         "area": 1800.0, "num_keypoints": K,
         "keypoints": [v for j in range(K) for v in (15.0 + j, 25.0 + j, 2)]}  # fmt: skip
    a.update(kw)
    return a


def gt_file(tmp_path, anns: list[dict], images=None, text: str | None = None):
    doc = {"images": images or [{"id": 1}], "annotations": anns,
           "categories": [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES)}]}  # fmt: skip
    p = tmp_path / "gt.json"
    p.write_text(text if text is not None else json.dumps(doc))
    return p


def gt_error(tmp_path, *args, **kw) -> str:
    p = gt_file(tmp_path, *args, **kw)
    with pytest.raises(InputError) as ei:
        load_groundtruth(p)
    msg = str(ei.value)
    assert msg.startswith(str(p)) and "\n" not in msg
    return msg


@pytest.mark.parametrize(
    "bad, record, field, words",
    [
        ({"area": None}, "annotations[1] (id 2)", "area", "expected a number, got null"),
        ({"area": "12"}, "annotations[1] (id 2)", "area", "expected a number, got a string"),
        ({"bbox_area": None}, "annotations[1] (id 2)", "bbox_area", "got null"),
        ({"head_box": [1, 2, 3]}, "annotations[1] (id 2)", "head_box", "a list of 4 numbers, got 3 values"),
        ({"head_box": "abc"}, "annotations[1] (id 2)", "head_box", "got a string"),
        ({"bbox_head": [1, "a", 3, 4]}, "annotations[1] (id 2)", "bbox_head[1]", "got a string"),
        ({"id": BIG}, "annotations[1]", "id", f"integer {BIG} does not fit in 64 bits"),
        ({"image_id": BIG}, "annotations[1] (id 2)", "image_id", "does not fit in 64 bits"),
        ({"image_id": "1"}, "annotations[1] (id 2)", "image_id", "expected an integer, got a string"),
        ({"bbox": ["a", 1, 2, 3]}, "annotations[1] (id 2)", "bbox[0]", "expected a number, got a string"),
        ({"bbox": ["1", "2", "3", "4"]}, "annotations[1] (id 2)", "bbox[0]", "got a string"),
        ({"bbox": [True, 2, 3, 4]}, "annotations[1] (id 2)", "bbox[0]", "got a boolean"),
        ({"bbox": None}, "annotations[1] (id 2)", "bbox", "a list of 4 numbers, got null"),
        ({"keypoints": [True] * (3 * K)}, "annotations[1] (id 2)", "keypoints[0]", "got a boolean"),
        ({"keypoints": [1.0] * 5}, "annotations[1] (id 2)", "keypoints", f"{3 * K} numbers, got 5 values"),
        ({"iscrowd": "yes"}, "annotations[1] (id 2)", "iscrowd", "expected 0 or 1, got a string"),
        ({"num_keypoints": None}, "annotations[1] (id 2)", "num_keypoints", "expected an integer, got null"),
        ({"num_keypoints": 3.5}, "annotations[1] (id 2)", "num_keypoints", "expected an integer, got 3.5"),
        ({"kd": "x"}, "annotations[1] (id 2)", "kd", "expected a number, got a string"),
    ],
)
def test_bad_ground_truth_value_names_record_and_field(tmp_path, bad, record, field, words):
    msg = gt_error(tmp_path, [ann(1), ann(2, **bad)])
    assert f"record {record}: field '{field}': " in msg and words in msg, msg


def test_image_id_beyond_64_bits_in_images_list(tmp_path):
    msg = gt_error(tmp_path, [ann(1)], images=[{"id": 1}, {"id": BIG}])
    assert f"record images[1]: field 'id': integer {BIG} does not fit in 64 bits" in msg


def test_big_id_read_by_the_standard_library_is_named_too(tmp_path):
    # a NaN literal makes orjson refuse the file, so json.loads reads it (ids as exact big ints)
    cats = [{"id": 1, "keypoints": list(KEYPOINT_NAMES)}]
    doc = {"images": [{"id": 1}], "annotations": [ann(1, id=BIG)], "categories": cats, "note": 0.5}
    text = json.dumps(doc)
    msg = gt_error(tmp_path, [], text=text.replace("0.5", "NaN"))
    assert f"field 'id': integer {BIG} does not fit in 64 bits" in msg


def test_non_finite_area_is_refused(tmp_path):
    text = json.dumps({"images": [{"id": 1}], "annotations": [ann(1), ann(2, area=123.0)],
                       "categories": [{"id": 1, "keypoints": list(KEYPOINT_NAMES)}]})  # fmt: skip
    msg = gt_error(tmp_path, [], text=text.replace("123.0", "Infinity"))
    assert "record annotations[1] (id 2): field 'area': not a finite number (inf)" in msg


def test_valid_ground_truth_still_reads_every_accepted_form(tmp_path):
    """Ints for floats, integral float ids, nested keypoints, null head box / kd: the values
    as written (checked by hand), on the fast path and on the per-record one."""
    nested = np.reshape(ann(0)["keypoints"], (K, 3)).tolist()
    anns = [ann(1, area=900, head_box=[1, 2, 3, 4]), ann(2, head_box=None, kd=None, bbox=[1, 2, 3, 4])]
    g = load_groundtruth(gt_file(tmp_path, anns)).gt  # fast path: every record alike
    assert g.area.tolist() == [900.0, 1800.0]
    assert g.head_box[0].tolist() == [1.0, 2.0, 3.0, 4.0] and np.isnan(g.head_box[1]).all()
    assert g.bbox[1].tolist() == [1.0, 2.0, 3.0, 4.0]
    anns.append(ann(3, keypoints=nested, image_id=1.0, id=7))  # unusual: per-record path
    g = load_groundtruth(gt_file(tmp_path, anns)).gt
    assert g.instance_ids.tolist() == [1, 2, 7] and g.image_ids.tolist() == [1, 1, 1]
    assert g.keypoints[2, 20].tolist() == [35.0, 45.0, 2.0]
    assert g.area.tolist() == [900.0, 1800.0, 1800.0]


def test_a_true_literal_in_a_string_does_not_reject_a_valid_file(tmp_path):
    g = load_groundtruth(gt_file(tmp_path, [ann(1)], images=[{"id": 1, "file_name": "true_false.jpg"}])).gt
    assert g.keypoints.shape == (1, K, 3) and g.bbox[0].tolist() == [10.0, 20.0, 30.0, 60.0]


def test_cli_prints_the_ground_truth_error_as_one_line(tmp_path, capsys):
    gt = gt_file(tmp_path, [ann(1), ann(2, area=None)])
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps([{"image_id": 1, "category_id": 1, "score": 0.5, "keypoints": [1.0] * 3 * K}]))
    rc = main(["eval", "--gt", str(gt), "--pred", str(pred)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "gt.json" in err and "annotations[1] (id 2)" in err and "field 'area'" in err


# ---- the submission ---------------------------------------------------------------------------
def rec(**kw) -> dict:
    r = {"image_id": 1, "category_id": 1, "score": 0.5, "keypoints": [float(j) for j in range(3 * K)]}
    r.update(kw)
    return r


@pytest.mark.parametrize(
    "bad, field, words",
    [
        ({"image_id": BIG}, "image_id", f"integer {BIG} does not fit in 64 bits"),
        ({"image_id": True}, "image_id", "expected an integer, got a boolean"),
        ({"category_id": True}, "category_id", "expected 1 (person), got True"),
        ({"score": True}, "score", "expected a number, got a boolean"),
        ({"keypoints": [False] + [1.0] * (3 * K - 1)}, "keypoints[0]", "expected a number, got a boolean"),
    ],
)
def test_bad_submission_value_names_record_and_field(tmp_path, bad, field, words):
    p = tmp_path / "sub.json"
    p.write_text(json.dumps([rec(), rec(**bad)]))
    with pytest.raises(InputError) as ei:
        load_submission(p, [1])
    msg = str(ei.value)
    assert f"record 1: field '{field}': " in msg and words in msg and "\n" not in msg, msg


def test_submission_big_id_read_by_the_standard_library(tmp_path):
    p = tmp_path / "sub.json"
    p.write_text(json.dumps([rec(), rec(image_id=BIG, score=0.25)]).replace("0.25", "NaN"))
    with pytest.raises(InputError) as ei:
        load_submission(p, [1])
    assert "record 1: field 'image_id'" in str(ei.value) and "64 bits" in str(ei.value)
