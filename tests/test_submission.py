"""Submission validation: every kind of bad record is named by file, record index and field."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from smallpose.metrics.submission import load_submission

from smallpose.errors import InputError


def rec(image_id=1, k=21, score=0.9, **extra):
    kp = []
    for j in range(k):
        kp += [10.0 + j, 20.0 + 2 * j, 0.5]
    return {"image_id": image_id, "category_id": 1, "keypoints": kp, "score": score, **extra}


def write(tmp_path, records, name="sub.json"):
    p = tmp_path / name
    p.write_text(records if isinstance(records, str) else json.dumps(records))
    return p


def error_of(tmp_path, records, **kw) -> InputError:
    p = write(tmp_path, records)
    with pytest.raises(InputError) as ei:
        load_submission(p, **kw)
    return ei.value


def test_valid_submission_loads_as_arrays(tmp_path):
    recs = [rec(1, score=0.5), rec(2, score=0.25)]
    recs[1]["keypoints"][0] = -3.5  # negative coordinates are legal (off-image predictions)
    sub = load_submission(write(tmp_path, recs), known_image_ids=[1, 2, 3])
    assert sub.K == 21
    assert sub.keypoints.shape == (2, 21, 3)
    assert sub.image_ids.tolist() == [1, 2]
    assert sub.scores.tolist() == [0.5, 0.25]
    assert sub.keypoints[1, 0, 0] == -3.5
    assert sub.keypoints[0, 20].tolist() == [30.0, 60.0, 0.5]
    assert sub.sigmas is None and sub.covs is None and sub.skipped == []


def test_seventeen_point_submission_is_coco_order(tmp_path):
    sub = load_submission(write(tmp_path, [rec(1, k=17)]))
    assert sub.K == 17
    kp, _, _ = sub.to_unified()
    # COCO's left_shoulder (index 5 there) lands in the 21-point slot 8
    assert kp.shape == (1, 21, 3)
    assert kp[0, 8, :2].tolist() == [15.0, 30.0]
    assert kp[0, 1].tolist() == [0.0, 0.0, 0.0]  # head_top is not in COCO


@pytest.mark.parametrize(
    "records, index, field, words",
    [
        ([rec(), [1, 2]], 1, None, "expected an object"),
        ([rec(), {k: v for k, v in rec().items() if k != "score"}], 1, "score", "missing"),
        ([rec(), rec(keypoint_sigma=[1.0] * 21)], 1, "keypoint_sigma", "did you mean 'keypoint_sigmas'"),
        ([rec(), rec(image_id="7")], 1, "image_id", "expected an integer"),
        ([rec(), rec(image_id=1.0)], 1, "image_id", "expected an integer"),
        ([rec(), rec(2, k=20)], 1, "keypoints", "expected 63 numbers"),
        ([rec(1, k=17), rec(2)], 1, "keypoints", "expected 51 numbers"),
        ([rec(), rec(2, score=-0.1)], 1, "score", "negative"),
        ([rec(), rec(2, score="high")], 1, "score", "expected a number"),
        ([rec(), dict(rec(2), category_id=2)], 1, "category_id", "expected 1"),
        ([rec(1), rec(2), rec(1)], 2, "keypoints", "duplicate of record 0"),
        ([rec(), rec(99)], 1, "image_id", "not in the ground truth"),
        ([rec(keypoint_sigmas=[2.0] * 21), rec(2)], 1, "keypoint_sigmas", "missing while record 0"),
        ([rec(), rec(2, keypoint_sigmas=[2.0] * 21)], 1, "keypoint_sigmas", "present while record 0"),
        ([rec(keypoint_sigmas=[2.0] * 20 + [0.0])], 0, "keypoint_sigmas[20]", "positive"),
        ([rec(keypoint_sigmas=[2.0] * 20 + [-1.0])], 0, "keypoint_sigmas[20]", "negative"),
        ([rec(keypoint_sigmas=[2.0] * 5)], 0, "keypoint_sigmas", "expected 21 entries"),
        ([rec(keypoint_covs=[[4.0, 0.0, 4.0]] * 20 + [[1.0, 2.0, 1.0]])], 0, "keypoint_covs[20]", "definite"),
        (
            [rec(keypoint_covs=[[4.0, 0.0, 4.0]] * 20 + [[-1.0, 0.0, -1.0]])],
            0,
            "keypoint_covs[20]",
            "definite",
        ),
    ],
)
def test_bad_record_is_named(tmp_path, records, index, field, words):
    err = error_of(tmp_path, records, known_image_ids=[1, 2, 3])
    assert err.record == index
    assert err.field == field
    msg = str(err)
    assert "sub.json" in msg and f"record {index}" in msg and words in msg
    assert "\n" not in msg


def test_wrong_type_inside_keypoints_names_the_value(tmp_path):
    bad = rec(2)
    bad["keypoints"][7] = "12"
    err = error_of(tmp_path, [rec(), bad])
    assert (err.record, err.field) == (1, "keypoints[7]")
    bad["keypoints"][7] = True  # json true is not a coordinate
    err = error_of(tmp_path, [rec(), bad])
    assert (err.record, err.field) == (1, "keypoints[7]")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_rejected(tmp_path, literal):
    # Python's json parser accepts these non-standard literals; the validator must not.
    good = json.dumps(rec(1))
    bad = json.dumps(rec(2)).replace('"score": 0.9', f'"score": {literal}', 1)
    err = error_of(tmp_path, f"[{good}, {bad}]")
    assert (err.record, err.field) == (1, "score")
    assert "finite" in str(err) or "negative" in str(err)
    bad_kp = json.dumps(rec(3)).replace("[10.0,", f"[{literal},", 1)
    err = error_of(tmp_path, f"[{good}, {bad_kp}]")
    assert (err.record, err.field) == (1, "keypoints[0]")
    assert "finite" in str(err)


def test_not_a_list_and_not_json(tmp_path):
    assert "expected a JSON list" in str(error_of(tmp_path, {"annotations": []}))
    assert "not valid JSON" in str(error_of(tmp_path, "[{"))


def test_first_bad_record_wins_across_checks(tmp_path):
    recs = [rec(1), rec(2), dict(rec(3), category_id=5), rec(4, score=-1)]
    recs[3]["keypoints"][0] = math.inf  # an earlier check kind on a later record
    err = error_of(tmp_path, json.dumps(recs).replace("Infinity", "Infinity"))
    assert err.record == 2


def test_skip_invalid_scores_the_rest_and_lists_skips(tmp_path):
    recs = [rec(1), rec(2, score=-1), rec(3, k=4), rec(1), rec(3)]
    sub = load_submission(write(tmp_path, recs), skip_invalid=True)
    assert sub.record_index.tolist() == [0, 4]
    assert sub.image_ids.tolist() == [1, 3]
    assert [(s.record, s.field) for s in sub.skipped] == [(1, "score"), (2, "keypoints"), (3, "keypoints")]
    assert "duplicate of record 0" in sub.skipped[2].reason
    assert sub.num_records == 5


def test_size_limit_is_checked_before_reading(tmp_path):
    p = write(tmp_path, [rec(1), rec(2)])
    err = None
    with pytest.raises(InputError) as ei:
        load_submission(p, max_bytes=100)
    err = ei.value
    assert "limit" in str(err) and "sub.json" in str(err)
    assert load_submission(p, max_bytes=10**6).keypoints.shape == (2, 21, 3)


def test_uncertainty_arrays(tmp_path):
    covs = [[4.0, 1.0, 9.0]] * 21
    sub = load_submission(write(tmp_path, [rec(1, keypoint_covs=covs), rec(2, keypoint_covs=covs)]))
    assert sub.covs.shape == (2, 21, 3) and sub.sigmas is None
    np.testing.assert_array_equal(sub.covs[1, 3], [4.0, 1.0, 9.0])
    sub = load_submission([rec(1, keypoint_sigmas=[3] * 21)])
    assert sub.sigmas.shape == (1, 21) and sub.sigmas[0, 0] == 3.0


def test_tolerated_coco_extras(tmp_path):
    sub = load_submission(write(tmp_path, [rec(1, bbox=[0, 0, 1, 1], area=1.0, id=4)]))
    assert len(sub.image_ids) == 1


def test_every_copy_points_at_the_first(tmp_path):
    recs = [rec(1), rec(2), rec(1), rec(1), rec(2)]
    recs.append(rec(1))
    recs[-1]["keypoints"][0] = -0.0  # a different pose: not a duplicate
    sub = load_submission(write(tmp_path, recs), skip_invalid=True)
    assert [(s.record, s.reason.split(" (")[0]) for s in sub.skipped] == [
        (2, "duplicate of record 0"),
        (3, "duplicate of record 0"),
        (4, "duplicate of record 1"),
    ]
