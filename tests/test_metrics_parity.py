"""Parity of the array engine with pycocotools' COCOeval(iouType='keypoints'), run in-process.

The reference is pycocotools itself on the same data (COCO objects built in memory), so every
number here comes from an independent implementation. Cases: the real COCO fixture with seeded
perturbed predictions, and 150 seeded random cases with crowds, zero-keypoint instances, more
than maxDets detections, exact score ties, empty images and invisible-point ground truths.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from smallpose.metrics.arrays import detections_from_results, ground_truth_from_coco
from smallpose.metrics.cocoeval import accumulate, compute_oks, match, summarize
from smallpose.metrics.params import SMALL_MAX, Bucket, Params

from smallpose import skeleton

COCO_KEYS = ["AP", "AP50", "AP75", "AP_M", "AP_L", "AR", "AR50", "AR75", "AR_M", "AR_L"]


def pycoco_eval(dataset: dict, results: list[dict], **params) -> COCOeval:
    """pycocotools' full keypoint evaluation on in-memory data (its prints silenced).

    ``params`` overrides COCOeval.params attributes (areaRng, maxDets, kpt_oks_sigmas, ...);
    the summary is only computed with the default ones (pycocotools hard-codes them there).
    """
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(dataset)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(gt, dt, "keypoints")
        for k, v in params.items():
            setattr(ev.params, k, v)
        ev.evaluate()
        ev.accumulate()
        if not params:
            ev.summarize()
    return ev


def assert_tables_equal(acc: dict, ev: COCOeval) -> None:
    """Our (T,R,B,M) tables against pycocotools' (T,R,K=1,A,M)."""
    np.testing.assert_allclose(acc["precision"], ev.eval["precision"][:, :, 0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(acc["recall"], ev.eval["recall"][:, 0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(acc["scores"], ev.eval["scores"][:, :, 0], atol=1e-12, rtol=0)


def ours(dataset: dict, results: list[dict], params: Params | None = None):
    params = params or Params.coco()
    res = match(ground_truth_from_coco(dataset), detections_from_results(results), params)
    acc = accumulate(res)
    return res, acc, summarize(acc["precision"], acc["recall"], params)


def assert_stats_equal(stats: dict, ref: np.ndarray, tol: float = 1e-12) -> None:
    got = np.array([stats[k] for k in COCO_KEYS])
    np.testing.assert_allclose(got, ref, rtol=0, atol=tol, err_msg=str(dict(zip(COCO_KEYS, ref))))


# ---- a random COCO-format case --------------------------------------------------------------
def random_case(seed: int) -> tuple[dict, list[dict]]:
    rng = np.random.default_rng(seed)
    n_img = int(rng.integers(1, 7))
    img_ids = rng.choice(np.arange(1, 1000), size=n_img + 1, replace=False)
    images = [{"id": int(i), "width": 640, "height": 480} for i in img_ids[:n_img]]
    anns, results = [], []
    ties = rng.random() < 0.4  # scores on a coarse grid -> many exact ties
    crowded = rng.random() < 0.2  # > 20 detections per image
    for im in images:
        n_gt = int(rng.integers(0, 25 if crowded else 6))
        for _ in range(n_gt):
            s = float(rng.choice([20, 45, 90, 160]) * rng.uniform(0.7, 1.3))
            cx, cy = rng.uniform(0, 640), rng.uniform(0, 480)
            kp = np.zeros((17, 3))
            kp[:, 0] = cx + rng.normal(0, s / 4, 17)
            kp[:, 1] = cy + rng.normal(0, s / 2, 17)
            kp[:, 2] = rng.choice([0, 1, 2], size=17, p=[0.3, 0.2, 0.5])
            u = rng.random()
            if u < 0.12:
                kp[:, 2] = 0  # no visible point: OKS to the grown box, ignored via num_keypoints
            kp[kp[:, 2] == 0, :2] = 0
            x0, y0 = cx - s / 3, cy - s / 1.5
            bbox = [float(x0), float(y0), float(2 * s / 3), float(4 * s / 3)]
            n_vis = int((kp[:, 2] > 0).sum())
            area = float(bbox[2] * bbox[3] * rng.uniform(0.4, 0.8))
            ann = {
                "id": len(anns) + 1, "image_id": im["id"], "category_id": 1, "bbox": bbox,
                "area": area, "keypoints": kp.ravel().tolist(), "num_keypoints": n_vis,
                "iscrowd": int(rng.random() < 0.1),
            }  # fmt: skip
            if u > 0.95:
                ann["num_keypoints"] = 0  # field says none even with visible points
            anns.append(ann)
            if rng.random() < 0.8:  # a detection of this person, sometimes two
                for _ in range(1 + int(rng.random() < 0.2)):
                    d = kp.copy()
                    d[:, 0] = cx + rng.normal(0, s / 4, 17) if kp[0, 2] == 0 and u < 0.12 else d[:, 0]
                    d[:, :2] += rng.normal(0, rng.uniform(0.5, 0.25 * s), (17, 2))
                    d[:, 2] = rng.random(17)
                    results.append(_result(im["id"], d, rng, ties))
    n_fp = int(rng.integers(1, 8 if not crowded else 30))
    for _ in range(n_fp):  # false positives, on evaluated images and on ones without gt
        im_id = int(img_ids[rng.integers(0, n_img)])
        d = np.zeros((17, 3))
        d[:, 0] = rng.uniform(0, 640) + rng.normal(0, 30, 17)
        d[:, 1] = rng.uniform(0, 480) + rng.normal(0, 60, 17)
        d[:, 2] = rng.random(17)
        results.append(_result(im_id, d, rng, ties))
    rng.shuffle(results)
    cats = [{"id": 1, "name": "person", "supercategory": "person"}]
    return {"images": images, "annotations": anns, "categories": cats}, results


def _result(image_id: int, kp: np.ndarray, rng, ties: bool) -> dict:
    score = float(np.round(rng.random(), 1)) if ties else float(rng.random())
    return {"image_id": int(image_id), "category_id": 1, "keypoints": kp.ravel().tolist(), "score": score}


@pytest.mark.parametrize("seed", range(150))
def test_random_cases_match_pycocotools(seed: int) -> None:
    dataset, results = random_case(seed)
    ref = pycoco_eval(dataset, results)
    _, acc, stats = ours(dataset, results)
    assert_stats_equal(stats, ref.stats)
    assert_tables_equal(acc, ref)  # the full accumulated tables too, not only their means


def test_random_case_generator_covers_the_hard_paths() -> None:
    """The random cases really contain what they claim (else the parity above proves less)."""
    seen = {"crowd": 0, "zero_kp": 0, "over_20": 0, "ties": 0, "no_gt_image": 0}
    for seed in range(150):
        ds, res = random_case(seed)
        seen["crowd"] += any(a["iscrowd"] for a in ds["annotations"])
        seen["zero_kp"] += any(a["num_keypoints"] == 0 for a in ds["annotations"])
        per_img = np.bincount([r["image_id"] for r in res])
        seen["over_20"] += int(per_img.max() > 20)
        scores = [r["score"] for r in res]
        seen["ties"] += len(set(scores)) < len(scores)
        gt_imgs = {a["image_id"] for a in ds["annotations"]}
        seen["no_gt_image"] += any(im["id"] not in gt_imgs for im in ds["images"])
    assert all(v >= 10 for v in seen.values()), seen


def test_fixture_predictions_match_pycocotools(fixtures_dir) -> None:
    """Real COCO annotations; perturbed, dropped and invented persons with seeded noise."""
    dataset = json.loads((fixtures_dir / "coco" / "test_coco.json").read_text())
    rng = np.random.default_rng(7)
    results = []
    for a in dataset["annotations"]:
        if rng.random() < 0.15:
            continue  # a missed person
        kp = np.array(a["keypoints"], dtype=np.float64).reshape(-1, 3)
        scale = np.sqrt(max(a["area"], 1.0))
        kp[:, :2] += rng.normal(0, 0.05 * scale, kp[:, :2].shape)
        kp[:, 2] = rng.random(kp.shape[0])
        results.append({"image_id": a["image_id"], "category_id": 1, "keypoints": kp.ravel().tolist(),
                        "score": float(rng.random())})  # fmt: skip
    for im in dataset["images"]:  # two false positives per image
        for _ in range(2):
            kp = np.zeros((17, 3))
            kp[:, 0] = rng.uniform(0, im["width"]) + rng.normal(0, 20, 17)
            kp[:, 1] = rng.uniform(0, im["height"]) + rng.normal(0, 40, 17)
            kp[:, 2] = rng.random(17)
            results.append({"image_id": im["id"], "category_id": 1, "keypoints": kp.ravel().tolist(),
                            "score": float(rng.random() * 0.5)})  # fmt: skip
    ref = pycoco_eval(dataset, results)
    assert 0.1 < ref.stats[0] < 0.99  # a non-degenerate case
    _, _, stats = ours(dataset, results)
    assert_stats_equal(stats, ref.stats)


def test_oks_matrix_matches_computeoks(fixtures_dir) -> None:
    """compute_oks against pycocotools' own per-image OKS matrix (incl. invisible-point gts)."""
    dataset, results = random_case(3)
    ref = pycoco_eval(dataset, results)
    gt = ground_truth_from_coco(dataset)
    dt = detections_from_results(results)
    checked = 0
    for img in gt.eval_image_ids:
        ious = ref.ious[int(img), 1]
        if len(ious) == 0:
            continue
        g = np.flatnonzero(gt.image_ids == img)
        d = np.flatnonzero(dt.image_ids == img)
        d = d[np.argsort(-dt.scores[d], kind="mergesort")][:20]
        oks = compute_oks(gt.keypoints[g], gt.bbox[g], gt.area[g], dt.keypoints[d], Params.coco().sigmas)
        np.testing.assert_allclose(oks, ious, rtol=0, atol=1e-14)
        checked += 1
    assert checked > 0


def test_detections_on_unknown_images_are_dropped() -> None:
    """Equal to pycocotools on the valid subset (its loadRes refuses unknown image ids)."""
    dataset, results = random_case(11)
    stray = copy.deepcopy(results[:5])
    for r in stray:
        r["image_id"] = 10_000  # not an evaluated image
        r["score"] = 1.0
    ref = pycoco_eval(dataset, results)
    res, _, stats = ours(dataset, results + stray)
    assert res.num_dropped_detections == 5
    assert_stats_equal(stats, ref.stats)


def test_image_weights_equal_duplicated_images() -> None:
    """Weighted accumulation == pycocotools on a set where image i appears w_i times.

    Copy c of image i gets id 10000*(i+1)+c, so copies sit together in pycocotools' image order
    and cross-image score ties rank as in our engine; a weight-0 image vanishes. Scores are
    made distinct within an image, where copies could otherwise interleave tied detections.
    """
    checked = 0
    for seed in (1, 5, 9, 21, 33):
        dataset, results = random_case(seed)
        results = [{**r, "score": r["score"] + 1e-9 * i} for i, r in enumerate(results)]
        ids = sorted(im["id"] for im in dataset["images"])
        w = np.random.default_rng(seed).integers(0, 4, size=len(ids))
        images, anns, res = [], [], []
        for pos, (img, wi) in enumerate(zip(ids, w)):
            for c in range(wi):
                nid = 10_000 * (pos + 1) + c
                images.append({"id": nid, "width": 640, "height": 480})
                mine = [a for a in dataset["annotations"] if a["image_id"] == img]
                anns += [{**a, "image_id": nid, "id": len(anns) + k + 1} for k, a in enumerate(mine)]
                res += [{**r, "image_id": nid} for r in results if r["image_id"] == img]
        if not res:
            continue
        ref = pycoco_eval({**dataset, "images": images, "annotations": anns}, res)
        m = match(ground_truth_from_coco(dataset), detections_from_results(results), Params.coco())
        acc = accumulate(m, image_weights=w)
        assert_stats_equal(summarize(acc["precision"], acc["recall"], Params.coco()), ref.stats)
        checked += 1
    assert checked >= 3


def test_half_open_size_buckets_equal_pycocotools_closed_at_previous_float() -> None:
    """SmallPose's [lo, hi) on floats is pycocotools' [lo, prev(hi)]: same tables.

    The OKS scale and the tested field are the box area (as SmallPose), with some areas exactly
    on the S/M edge; unmatched detections are tested by their keypoint-extent area on both sides.
    """
    prev = math.nextafter
    edges = [(0.0, math.inf), (0.0, SMALL_MAX), (SMALL_MAX, 256.0 * 192), (256.0 * 192, math.inf)]
    closed = [[lo, prev(hi, 0) if math.isfinite(hi) else 1e10] for lo, hi in edges]
    buckets = [Bucket(n, rng, "area", "left") for n, rng in zip(["all", "S", "M", "L"], edges)]
    params = Params.coco().with_buckets(buckets)
    for seed in range(25):
        ds, results = random_case(seed)
        for i, a in enumerate(ds["annotations"]):
            a["area"] = a["bbox"][2] * a["bbox"][3] * 4 if i % 4 else SMALL_MAX
        ref = pycoco_eval(ds, results, areaRng=closed, areaRngLbl=["all", "S", "M", "L"])
        assert_tables_equal(ours(ds, results, params)[1], ref)


def test_max_dets_override_equals_pycocotools() -> None:
    """maxDets 5 and [3, 10]: the per-image cut and the accumulation over several maxDets."""
    for seed in range(0, 40, 3):
        ds, results = random_case(seed)
        for md in ([5], [3, 10]):
            ref = pycoco_eval(ds, results, maxDets=md)
            assert_tables_equal(ours(ds, results, Params.coco().with_max_dets(md))[1], ref)


def test_coco17_subset_equals_pycocotools_on_a_17_point_copy() -> None:
    """Setting A on 21-point data == pycocotools on the same data cut to COCO's 17 points.

    The copy recounts num_keypoints over the 17 points (an instance with only head_top, chest,
    ... annotated has none and is ignored), which is what ``recount_keypoints`` does.
    """
    idx = skeleton.COCO17_INDEX
    p17 = Params.coco17().with_buckets(Params.coco().buckets)
    for seed in range(12):
        ds17, res17 = random_case(seed)
        rng = np.random.default_rng(seed)
        ds21 = copy.deepcopy(ds17)
        for a in ds21["annotations"]:  # embed in 21 points; the 4 extra ones random
            kp = np.zeros((21, 3))
            kp[idx] = np.array(a["keypoints"]).reshape(17, 3)
            extra = np.setdiff1d(np.arange(21), idx)
            kp[extra, :2] = rng.uniform(0, 400, (4, 2))
            kp[extra, 2] = 2
            a["keypoints"] = kp.ravel().tolist()
            a["num_keypoints"] = int((kp[:, 2] > 0).sum())
        for a in ds17["annotations"]:
            a["num_keypoints"] = int((np.array(a["keypoints"])[2::3] > 0).sum())
        ref = pycoco_eval(ds17, res17)
        _, _, stats = ours(ds21, res17, p17)  # detections given as 17 points (SPEC section 5)
        assert_stats_equal(stats, ref.stats)
        # the same predictions as 21-point rows whose 4 extra points lie far out: only the 17
        # scored points count, for OKS and for the detection's size alike
        res21 = []
        for r in res17:
            kp = np.zeros((21, 3))
            kp[idx] = np.array(r["keypoints"]).reshape(17, 3)
            kp[np.setdiff1d(np.arange(21), idx), :2] = [[-900, -900], [2000, 2000], [0, 0], [5, 5]]
            res21.append({**r, "keypoints": kp.ravel().tolist()})
        _, _, stats21 = ours(ds21, res21, p17)
        assert_stats_equal(stats21, ref.stats)
