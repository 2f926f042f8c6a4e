"""SmallPose buckets, density classes, keypoint subsets and the engine's API on hand-built cases.

Expected APs are worked out by hand in the comments (COCO's interpolated precision: the max
precision at or after the first rank reaching each recall threshold, averaged over 101 points).
Protocols that can be expressed in pycocotools are checked against it in test_metrics_parity.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
from pycocotools.coco import COCO
from smallpose.metrics.arrays import Detections, GroundTruth, keypoint_extent_boxes
from smallpose.metrics.cocoeval import accumulate, evaluate_arrays, match, matched_pairs, summarize
from smallpose.metrics.params import SMALL_MAX, Params

from smallpose import skeleton

K = 21


def person(cx: float, cy: float, w: float, h: float, n_vis: int = K) -> np.ndarray:
    """(21, 3) keypoints spread inside a w x h box centred at (cx, cy); first n_vis visible."""
    rng = np.random.default_rng(int(cx * 7 + cy))
    kp = np.zeros((K, 3))
    kp[:, 0] = cx + rng.uniform(-0.4, 0.4, K) * w
    kp[:, 1] = cy + rng.uniform(-0.4, 0.4, K) * h
    kp[:n_vis, 2] = 2
    kp[n_vis:] = 0
    return kp


def gt_of(rows: list[tuple[int, np.ndarray, float, float, float]], images: list[int]) -> GroundTruth:
    """rows: (image_id, keypoints, box w, box h, kd); box centred on the keypoints' centre."""
    boxes, kps = [], []
    for _, kp, w, h, _ in rows:
        vis = kp[kp[:, 2] > 0]
        cx, cy = vis[:, 0].mean(), vis[:, 1].mean()
        boxes.append([cx - w / 2, cy - h / 2, w, h])
        kps.append(kp)
    boxes = np.array(boxes)
    bbox_area = boxes[:, 2] * boxes[:, 3]
    return GroundTruth(
        image_ids=[r[0] for r in rows], keypoints=np.array(kps), bbox=boxes, area=bbox_area,
        iscrowd=np.zeros(len(rows)), num_keypoints=[(r[1][:, 2] > 0).sum() for r in rows],
        eval_image_ids=images, bbox_area=bbox_area, kd=[r[4] for r in rows],
    )  # fmt: skip


def dets_of(rows: list[tuple[int, np.ndarray, float]]) -> Detections:
    kp = np.array([r[1] for r in rows]).copy()
    kp[:, :, 2] = 0.9
    return Detections(image_ids=[r[0] for r in rows], keypoints=kp, scores=[r[2] for r in rows])


def shifted(kp: np.ndarray, dx: float, dy: float = 0.0) -> np.ndarray:
    out = kp.copy()
    out[:, 0] += dx
    out[:, 1] += dy
    return out


def test_size_buckets_hand_computed() -> None:
    """A small and a medium person, two exact detections and two false positives.

    all: ranks FP(.95) TP(.9) TP(.8) FP(.7): precision 0, 1/2, 2/3, 1/2 -> interpolated 2/3
         everywhere up to recall 1 -> AP = 2/3 (same at every threshold: exact hits, far FPs).
    S:   the medium gt is ignored and its detection (matched to it) too; the large-extent FP is
         outside S; left FP(.95) TP(.9) -> AP = 1/2.
    M:   the small FP (extent area 900) and the detection of the small person are ignored; the
         large-extent FP is outside M -> TP only -> AP = 1.
    L:   no ground truth -> -1, as COCO.
    """
    a = person(100, 100, 40, 80)  # small: 40 x 80 = 3200
    b = person(500, 300, 100, 150)  # medium: 15000
    gt = gt_of([(1, a, 40, 80, 0.5), (1, b, 100, 150, 0.5)], images=[1])
    fp_small = person(300, 400, 30, 30)
    fp_large = person(900, 900, 400, 400)  # keypoint extent ~ (0.75*400)^2 > 256*192
    assert keypoint_extent_boxes(fp_large[None])[1][0] >= 256 * 192
    assert keypoint_extent_boxes(fp_small[None])[1][0] < SMALL_MAX
    dt = dets_of([(1, fp_small, 0.95), (1, a, 0.9), (1, b, 0.8), (1, fp_large, 0.7)])
    s = evaluate_arrays(gt, dt, Params.smallpose())
    assert s["AP"] == pytest.approx(2 / 3, abs=1e-12)
    assert s["AP_S"] == pytest.approx(0.5, abs=1e-12)
    assert s["AP_M"] == pytest.approx(1.0, abs=1e-12)
    assert s["AP_L"] == -1
    assert s["AR"] == pytest.approx(1.0) and s["AR_S"] == pytest.approx(1.0) and s["AR_L"] == -1


