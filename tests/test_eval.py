"""End to end: a tiny hand-made store, scored by evaluate() and checked against pycocotools."""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

sys.path.insert(0, str(Path(__file__).parent))
from smallpose.metrics.evaluate import evaluate  # noqa: E402
from test_eval_fixtures import build_store, coco_json, people, predictions  # noqa: E402

from smallpose.skeleton import COCO17_INDEX, COCO17_NAMES, KEYPOINT_NAMES, SIGMAS  # noqa: E402

S_MAX, M_MAX = 128.0 * 96.0, 256.0 * 192.0


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    rng = np.random.default_rng(7)
    data = people(rng, n_images=14, per_image=5)
    preds = predictions(rng, data)
    (tmp / "pred.json").write_text(json.dumps(preds))
    return {
        "tmp": tmp, "data": data, "preds": preds, "store": build_store(tmp / "store", data),
        "coco_gt": coco_json(tmp / "gt17.json", data), "pred": tmp / "pred.json",
    }  # fmt: skip


def run_pycocotools(gt_doc: dict, preds: list, sigmas=None, area_rngs=None):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt_doc
        coco.createIndex()
        dt = coco.loadRes(preds)
        E = COCOeval(coco, dt, "keypoints")
        if sigmas is not None:
            E.params.kpt_oks_sigmas = np.asarray(sigmas)
        if area_rngs is not None:
            E.params.areaRng = area_rngs
            E.params.areaRngLbl = ["all"] + [str(i) for i in range(1, len(area_rngs))]
        E.evaluate()
        E.accumulate()
        E.summarize()
    return E


def to17(preds):
    return [dict(p, keypoints=np.asarray(p["keypoints"]).reshape(21, 3)[COCO17_INDEX].ravel().tolist())
            for p in preds]  # fmt: skip


COCO10 = ("AP", "AP50", "AP75", "AP_M", "AP_L", "AR", "AR50", "AR75", "AR_M", "AR_L")


def test_coco_protocol_equals_pycocotools(world):
    E = run_pycocotools(json.loads(world["coco_gt"].read_text()), to17(world["preds"]))
    assert E.stats[0] > 0.05  # a real, non-degenerate case
    on_store = evaluate(world["store"], world["pred"], protocol="coco", per_keypoint=False, kd_bins=0).metrics
    tmp = world["tmp"]
    (tmp / "pred17.json").write_text(json.dumps(to17(world["preds"])))
    on_json = evaluate(world["coco_gt"], tmp / "pred17.json", per_keypoint=False, kd_bins=0)
    assert on_json.document["protocol"]["name"] == "coco"
    for i, k in enumerate(COCO10):
        ref = E.stats[i]
        for got in (on_store[k], on_json.metrics[k]):
            assert (got is None and ref == -1) or got == pytest.approx(ref, abs=1e-12), k


def smallpose_twin(data) -> dict:
    """The store as a 21-point COCO json with area = bbox area, for pycocotools with our buckets."""
    image_ids = [1000 + 7 * i for i in range(data["n_images"])]
    anns = [{"id": i + 1, "image_id": image_ids[r["image"]], "category_id": 1, "bbox": r["bbox"],
             "area": r["bbox"][2] * r["bbox"][3], "iscrowd": int(r["crowd"]),
             "keypoints": r["kp"].ravel().tolist(), "num_keypoints": int((r["kp"][:, 2] > 0).sum())}
            for i, r in enumerate(data["rows"])]  # fmt: skip
    return {"images": [{"id": i} for i in image_ids], "annotations": anns,
            "categories": [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES)}]}  # fmt: skip


