"""The engine's speed paths give pycocotools' numbers: matching split over two threads
(``_kernel.run_split``), the KD curve rematched from kept candidate lists or, past
``CAND_MAX``, matched anew, and per-keypoint AP with its near-pair pruning.

Small cases never reach the thresholds that switch these paths on, so each test forces them
(monkeypatch) and checks the result against pycocotools run on the same data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from smallpose.metrics import _kernel, cocoeval
from smallpose.metrics.evaluate import evaluate

sys.path.insert(0, str(Path(__file__).parent))
from test_eval import run_pycocotools, smallpose_twin, world  # noqa: E402, F401 - fixture
from test_metrics_parity import (  # noqa: E402
    assert_stats_equal,
    assert_tables_equal,
    ours,
    pycoco_eval,
    random_case,
)

from smallpose.skeleton import KEYPOINT_NAMES, SIGMAS  # noqa: E402


@pytest.mark.parametrize("seed", range(0, 150, 5))
def test_split_matching_equals_pycocotools(seed: int, monkeypatch) -> None:
    monkeypatch.setattr(_kernel, "SPLIT_MIN_PAIRS", 0)  # every case with 2+ images is split
    calls = []
    real = _kernel.run_split

    def spy(kernel, gt_start, dt_start, *args):
        calls.append(len(gt_start) - 1)
        real(kernel, gt_start, dt_start, *args)

    monkeypatch.setattr(_kernel, "run_split", spy)
    dataset, results = random_case(seed)
    ref = pycoco_eval(dataset, results)
    _, acc, stats = ours(dataset, results)
    assert calls, "the matching did not go through run_split"
    assert_stats_equal(stats, ref.stats)
    assert_tables_equal(acc, ref)


def _one_point_pycocotools_ap(world, name: str) -> float:  # noqa: F811 - fixture value
    k = KEYPOINT_NAMES.index(name)
    twin = smallpose_twin(world["data"])
    for a in twin["annotations"]:
        kp = np.reshape(a["keypoints"], (21, 3))[k : k + 1]
        a["keypoints"], a["num_keypoints"] = kp.ravel().tolist(), int(kp[0, 2] > 0)
    twin["categories"][0]["keypoints"] = [name]
    preds1 = [dict(p, keypoints=np.reshape(p["keypoints"], (21, 3))[k].tolist()) for p in world["preds"]]
    return float(run_pycocotools(twin, preds1, sigmas=SIGMAS[k : k + 1], area_rngs=[[0, 1e10]]).stats[0])


@pytest.mark.parametrize("split", [False, True])
def test_per_keypoint_ap_equals_pycocotools_for_every_point(world, monkeypatch, split) -> None:  # noqa: F811
    if split:
        monkeypatch.setattr(_kernel, "SPLIT_MIN_PAIRS", 0)
    doc = evaluate(world["store"], world["pred"], kd_bins=0).document
    for name in ("nose", "head_top", "head_bottom", "left_wrist", "pelvis", "right_ankle"):
        want = _one_point_pycocotools_ap(world, name)
        assert doc["per_keypoint"][name]["AP"] == pytest.approx(want, abs=1e-12), name


def test_kd_curve_same_from_kept_candidates_split_and_anew(world, monkeypatch) -> None:  # noqa: F811
    """Three routes to the KD curve: kept candidate lists (default), the same split over two
    threads, and a fresh matching when the lists are not kept (too many pairs)."""
    base = evaluate(world["store"], world["pred"], per_keypoint=False).document
    assert sum(r["n_gt"] for r in base["kd_curve"]) > 0
    monkeypatch.setattr(_kernel, "SPLIT_MIN_PAIRS", 0)
    split = evaluate(world["store"], world["pred"], per_keypoint=False).document
    monkeypatch.setattr(cocoeval, "CAND_MAX", 0)
    anew = evaluate(world["store"], world["pred"], per_keypoint=False).document
    assert json.dumps(split["kd_curve"]) == json.dumps(base["kd_curve"])
    assert json.dumps(anew["kd_curve"]) == json.dumps(base["kd_curve"])
    assert json.dumps(anew["metrics"]) == json.dumps(base["metrics"])


def test_candidate_lists_hold_every_pair_above_the_lowest_threshold(world) -> None:  # noqa: F811
    """The kept lists against the OKS matrix of compute_oks (pycocotools' formula)."""
    from smallpose.metrics.groundtruth import load_groundtruth
    from smallpose.metrics.submission import load_submission

    lgt = load_groundtruth(world["store"])
    sub = load_submission(world["pred"], lgt.gt.eval_image_ids)
    from smallpose.metrics.evaluate import detections_for, protocol_params

    _, params = protocol_params("smallpose", 21, 21, 20)
    dt = detections_for(sub, 21, params)
    res = cocoeval.match(lgt.gt, dt, params)
    assert res.cand is not None
    gt, n_found = lgt.gt, 0
    for im in range(res.num_images):
        g0, g1, d0, d1 = res.gt_start[im], res.gt_start[im + 1], res.dt_start[im], res.dt_start[im + 1]
        if g1 == g0 or d1 == d0:
            continue
        g_rows, d_rows = res.gt_rows[g0:g1], res.dt_rows[d0:d1]
        oks = cocoeval.compute_oks(gt.keypoints[g_rows], gt.bbox[g_rows], gt.area[g_rows],
                                   dt.keypoints[d_rows], params.sigmas)  # fmt: skip
        for i in range(d1 - d0):
            at, n = res.cand_off[d0 + i], res.cand_n[d0 + i]
            want = np.flatnonzero(oks[i] >= 0.5)
            assert res.cand[at : at + n].tolist() == want.tolist()
            np.testing.assert_allclose(res.cand_oks[at : at + n], oks[i, want], rtol=0, atol=1e-12)
            n_found += n
    assert n_found > 10


@pytest.mark.parametrize("seed", range(1, 150, 7))
def test_compiled_accumulation_equals_pycocotools(seed: int) -> None:
    """``kd_curve.accumulate_fast`` (what evaluate's table now uses) against COCOeval's tables."""
    from smallpose.metrics.kd_curve import accumulate_fast

    dataset, results = random_case(seed)
    ref = pycoco_eval(dataset, results)
    res, acc, _ = ours(dataset, results)
    fast = accumulate_fast(res)
    np.testing.assert_allclose(fast["precision"], ref.eval["precision"][:, :, 0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(fast["recall"], ref.eval["recall"][:, 0], atol=1e-12, rtol=0)
    assert np.array_equal(fast["precision"], acc["precision"])  # and to the bit with the numpy one
    assert np.array_equal(fast["recall"], acc["recall"])


def test_kernel_warm_up_runs_without_error() -> None:
    """The warm-up swallows failures (it is only an optimisation): make sure it does not fail."""
    from smallpose.metrics import warmup

    # an earlier evaluate() may have started the background warm-up, still compiling on a cold
    # numba cache: warm_up() rightly skips while another runs, so wait for it to finish first
    with warmup._started:
        pass
    warmup._done = False
    warmup.warm_up()
    assert warmup._done