def density_case() -> tuple[GroundTruth, Detections]:
    """Three small persons of image 1 with KD sparse .2, moderate .5, dense .97; image 2 empty.

    Detections: fp_near (.95) 30 px off the moderate person (OKS < .05 with it, ~0 with the
    others, so that person is its highest-OKS gt); exact hits on sparse (.9), dense (.8) and
    moderate (.5); fp_empty (.85) on image 2, which has no ground truth at all.
    """
    sp, mo, de = person(100, 100, 40, 80), person(300, 100, 40, 80), person(500, 100, 40, 80)
    gt = gt_of([(1, sp, 40, 80, 0.2), (1, mo, 40, 80, 0.5), (1, de, 40, 80, 0.97)], images=[1, 2])
    dt = dets_of([
        (1, shifted(mo, 30), 0.95), (1, sp, 0.9), (2, person(100, 100, 20, 40), 0.85),
        (1, de, 0.8), (1, mo, 0.5),
    ])  # fmt: skip
    return gt, dt


def test_density_classes_hand_computed() -> None:
    """Unmatched detections take the density class of their highest-OKS gt (docs/metrics.md).

    S_sparse:   fp_near belongs to "moderate" -> ignored here; ranks TP(.9) FP(.85, fp_empty
                counts in every class) -> precision 1 at recall 1 -> AP = 1.
                (Counting every unmatched detection in every class would give FP, TP -> 1/2.)
    S_moderate: FP(.95) FP(.85) TP(.5) -> precision 1/3 at recall 1 -> AP = 1/3.
    S_dense:    FP(.85) TP(.8) -> AP = 1/2.
    S:          FP TP FP TP TP -> precision 0, 1/2, 1/3, 1/2, 3/5 -> interpolated 3/5 -> AP = .6.
    """
    gt, dt = density_case()
    s = evaluate_arrays(gt, dt, Params.smallpose())
    assert s["AP_S_sparse"] == pytest.approx(1.0, abs=1e-12)
    assert s["AP_S_moderate"] == pytest.approx(1 / 3, abs=1e-12)
    assert s["AP_S_dense"] == pytest.approx(0.5, abs=1e-12)
    assert s["AP_S"] == pytest.approx(0.6, abs=1e-12)
    assert s["AP"] == pytest.approx(0.6, abs=1e-12)
    res = match(gt, dt, Params.smallpose())
    # engine rows are by image then score: fp_near, sparse, dense, moderate hits, then fp_empty
    assert res.dt_rows.tolist() == [0, 1, 3, 4, 2]
    assert res.dt_best_gt.tolist() == [1, 0, 2, 1, -1]


def test_density_class_boundaries_are_half_open() -> None:
    """KD exactly .35 is moderate, exactly .95 dense (SPEC: ties broken upward)."""
    a, b = person(100, 100, 40, 80), person(300, 100, 40, 80)
    gt = gt_of([(1, a, 40, 80, 0.35), (1, b, 40, 80, 0.95)], images=[1])
    dt = dets_of([(1, a, 0.9), (1, b, 0.8)])
    s = evaluate_arrays(gt, dt, Params.smallpose())
    assert s["AP_S_sparse"] == -1  # no sparse ground truth at all
    assert s["AP_S_moderate"] == pytest.approx(1.0) and s["AP_S_dense"] == pytest.approx(1.0)


def test_size_bucket_boundary_is_half_open() -> None:
    """bbox area exactly 128*96 is M, not S (COCO's own ranges would count it in both)."""
    a = person(100, 100, 128, 96)
    gt = gt_of([(1, a, 128, 96, 0.5)], images=[1])
    s = evaluate_arrays(gt, dets_of([(1, a, 0.9)]), Params.smallpose())
    assert s["AP_S"] == -1 and s["AP_M"] == pytest.approx(1.0)


def test_matched_pairs_point_at_input_rows_and_skip_ignored_matches() -> None:
    """Pairs come back as rows of the inputs; a match to a crowd region is not a scored pair."""
    a, b = person(100, 100, 40, 80), person(300, 100, 40, 80)
    gt = gt_of([(1, a, 40, 80, 0.5), (1, b, 40, 80, 0.5)], images=[1])
    gt.iscrowd[1] = True
    # file order: the hit on the crowd first, then a low-score duplicate, then the hit on a
    dt = dets_of([(1, b, 0.7), (1, shifted(a, 200, 200), 0.1), (1, a, 0.9)])
    res = match(gt, dt, Params.smallpose())
    d_rows, g_rows = matched_pairs(res, thr=0.5)
    assert d_rows.tolist() == [2] and g_rows.tolist() == [0]
    d75, g75 = matched_pairs(res, thr=0.75)
    assert d75.tolist() == [2] and g75.tolist() == [0]
    with pytest.raises(KeyError):
        matched_pairs(res, thr=0.42)


