"""AP as a function of keypoint density (the paper's Fig. 4a) and AP per keypoint type.

Both re-run the matching with other parameters (buckets, keypoint selection) on the same
ground truth and detections; they are separate from the main table because they cost one
extra matching (KD curve) or one per keypoint type (per-keypoint AP). Given the main
matching (``result``), both reuse its rows and run compiled passes here (all 21 keypoint
matchings in one pass), with the same arithmetic and greedy rule as ``_kernel``, so the
numbers equal those of separate ``match`` calls bit for bit, at a fraction of the cost.

- KD curve: small instances (bbox area in (0, 128*96)) binned by KD into ``n_bins`` equal
  bins over [0, 1), each bin evaluated as a bucket (ground truths outside it ignored;
  unmatched detections attributed as for the density classes, see docs/metrics.md).
- Per-keypoint AP: OKS restricted to one keypoint type (its own sigma); ground truths where
  that point is not annotated are ignored, as COCO ignores instances with no keypoint.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numba import njit
from smallpose.metrics._kernel import _greedy, _unmatched, rematch_buckets, run_split
from smallpose.metrics.arrays import Detections, GroundTruth
from smallpose.metrics.cocoeval import (
    MatchResult,
    _channel,
    _keypoint_columns,
    _mean_valid,
    ignore_unmatched_outside,
    match,
    summarize,
)
from smallpose.metrics.params import SMALL_MAX, Bucket, Params, in_range


def kd_buckets(n_bins: int = 10) -> list[Bucket]:
    edges = np.round(np.linspace(0.0, 1.0, n_bins + 1), 10)
    return [
        Bucket(f"kd_{i}", (0.0, SMALL_MAX), area_field="bbox_area", area_closed="left",
               kd_rng=(float(edges[i]), float(edges[i + 1])), kd_closed="left")
        for i in range(n_bins)
    ]  # fmt: skip


def kd_curve(
    gt: GroundTruth, dt: Detections, params: Params, n_bins: int = 10, result: MatchResult | None = None
) -> list[dict]:
    """``[{kd_lo, kd_hi, n_gt, AP, AP50}]`` for small instances, one row per KD bin (AP None if empty).

    ``result``: a ``match`` of the same gt/dt/params (any buckets): its rows, OKS candidates and
    density attribution are reused, so only the bins' greedy matchings are run.
    """
    bins = kd_buckets(n_bins)
    p = params.with_buckets([params.buckets[params.bucket_index("all")], *bins])
    # without kept candidate lists (a huge case) the rematch would need the OKS again: match anew
    res = match(gt, dt, p) if result is None or result.cand is None else _rematch(gt, dt, p, result)
    acc = accumulate_fast(res)
    stats = summarize(acc["precision"], acc["recall"], p)
    rows = []
    for i, b in enumerate(bins, start=1):
        n_gt = int((~res.gt_ignore[i]).sum())
        ap, ap50 = stats[f"AP_{b.name}"], _ap_at(acc["precision"], p, i, 0.5)
        rows.append({
            "kd_lo": b.kd_rng[0], "kd_hi": b.kd_rng[1], "n_gt": n_gt,
            "AP": ap if ap >= 0 else None, "AP50": ap50 if ap50 >= 0 else None,
        })  # fmt: skip
    return rows


def accumulate_fast(result: MatchResult) -> dict[str, np.ndarray]:
    """``cocoeval.accumulate(result)`` (no image weights) as one compiled pass per bucket and
    threshold, without the (T, D) temporaries: precision and recall, the same numbers bit for
    bit (counts are exact in float64; every division and maximum is the same operation)."""
    p = result.params
    T, R, B, M = len(p.iou_thrs), len(p.rec_thrs), len(p.buckets), len(p.max_dets)
    precision = -np.ones((T, R, B, M))
    recall = -np.ones((T, B, M))
    npig = (~result.gt_ignore).sum(axis=1).astype(np.int64)
    order = result.score_order
    for m, max_det in enumerate(p.max_dets):
        sel = order[result.dt_rank[order] < max_det]
        _accumulate_kernel(result.dt_match, result.dt_ignore, sel, npig, p.rec_thrs, m, precision, recall)
    return {"precision": precision, "recall": recall}


@njit(cache=True, nogil=True)
def _accumulate_kernel(dt_match, dt_ignore, sel, npig, rec_thrs, m, precision, recall):
    B, T, nd, R = dt_match.shape[0], dt_match.shape[1], sel.shape[0], rec_thrs.shape[0]
    eps = np.spacing(1.0)
    rc = np.empty(nd)
    pr = np.empty(nd)
    for b in range(B):
        if npig[b] == 0:
            continue
        for t in range(T):
            if nd == 0:
                recall[t, b, m] = 0
                precision[t, :, b, m] = 0
                continue
            tp = 0.0
            fp = 0.0
            for q in range(nd):
                d = sel[q]
                if not dt_ignore[b, t, d]:
                    if dt_match[b, t, d] >= 0:
                        tp += 1.0
                    else:
                        fp += 1.0
                rc[q] = tp / npig[b]
                pr[q] = tp / (fp + tp + eps)
            recall[t, b, m] = rc[nd - 1]
            for q in range(nd - 2, -1, -1):  # COCO's interpolation: max of the precisions after
                pr[q] = max(pr[q + 1], pr[q])
            q = 0
            for r in range(R):  # searchsorted(rc, rec_thrs, side="left"), rc non-decreasing
                while q < nd and rc[q] < rec_thrs[r]:
                    q += 1
                precision[t, r, b, m] = pr[q] if q < nd else 0.0


def _rematch(gt: GroundTruth, dt: Detections, p: Params, result: MatchResult) -> MatchResult:
    """``match(gt, dt, p)`` where ``result`` matched the same gt/dt with p's keypoints, sigmas and
    maxDets but other buckets: same steps as ``match`` for the bucket-dependent parts only."""
    g_rows, d_rows = result.gt_rows, result.dt_rows
    gcols = _keypoint_columns(gt.keypoints, p, "ground truths")
    num_kp = (
        (_channel(gt.keypoints, g_rows, gcols, 2) > 0).sum(axis=1)
        if p.recount_keypoints
        else gt.num_keypoints[g_rows]
    )
    crowd = gt.iscrowd[g_rows]
    base_ignore = crowd | (num_kp == 0)
    kd = gt.kd[g_rows]
    B, T, D = len(p.buckets), len(p.iou_thrs), len(d_rows)
    gt_ignore = np.empty((B, len(g_rows)), dtype=bool)
    for b, bucket in enumerate(p.buckets):
        inside = in_range(gt.area_field(bucket.area_field)[g_rows], bucket.area_rng, bucket.area_closed)
        if bucket.kd_rng is not None:
            inside &= in_range(kd, bucket.kd_rng, bucket.kd_closed)
        gt_ignore[b] = base_ignore | ~inside
    dcols = _keypoint_columns(dt.keypoints, p, "detections")
    if dcols is not None and dcols.shape[0] > 1:
        dx, dy = (_channel(dt.keypoints, d_rows, dcols, c) for c in range(2))
        dt_area = (dx.max(axis=1) - dx.min(axis=1)) * (dy.max(axis=1) - dy.min(axis=1))
    else:
        dt_area = dt.area[d_rows]
    dt_match = np.empty((B, T, D), dtype=np.int32)  # set to -1 (unmatched) by the kernel
    dt_ig = np.zeros((B, T, D), dtype=bool)
    run_split(
        rematch_buckets, result.gt_start, result.dt_start, result.cand_off, result.cand_n, result.cand,
        result.cand_oks, crowd, gt_ignore, p.iou_thrs, dt_match, dt_ig,
    )  # fmt: skip
    # best_gt depends on OKS and the annotated gts only, not on buckets: reused as matched
    ignore_unmatched_outside(dt_ig, dt_match, dt_area, kd, result.dt_best_gt, p.buckets)
    # gt_match is not used by accumulate and not filled here
    return replace(result, params=p, gt_ignore=gt_ignore, gt_match=np.zeros((B, T, 0), np.int32),
                   dt_match=dt_match, dt_ignore=dt_ig)  # fmt: skip


def _ap_at(precision: np.ndarray, p: Params, b: int, thr: float) -> float:
    s = precision[np.flatnonzero(np.isclose(p.iou_thrs, thr)), :, b, -1]
    v = s[s > -1]
    return float(v.mean()) if v.size else -1.0


def per_keypoint_ap(
    gt: GroundTruth, dt: Detections, params: Params, names: list[str], result: MatchResult | None = None
) -> dict[str, dict]:
    """``{name: {"AP", "AP50", "n_gt"}}`` for each keypoint type the protocol scores.

    ``names[j]`` names the protocol's j-th keypoint (in ``params.sigmas`` order). Equals one
    ``match(gt, dt, params.for_keypoints([j]).with_buckets(["all"]))`` per keypoint, but the
    image grouping and score order do not depend on the keypoint, so all K matchings share
    them (taken from ``result``, a ``match`` of the same gt/dt/maxDets) and run in one
    compiled pass that reads each (detection, ground truth) pair once.
    """
    base = params.buckets[params.bucket_index("all")]
    if result is None:
        result = match(gt, dt, params.with_buckets([base]))
    K = len(names)
    cols = np.array([int(params.for_keypoints([j]).keypoint_index[0]) for j in range(K)], dtype=np.int64)
    g_rows, d_rows = result.gt_rows, result.dt_rows
    T, G, D = len(params.iou_thrs), len(g_rows), len(d_rows)
    # recount: a ground truth without keypoint j is ignored for j (COCO's num_keypoints == 0);
    # filled by the kernel with the points it reads: (K, G) = crowd | point j missing | outside
    gt_ignore = np.empty((K, G), dtype=bool)
    # which gt a detection matched is not needed here, only whether (1) or not (-1): int8 keeps
    # this (K, T, D) array small, as it lives while the main thread computes the rest
    dt_match = np.empty((K, T, D), dtype=np.int8)  # set to -1 (unmatched) by the kernel
    dt_ig = np.zeros((K, T, D), dtype=bool)
    run_split(
        _match_per_keypoint, result.gt_start, result.dt_start, gt.keypoints, g_rows, dt.keypoints, d_rows,
        cols, np.ascontiguousarray(gt.bbox[g_rows]), np.ascontiguousarray(gt.area[g_rows]),
        gt.iscrowd[g_rows], in_range(gt.area_field(base.area_field)[g_rows], base.area_rng, base.area_closed),
        in_range(dt.area[d_rows], base.area_rng, base.area_closed), (params.sigmas * 2) ** 2,
        params.iou_thrs, gt_ignore, dt_match, dt_ig,
    )  # fmt: skip
    p = params.with_buckets([replace(base, name=f"kp_{j}") for j in range(K)])
    res = replace(result, params=p, gt_ignore=gt_ignore, gt_match=np.zeros((K, T, 0), np.int32),
                  dt_match=dt_match, dt_ignore=dt_ig)  # fmt: skip
    prec = accumulate_fast(res)["precision"]
    m = len(p.max_dets) - 1
    out = {}
    for j, name in enumerate(names):
        ap, ap50 = _mean_valid(prec[:, :, j, m]), _ap_at(prec, p, j, 0.5)
        out[name] = {
            "AP": ap if ap >= 0 else None,
            "AP50": ap50 if ap50 >= 0 else None,
            "n_gt": int((~gt_ignore[j]).sum()),
        }
    return out


@njit(cache=True, nogil=True)
def _match_per_keypoint(
    gt_start, dt_start, gt_kp, g_rows, dt_kp, d_rows, cols, gt_bbox, gt_area, gt_crowd, gt_inside, dt_counts,
    vars_, thrs, gt_ignore, dt_match, dt_ig,
):  # fmt: skip
    """For each keypoint k, COCO's matching with OKS on point k alone (``_kernel._match_image``
    with K = 1, same arithmetic): exp(-e) of the point's distance when the ground truth has it,
    else of its distance to the ground truth's box grown by one box size on every side.

    Points are read in place (``gt_kp[g_rows[g], cols[k]]``), one image at a time into small
    (K, n) arrays, so no (K, G) copies of the whole set are made."""
    K, T = cols.shape[0], thrs.shape[0]
    eps = np.spacing(1.0)
    thr_min = min(thrs.min(), 1 - 1e-10)
    # OKS >= thr_min needs e <= -log(thr_min), i.e. d2 <= 2 vars (area + eps) (-log thr_min); the
    # 1.25 margin keeps this cheap screen far from rounding, the exact test follows it
    far = vars_ * (2.0 * 1.25 * -np.log(thr_min)) if thr_min > 0 else np.full(K, np.inf)
    far_max = far.max()
    for im in range(gt_start.shape[0] - 1):
        g0, g1, d0, d1 = gt_start[im], gt_start[im + 1], dt_start[im], dt_start[im + 1]
        ng, nd = g1 - g0, d1 - d0
        _unmatched(dt_match, d0, d1)
        gx, gy = np.empty((K, ng)), np.empty((K, ng))
        gv = np.empty((K, ng), dtype=np.bool_)
        for j in range(ng):
            r = g_rows[g0 + j]
            for k in range(K):
                gx[k, j] = gt_kp[r, cols[k], 0]
                gy[k, j] = gt_kp[r, cols[k], 1]
                gv[k, j] = gt_kp[r, cols[k], 2] > 0
                gt_ignore[k, g0 + j] = gt_crowd[g0 + j] or not gv[k, j] or not gt_inside[g0 + j]
        if ng == 0 or nd == 0:
            continue
        dx, dy = np.empty((K, nd)), np.empty((K, nd))
        for i in range(nd):
            r = d_rows[d0 + i]
            for k in range(K):
                dx[k, i] = dt_kp[r, cols[k], 0]
                dy[k, i] = dt_kp[r, cols[k], 1]
        # per detection, the gts near enough for any point to pass the screen (CSR, in gt order)
        near = _near_pairs(g0, gx, gy, gv, dx, dy, gt_bbox, gt_area, far_max, eps)
        near_start = np.empty(nd + 1, dtype=np.int64)
        near_j = np.empty(nd * ng, dtype=np.int64)
        n = 0
        for i in range(nd):
            near_start[i] = n
            for j in range(ng):
                if near[i, j]:
                    near_j[n] = j
                    n += 1
        near_start[nd] = n
        cand_oks = np.empty(nd * ng)
        cand_start = np.empty(nd + 1, dtype=np.int64)
        cand = np.empty(nd * ng, dtype=np.int64)
        taken = np.zeros(ng, dtype=np.bool_)
        act = np.empty(nd, dtype=np.int64)  # detections with a candidate, in score order
        act_best = np.empty(nd)
        for k in range(K):
            n = 0
            n_act = 0
            for i in range(nd):
                cand_start[i] = n
                best = -1.0
                px, py = dx[k, i], dy[k, i]
                for jj in range(near_start[i], near_start[i + 1]):  # the others fail the screen
                    j = near_j[jj]
                    g = g0 + j
                    if gv[k, j]:
                        ddx = px - gx[k, j]
                        ddy = py - gy[k, j]
                    else:
                        x0 = gt_bbox[g, 0] - gt_bbox[g, 2]
                        x1 = gt_bbox[g, 0] + gt_bbox[g, 2] * 2
                        y0 = gt_bbox[g, 1] - gt_bbox[g, 3]
                        y1 = gt_bbox[g, 1] + gt_bbox[g, 3] * 2
                        ddx = max(0.0, x0 - px) + max(0.0, px - x1)
                        ddy = max(0.0, y0 - py) + max(0.0, py - y1)
                    d2 = ddx * ddx + ddy * ddy
                    if d2 > far[k] * (gt_area[g] + eps):
                        continue  # OKS surely below every threshold: never read (not a candidate)
                    e = d2 / vars_[k] / (gt_area[g] + eps) / 2
                    o = np.exp(-e) if e < 746.0 else 0.0
                    if o >= thr_min:
                        cand_oks[n] = o
                        cand[n] = j
                        n += 1
                        best = max(best, o)
                if n > cand_start[i]:
                    act[n_act] = i
                    act_best[n_act] = best
                    n_act += 1
            cand_start[nd] = n
            if n == 0:
                continue  # no candidate for this keypoint: nothing matches at any threshold
            for t in range(T):
                thr = min(thrs[t], 1 - 1e-10)
                taken[:] = False
                for a in range(n_act):
                    if act_best[a] < thr:
                        continue  # every candidate below the threshold: COCO's loop finds none
                    i = act[a]
                    c0, c1 = cand_start[i], cand_start[i + 1]
                    mm = _greedy(c0, c1, thr, cand, cand_oks, taken, gt_crowd, gt_ignore, k, g0)
                    if mm == -1:
                        continue
                    dt_ig[k, t, d0 + i] = gt_ignore[k, g0 + mm]
                    dt_match[k, t, d0 + i] = 1
                    taken[mm] = True
    # an unmatched detection outside the area range is ignored (COCO: by its own area)
    for d in range(dt_start[0], dt_start[-1]):
        if not dt_counts[d]:
            for k in range(K):
                for t in range(T):
                    if dt_match[k, t, d] < 0:
                        dt_ig[k, t, d] = True


@njit(cache=True, nogil=True)
def _box(x, y, use, col, out):
    """min x, max x, min y, max y of column ``col``'s points (those with ``use``, if it has
    rows) into out; NaNs are left out (``<`` is false), (inf, -inf, inf, -inf) where none."""
    lo_x, hi_x, lo_y, hi_y = np.inf, -np.inf, np.inf, -np.inf
    for k in range(x.shape[0]):
        if use.shape[0] > 0 and not use[k, col]:
            continue
        if x[k, col] < lo_x:
            lo_x = x[k, col]
        if x[k, col] > hi_x:
            hi_x = x[k, col]
        if y[k, col] < lo_y:
            lo_y = y[k, col]
        if y[k, col] > hi_y:
            hi_y = y[k, col]
    out[0], out[1], out[2], out[3] = lo_x, hi_x, lo_y, hi_y


@njit(cache=True, nogil=True)
def _near_pairs(g0, gx, gy, gv, dx, dy, gt_bbox, gt_area, far_max, eps):
    """(nd, ng): False where no keypoint of the pair can pass ``_match_per_keypoint``'s screen.

    Most pairs of a crowded image are people far apart. A point's distance to the ground truth
    (its point, or its grown box when the point is not annotated) is at least the gap between
    the detection's keypoint box and the ground truth's annotated-point box (or grown box), and
    float subtraction, products and sums are monotonic, so ``gap^2 > far_max (area + eps)``
    implies ``d2 > far[k] (area + eps)`` for every k as computed there: nothing is lost.
    NaN coordinates lie outside the boxes (``_box``); such points are never candidates anyway.
    """
    K, ng, nd = gx.shape[0], gx.shape[1], dx.shape[1]
    no_mask = np.empty((0, 0), dtype=np.bool_)
    dbox = np.empty((nd, 4))
    for i in range(nd):
        _box(dx, dy, no_mask, i, dbox[i])
    gbox = np.empty(4)
    near = np.ones((nd, ng), dtype=np.bool_)
    for j in range(ng):
        g = g0 + j
        r2 = far_max * (gt_area[g] + eps)
        if not r2 > 0:
            continue  # no safe bound (area not positive, NaN): keep every pair
        _box(gx, gy, gv, j, gbox)
        n_vis = 0
        for k in range(K):
            n_vis += gv[k, j]
        x0 = gt_bbox[g, 0] - gt_bbox[g, 2]
        x1 = gt_bbox[g, 0] + gt_bbox[g, 2] * 2
        y0 = gt_bbox[g, 1] - gt_bbox[g, 3]
        y1 = gt_bbox[g, 1] + gt_bbox[g, 3] * 2
        for i in range(nd):
            lb = np.inf
            if n_vis > 0:
                bx = max(0.0, max(dbox[i, 0] - gbox[1], gbox[0] - dbox[i, 1]))
                by = max(0.0, max(dbox[i, 2] - gbox[3], gbox[2] - dbox[i, 3]))
                lb = bx * bx + by * by
            if n_vis < K:
                ex = max(0.0, max(dbox[i, 0] - x1, x0 - dbox[i, 1]))
                ey = max(0.0, max(dbox[i, 2] - y1, y0 - dbox[i, 3]))
                e2 = ex * ex + ey * ey
                lb = min(lb, e2) if e2 == e2 else 0.0  # a NaN box: no bound
            near[i, j] = not lb > r2
    return near
