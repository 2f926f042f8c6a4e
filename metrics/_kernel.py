"""The per-image OKS + greedy matching loop of COCOeval.evaluateImg, compiled with numba.

Greedy matching is sequential by nature (each detection sees which ground truths earlier,
higher-scored detections took), so it cannot be a numpy expression; pycocotools runs it as
nested Python loops. Here one compiled pass over flat, image-sorted arrays does every image,
every bucket and every threshold. ``cache=True`` keeps the compile out of all but the first run.

The loop body mirrors pycocotools line by line (see comments) so that ties, crowd regions and
the "stop at the first ignored gt once a real one matched" rule give identical matches.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EPS = np.spacing(1)  # pycocotools divides by gt area + np.spacing(1)


@njit(cache=True, nogil=True)
def _oks_image(g0, g1, d0, d1, gt_x, gt_y, gt_v, gt_k1, gt_bbox, gt_area, dt_x, dt_y, vars_, out):
    """OKS of detections d0:d1 against ground truths g0:g1 into out[:nd, :ng] (computeOks)."""
    K = vars_.shape[0]
    for j in range(g1 - g0):
        g = g0 + j
        k1 = gt_k1[g]
        # create bounds for ignore regions (double the gt bbox)
        x0 = gt_bbox[g, 0] - gt_bbox[g, 2]
        x1 = gt_bbox[g, 0] + gt_bbox[g, 2] * 2
        y0 = gt_bbox[g, 1] - gt_bbox[g, 3]
        y1 = gt_bbox[g, 1] + gt_bbox[g, 3] * 2
        denom = gt_area[g] + EPS
        for i in range(d1 - d0):
            d = d0 + i
            s = 0.0
            n = 0
            for k in range(K):
                if k1 > 0:
                    if not gt_v[g, k] > 0:
                        continue
                    dx = dt_x[d, k] - gt_x[g, k]
                    dy = dt_y[d, k] - gt_y[g, k]
                else:
                    # distance to the box-expanded region when no point is visible
                    dx = max(0.0, x0 - dt_x[d, k]) + max(0.0, dt_x[d, k] - x1)
                    dy = max(0.0, y0 - dt_y[d, k]) + max(0.0, dt_y[d, k] - y1)
                e = (dx * dx + dy * dy) / vars_[k] / denom / 2
                if e < 746.0:  # exp(-746) is already 0.0 in float64: skip the call
                    s += np.exp(-e)
                n += 1
            out[i, j] = s / n


@njit(cache=True, nogil=True)
def match_images(
    gt_start, dt_start, gt_x, gt_y, gt_v, gt_k1, gt_bbox, gt_area, gt_crowd, gt_ignore, gt_candidate,
    dt_x, dt_y, vars_, thrs, dt_match, dt_ig, gt_match, best_gt, best_oks,
):  # fmt: skip
    """Match every image, bucket and threshold; fill the (pre-set to -1/False) outputs.

    gt_ignore (B, G): COCO's per-area-range ``_ignore`` (crowd, no keypoints, outside bucket).
    dt_match / gt_match (B, T, D|G): the partner's global row, -1 when unmatched.
    dt_ig (B, T, D): the detection matched an ignored ground truth (crowd or out of bucket).
    best_gt / best_oks (D,): highest-OKS candidate ground truth of the same image, used to
    attribute unmatched detections to a density class.
    """
    n_img = gt_start.shape[0] - 1
    for im in range(n_img):  # prange measured no faster on 2 shared cores; serial stays simple
        _match_image(
            gt_start[im], gt_start[im + 1], dt_start[im], dt_start[im + 1], gt_x, gt_y, gt_v, gt_k1,
            gt_bbox, gt_area, gt_crowd, gt_ignore, gt_candidate, dt_x, dt_y, vars_, thrs, dt_match,
            dt_ig, gt_match, best_gt, best_oks,
        )  # fmt: skip


@njit(cache=True, nogil=True)
def _match_image(
    g0, g1, d0, d1, gt_x, gt_y, gt_v, gt_k1, gt_bbox, gt_area, gt_crowd, gt_ignore, gt_candidate,
    dt_x, dt_y, vars_, thrs, dt_match, dt_ig, gt_match, best_gt, best_oks,
):  # fmt: skip
    ng = g1 - g0
    nd = d1 - d0
    if ng == 0 or nd == 0:
        return  # computeOks returns [] and no detection can match
    B = gt_ignore.shape[0]
    T = thrs.shape[0]
    oks = np.empty((nd, ng))
    _oks_image(g0, g1, d0, d1, gt_x, gt_y, gt_v, gt_k1, gt_bbox, gt_area, dt_x, dt_y, vars_, oks)
    # per detection, the gts it could match at the lowest threshold (CSR lists): a gt with
    # OKS below the threshold is skipped by every branch of COCO's loop (see _greedy)
    cand_start = np.empty(nd + 1, dtype=np.int64)
    cand = np.empty(nd * ng, dtype=np.int64)
    thr_min = min(thrs.min(), 1 - 1e-10)
    n = 0
    for i in range(nd):
        cand_start[i] = n
        for j in range(ng):
            if gt_candidate[g0 + j] and (best_gt[d0 + i] < 0 or oks[i, j] > best_oks[d0 + i]):
                best_gt[d0 + i] = g0 + j
                best_oks[d0 + i] = oks[i, j]
            if oks[i, j] >= thr_min:
                cand[n] = j
                n += 1
    cand_start[nd] = n
    if n == 0:
        return
    taken = np.zeros(ng, dtype=np.bool_)
    for b in range(B):
        # a bucket ignoring exactly the same gts of this image as an earlier one matches the same
        same = -1
        for b2 in range(b):
            eq = True
            for j in range(ng):
                if gt_ignore[b, g0 + j] != gt_ignore[b2, g0 + j]:
                    eq = False
                    break
            if eq:
                same = b2
                break
        if same >= 0:
            for t in range(T):
                dt_match[b, t, d0:d1] = dt_match[same, t, d0:d1]
                dt_ig[b, t, d0:d1] = dt_ig[same, t, d0:d1]
                gt_match[b, t, g0:g1] = gt_match[same, t, g0:g1]
            continue
        for t in range(T):
            thr = min(thrs[t], 1 - 1e-10)
            taken[:] = False
            for i in range(nd):
                m = _greedy(i, thr, cand, cand_start, oks, taken, gt_crowd, gt_ignore, b, g0)
                if m == -1:
                    continue
                dt_ig[b, t, d0 + i] = gt_ignore[b, g0 + m]
                dt_match[b, t, d0 + i] = g0 + m
                gt_match[b, t, g0 + m] = d0 + i
                taken[m] = True


@njit(cache=True, nogil=True, inline="always")
def _greedy(i, thr, cand, cand_start, oks, taken, gt_crowd, gt_ignore, b, g0):
    """COCO's inner loop for detection i over gts sorted ignored-last, on the candidates only.

    pycocotools scans gts in ignored-last order: skip a taken non-crowd gt; stop at the first
    ignored gt once a non-ignored one matched; skip a gt whose OKS is below the best so far
    (``iou``, starting at the threshold); else take it (a later equal OKS wins). Gts below the
    threshold never change ``m``, and the stop only ends the scan of ignored gts, so scanning the
    candidates in two passes (non-ignored, then ignored if none matched) gives the same ``m``.
    """
    iou = thr
    m = -1
    for c in range(cand_start[i], cand_start[i + 1]):
        j = cand[c]
        if gt_ignore[b, g0 + j] or (taken[j] and not gt_crowd[g0 + j]) or oks[i, j] < iou:
            continue
        iou = oks[i, j]
        m = j
    if m > -1:
        return m
    for c in range(cand_start[i], cand_start[i + 1]):
        j = cand[c]
        if not gt_ignore[b, g0 + j] or (taken[j] and not gt_crowd[g0 + j]) or oks[i, j] < iou:
            continue
        iou = oks[i, j]
        m = j
    return m