def test_smallpose_size_buckets_equal_pycocotools_with_our_ranges(world):
    # pycocotools' ranges are closed; with continuous random areas no box sits on a bound
    rngs = [[0, 1e10], [0, S_MAX], [S_MAX, M_MAX], [M_MAX, 1e10]]
    E = run_pycocotools(smallpose_twin(world["data"]), world["preds"], sigmas=SIGMAS, area_rngs=rngs)
    got = evaluate(world["store"], world["pred"], per_keypoint=False, kd_bins=0).metrics
    prec, rec = E.eval["precision"][:, :, 0, :, -1], E.eval["recall"][:, 0, :, -1]

    def mean(a):
        return float(np.mean(a[a > -1])) if (a > -1).any() else None

    for b, key in enumerate(("", "_S", "_M", "_L")):
        ap, ar = mean(prec[:, :, b]), mean(rec[:, b])
        assert got[f"AP{key}"] == pytest.approx(ap, abs=1e-12)
        assert got[f"AR{key}"] == pytest.approx(ar, abs=1e-12)


def pycoco_pairs(E, gt_doc, preds):
    """(pred record, gt annotation) pairs matched at OKS 0.5, area 'all', from pycocotools."""
    anns = {a["id"]: a for a in gt_doc["annotations"]}
    dts = E.cocoDt.anns
    pairs = []
    for e in E.evalImgs:
        if e is None or e["aRng"] != E.params.areaRng[0]:
            continue
        for j, did in enumerate(e["dtIds"]):
            gid = int(e["dtMatches"][0, j])
            if gid and not e["dtIgnore"][0, j]:
                pairs.append((dts[did], anns[gid]))
    return pairs


def test_surprise_l2_and_pckh_against_pycocotools_matching(world, tmp_path):
    rng = np.random.default_rng(3)
    preds = predictions(rng, world["data"], sigmas=True)
    (tmp_path / "p.json").write_text(json.dumps(preds))
    res = evaluate(world["store"], tmp_path / "p.json", per_keypoint=False, kd_bins=0).document
    gt_doc = smallpose_twin(world["data"])
    E = run_pycocotools(gt_doc, preds, sigmas=SIGMAS, area_rngs=[[0, 1e10]])
    pairs = pycoco_pairs(E, gt_doc, preds)
    assert len(pairs) > 10
    nll, l2 = [], []
    for dt, g in pairs:
        kp = np.reshape(g["keypoints"], (21, 3))
        pk = np.reshape(dt["keypoints"], (21, 3))
        h = g["bbox"][3]
        per_nll, per_l2 = [], []
        for k in range(21):
            if kp[k, 2] > 0:
                s = dt["keypoint_sigmas"][k] / h
                r2 = ((kp[k, 0] - pk[k, 0]) ** 2 + (kp[k, 1] - pk[k, 1]) ** 2) / h**2
                per_nll.append(-math.log(math.exp(-r2 / (2 * s * s)) / (2 * math.pi * s * s)))
                per_l2.append(math.sqrt(r2))
        nll.append(np.mean(per_nll))
        l2.append(np.mean(per_l2))
    assert res["surprise_source"] == "predicted"
    assert res["metrics"]["surprise"] == pytest.approx(np.mean(nll), rel=1e-9)
    assert res["l2_error"]["by_bucket"]["all"] == pytest.approx(np.mean(l2), rel=1e-9)
    # PCKh: matched people score their points within 0.5 * 0.6 * head diagonal; unmatched ones miss
    matched = {g["id"]: dt for dt, g in pairs}
    hits = total = 0
    for i, r in enumerate(world["data"]["rows"]):
        if r["head"] is None or r["crowd"] or not (r["kp"][:, 2] > 0).any():
            continue
        thr = 0.5 * 0.6 * math.hypot(r["head"][2], r["head"][3])
        for k in np.flatnonzero(r["kp"][:, 2] > 0):
            total += 1
            if i + 1 in matched:
                pk = np.reshape(matched[i + 1]["keypoints"], (21, 3))[k]
                hits += math.hypot(pk[0] - r["kp"][k, 0], pk[1] - r["kp"][k, 1]) <= thr
    assert res["pckh"]["n_points"] == total
    assert res["pckh"]["PCKh"] == pytest.approx(hits / total, abs=1e-12)