def test_max_dets_counts_and_cut() -> None:
    """25 persons, 25 exact detections, maxDets 20: 5 cut, recall 20/25 at every threshold."""
    kps = [person(50 * i + 30, 100, 20, 40) for i in range(25)]
    gt = gt_of([(7, k, 20, 40, 0.5) for k in kps], images=[7, 8])
    dt = dets_of([(7, k, 1.0 - i / 100) for i, k in enumerate(kps)])
    res = match(gt, dt, Params.smallpose())
    assert res.images_over_max_dets == 1 and res.num_cut_detections == 5
    s = evaluate_arrays(gt, dt, Params.smallpose())
    assert s["AR"] == pytest.approx(0.8, abs=1e-12)
    # 20 TPs in a row: precision 1 up to recall .8, then 0: AP = 81/101 (recall points 0 .. .8)
    assert s["AP"] == pytest.approx(81 / 101, abs=1e-12)
    s50 = evaluate_arrays(gt, dt, Params.smallpose().with_max_dets(50))
    assert s50["AP"] == pytest.approx(1.0) and s50["AR"] == pytest.approx(1.0)


def test_no_detections_gives_zero_not_missing() -> None:
    a = person(100, 100, 40, 80)
    gt = gt_of([(1, a, 40, 80, 0.5)], images=[1])
    empty = Detections(image_ids=np.zeros(0), keypoints=np.zeros((0, K, 3)), scores=np.zeros(0))
    s = evaluate_arrays(gt, empty, Params.smallpose())
    assert s["AP"] == 0 and s["AR"] == 0 and s["AP_S"] == 0 and s["AP_M"] == -1


def test_coco_params_are_pycocotools_params() -> None:
    from pycocotools.cocoeval import Params as CocoParams

    ref = CocoParams(iouType="keypoints")
    p = Params.coco()
    np.testing.assert_array_equal(p.iou_thrs, ref.iouThrs)
    np.testing.assert_array_equal(p.rec_thrs, ref.recThrs)
    np.testing.assert_array_equal(p.sigmas, ref.kpt_oks_sigmas)
    assert p.max_dets == ref.maxDets
    assert [list(b.area_rng) for b in p.buckets] == ref.areaRng
    assert all(b.area_closed == "both" and b.area_field == "area" for b in p.buckets)


def test_smallpose_params_follow_the_spec() -> None:
    p = Params.smallpose()
    assert p.bucket_names == ["all", "S", "M", "L", "S_sparse", "S_moderate", "S_dense"]
    np.testing.assert_array_equal(p.sigmas, skeleton.SIGMAS)
    by = {b.name: b for b in p.buckets}
    assert by["S"].area_rng == (0, 128 * 96) and by["M"].area_rng == (128 * 96, 256 * 192)
    assert by["L"].area_rng == (256 * 192, math.inf) and by["S_dense"].kd_rng == (0.95, 1.0)
    assert all(b.area_field == "bbox_area" and b.area_closed == "left" for b in p.buckets)
    c = Params.coco17()
    assert c.keypoint_index.tolist() == skeleton.COCO17_INDEX.tolist() and c.num_keypoints == 17
    # per-keypoint selection composes with Setting A's: COCO's 6th point is left_shoulder
    one = c.for_keypoints([5])
    assert one.keypoint_index.tolist() == [skeleton.INDEX["left_shoulder"]]
    assert one.sigmas.tolist() == [0.079]


def test_wrong_keypoint_count_is_refused() -> None:
    a = person(100, 100, 40, 80)
    gt = gt_of([(1, a, 40, 80, 0.5)], images=[1])
    dt = Detections(image_ids=[1], keypoints=np.zeros((1, 14, 3)), scores=[0.5])
    with pytest.raises(ValueError, match="14 keypoints"):
        match(gt, dt, Params.smallpose())


def test_keypoint_extent_boxes_equal_loadres() -> None:
    """Box and area of a result as pycocotools' loadRes computes them (zeros included)."""
    rng = np.random.default_rng(3)
    kp = rng.uniform(-50, 500, (4, 17, 3))
    kp[0, :3, :2] = 0  # unlabelled points written as 0 still enter the extent
    gt = COCO()
    gt.dataset = {"images": [{"id": 1}], "annotations": [], "categories": [{"id": 1, "name": "person"}]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        res = gt.loadRes([{"image_id": 1, "category_id": 1, "keypoints": k.ravel().tolist(), "score": 1.0}
                          for k in kp])  # fmt: skip
    bbox, area = keypoint_extent_boxes(kp)
    anns = [res.anns[i + 1] for i in range(4)]
    np.testing.assert_array_equal(area, [a["area"] for a in anns])
    np.testing.assert_array_equal(bbox, [a["bbox"] for a in anns])


def test_image_weights_zero_and_one() -> None:
    """Weights of ones change nothing; dropping the image holding the only FP removes it."""
    gt, dt = density_case()
    res = match(gt, dt, Params.smallpose())
    base = accumulate(res)
    ones = accumulate(res, image_weights=np.ones(2, dtype=int))
    np.testing.assert_array_equal(base["precision"], ones["precision"])
    no_empty = accumulate(res, image_weights=np.array([1, 0]))
    s = summarize(no_empty["precision"], no_empty["recall"], Params.smallpose())
    # S_dense without fp_empty: TP only -> 1; S: FP(.95) TP TP TP -> precision 3/4 at recall 1
    assert s["AP_S_dense"] == pytest.approx(1.0) and s["AP_S"] == pytest.approx(0.75)
    with pytest.raises(ValueError):
        accumulate(res, image_weights=np.array([1, -1]))