def test_per_keypoint_ap_equals_pycocotools_on_one_point(world):
    doc = evaluate(world["store"], world["pred"], kd_bins=0).document
    k = KEYPOINT_NAMES.index("left_wrist")
    twin = smallpose_twin(world["data"])
    for a in twin["annotations"]:
        kp = np.reshape(a["keypoints"], (21, 3))[k : k + 1]
        a["keypoints"], a["num_keypoints"] = kp.ravel().tolist(), int(kp[0, 2] > 0)
    twin["categories"][0]["keypoints"] = ["left_wrist"]
    preds1 = [dict(p, keypoints=np.reshape(p["keypoints"], (21, 3))[k].tolist()) for p in world["preds"]]
    E = run_pycocotools(twin, preds1, sigmas=SIGMAS[k : k + 1], area_rngs=[[0, 1e10]])
    # pycocotools' area for unmatched detections of a 1-point pose is 0: inside [0, 1e10] like ours
    assert doc["per_keypoint"]["left_wrist"]["AP"] == pytest.approx(E.stats[0], abs=1e-12)
    assert set(doc["per_keypoint"]) == set(KEYPOINT_NAMES)


def test_setting_a_seventeen_point_submission(world, tmp_path):
    (tmp_path / "p17.json").write_text(json.dumps(to17(world["preds"])))
    doc = evaluate(world["store"], tmp_path / "p17.json", kd_bins=0).document
    assert doc["protocol"]["name"] == "coco17"
    assert doc["protocol"]["keypoints"] == list(COCO17_NAMES)
    assert set(doc["per_keypoint"]) == set(COCO17_NAMES)
    # the same 21-point submission scored under coco17 gives the same numbers: only COCO points count
    doc21 = evaluate(world["store"], world["pred"], protocol="coco17", per_keypoint=False, kd_bins=0).document
    for key, v in doc21["metrics"].items():
        if key != "surprise":
            assert (
                doc["metrics"][key] == pytest.approx(v, abs=1e-12)
                if v is not None
                else doc["metrics"][key] is None
            )


def test_kd_curve_counts_small_instances_per_bin(world):
    doc = evaluate(world["store"], world["pred"], per_keypoint=False).document
    counts = np.zeros(10, int)
    for r in world["data"]["rows"]:
        n = int((r["kp"][:, 2] > 0).sum())
        a = r["bbox"][2] * r["bbox"][3]
        if n and not r["crowd"] and a < S_MAX:
            kd = 2 * (1 - 1 / (1 + math.exp(-(a / S_MAX) * 21 / n)))
            counts[int(kd * 10)] += 1
    assert [row["n_gt"] for row in doc["kd_curve"]] == counts.tolist()
    assert doc["kd_curve"][3]["kd_lo"] == 0.3 and doc["kd_curve"][-1]["kd_hi"] == 1.0


def test_fitted_and_calibrated_surprise_are_flagged(world, tmp_path):
    doc = evaluate(world["store"], world["pred"], per_keypoint=False, kd_bins=0).document
    assert doc["surprise_source"] == "fitted-on-eval"
    var = doc["surprise"]["keypoint_variances"]
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps({"keypoint_variances": [var.get(n, 0.01) for n in KEYPOINT_NAMES]}))
    doc2 = evaluate(world["store"], world["pred"], calibration=cal, per_keypoint=False, kd_bins=0).document
    assert doc2["surprise_source"] == "calibration"
    # the same variances give the same surprise; the ML fit is the best constant: any other is worse
    assert doc2["metrics"]["surprise"] == pytest.approx(doc["metrics"]["surprise"], rel=1e-12)
    cal.write_text(json.dumps({"keypoint_variances": [2 * var.get(n, 0.01) for n in KEYPOINT_NAMES]}))
    doc3 = evaluate(world["store"], world["pred"], calibration=cal, per_keypoint=False, kd_bins=0).document
    assert doc3["metrics"]["surprise"] > doc["metrics"]["surprise"]


def test_bootstrap_ci_brackets_the_estimate_and_is_seeded(world):
    a = evaluate(world["store"], world["pred"], bootstrap=60, seed=1, per_keypoint=False, kd_bins=0).document
    b = evaluate(world["store"], world["pred"], bootstrap=60, seed=1, per_keypoint=False, kd_bins=0).document
    assert a["ci"] == b["ci"]
    lo, hi = a["ci"]["AP"]
    assert lo <= a["metrics"]["AP"] <= hi and hi - lo > 0.01


def test_identical_images_give_a_zero_width_ci(tmp_path):
    rng = np.random.default_rng(5)
    one = people(rng, n_images=1, per_image=6)
    while len(one["rows"]) < 3:
        one = people(rng, n_images=1, per_image=6)
    rows = [dict(r, image=i) for i in range(8) for r in one["rows"]]
    data = {"n_images": 8, "rows": rows}
    store = build_store(tmp_path / "s", data)
    p = predictions(np.random.default_rng(1), {"n_images": 1, "rows": one["rows"]})
    preds = [dict(q, image_id=1000 + 7 * i) for i in range(8) for q in p]
    (tmp_path / "p.json").write_text(json.dumps(preds))
    doc = evaluate(store, tmp_path / "p.json", bootstrap=30, per_keypoint=False, kd_bins=0).document
    lo, hi = doc["ci"]["AP"]
    assert lo == pytest.approx(doc["metrics"]["AP"], abs=1e-12) and hi == pytest.approx(lo, abs=1e-12)


def test_images_over_max_dets_are_reported(world):
    doc = evaluate(world["store"], world["pred"], max_dets=2, per_keypoint=False, kd_bins=0).document
    per_image_gt = {}
    for r in world["data"]["rows"]:
        if not r["crowd"] and (r["kp"][:, 2] > 0).any():
            per_image_gt[r["image"]] = per_image_gt.get(r["image"], 0) + 1
    per_image_dt = {}
    for p in world["preds"]:
        per_image_dt[p["image_id"]] = per_image_dt.get(p["image_id"], 0) + 1
    assert doc["counts"]["images_over_max_dets_gt"] == sum(v > 2 for v in per_image_gt.values())
    assert doc["counts"]["images_over_max_dets_dt"] == sum(v > 2 for v in per_image_dt.values())
    assert doc["protocol"]["max_dets"] == 2


def test_real_coco_fixture_equals_pycocotools(fixtures_dir, tmp_path):
    """The COCO sample as ground truth (segmentation areas, num_keypoints 0 people) with noisy
    predictions, some on the wrong image, some false positives: our coco protocol vs pycocotools."""
    gt_path = fixtures_dir / "coco" / "test_coco.json"
    gt_doc = json.loads(gt_path.read_text())
    rng = np.random.default_rng(2)
    image_ids = [im["id"] for im in gt_doc["images"]]
    preds = []
    for a in gt_doc["annotations"]:
        kp = np.reshape(a["keypoints"], (17, 3)).astype(float)
        x, y, w, h = a["bbox"]
        kp[:, 0] = np.where(kp[:, 2] > 0, kp[:, 0], x + w / 2) + rng.normal(0, 0.05 * h, 17)
        kp[:, 1] = np.where(kp[:, 2] > 0, kp[:, 1], y + h / 2) + rng.normal(0, 0.05 * h, 17)
        kp[:, 2] = rng.uniform(0, 1, 17)
        preds.append({"image_id": a["image_id"], "category_id": 1, "keypoints": kp.ravel().tolist(),
                      "score": float(rng.uniform(0.2, 1))})  # fmt: skip
    for _ in range(4):
        kp = np.column_stack([rng.uniform(0, 300, 17), rng.uniform(0, 300, 17), rng.uniform(0, 1, 17)])
        preds.append({"image_id": int(rng.choice(image_ids)), "category_id": 1,
                      "keypoints": kp.ravel().tolist(), "score": float(rng.uniform(0, 1))})  # fmt: skip
    (tmp_path / "p.json").write_text(json.dumps(preds))
    E = run_pycocotools(gt_doc, preds)
    doc = evaluate(gt_path, tmp_path / "p.json").document
    assert doc["protocol"]["name"] == "coco" and doc["gt"]["fingerprint"] and len(doc["per_keypoint"]) == 17
    for i, k in enumerate(COCO10):
        ref, got = E.stats[i], doc["metrics"][k]
        assert (got is None and ref == -1) or got == pytest.approx(ref, abs=1e-12), k
