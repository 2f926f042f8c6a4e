"""The per-image OKS + greedy matching loop of COCOeval.evaluateImg, compiled with numba.

Greedy matching is sequential by nature (each detection sees which ground truths earlier,
higher-scored detections took), so it cannot be a numpy expression; pycocotools runs it as
nested Python loops. Here one compiled pass over flat, image-sorted arrays does every image,
every bucket and every threshold. ``cache=True`` keeps the compile out of all but the first run.

The loop body mirrors pycocotools line by line (see comments) so that ties, crowd regions and
the "stop at the first ignored gt once a real one matched" rule give identical matches.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

EPS = np.spacing(1)  # pycocotools divides by gt area + np.spacing(1)
#: below this many (detection, ground truth) pairs a second thread costs more than it saves
SPLIT_MIN_PAIRS = 200_000


def run_split(kernel, gt_start: np.ndarray, dt_start: np.ndarray, *args) -> None:
    """``kernel(gt_start, dt_start, *args)`` over all images, as two halves on two threads.

    The kernels are compiled with ``nogil`` and treat each image on its own, writing only its
    rows of the outputs, so the halves run truly in parallel and give the same bytes as one
    call. Images are split where the running count of (detection, ground truth) pairs, the
    OKS work, reaches half. ``gt_start[a:b + 1]`` is images a..b-1 (rows stay absolute).
    """
    ng, nd = np.diff(gt_start), np.diff(dt_start)
    cost = np.cumsum(ng * nd + nd)
    if cost.shape[0] < 2 or cost[-1] < SPLIT_MIN_PAIRS:
        kernel(gt_start, dt_start, *args)
        return
    mid = int(np.searchsorted(cost, cost[-1] / 2)) + 1
    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(kernel, gt_start[mid:], dt_start[mid:], *args)
        kernel(gt_start[: mid + 1], dt_start[: mid + 1], *args)
        later.result()


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
    dt_x, dt_y, vars_, thrs, dt_match, dt_ig, gt_match, best_gt, best_oks, cand_off, cand_n, cand, cand_oks,
):  # fmt: skip
    """Match every image, bucket and threshold; fill the (pre-set to -1/False) outputs.

    gt_ignore (B, G): COCO's per-area-range ``_ignore`` (crowd, no keypoints, outside bucket).
    dt_match / gt_match (B, T, D|G): the partner's global row, -1 when unmatched.
    dt_ig (B, T, D): the detection matched an ignored ground truth (crowd or out of bucket).
    best_gt / best_oks (D,): highest-OKS candidate ground truth of the same image, used to
    attribute unmatched detections to a density class.
    cand_off (D,): where detection d's candidate slots start in cand / cand_oks (it has as many
    as its image has gts); cand_n (D,) is filled with its count of gts with OKS >= the lowest
    threshold, cand (image-local gt index) and cand_oks with them, in gt order, so that other
    buckets can be matched later without the OKS (``rematch_buckets``). Empty cand: not kept.
    """
    n_img = gt_start.shape[0] - 1
    for im in range(n_img):
        _match_image(
            gt_start[im], gt_start[im + 1], dt_start[im], dt_start[im + 1], gt_x, gt_y, gt_v, gt_k1,
            gt_bbox, gt_area, gt_crowd, gt_ignore, gt_candidate, dt_x, dt_y, vars_, thrs, dt_match,
            dt_ig, gt_match, best_gt, best_oks, cand_off, cand_n, cand, cand_oks,
        )  # fmt: skip


@njit(cache=True, nogil=True)
def _match_image(
    g0, g1, d0, d1, gt_x, gt_y, gt_v, gt_k1, gt_bbox, gt_area, gt_crowd, gt_ignore, gt_candidate,
    dt_x, dt_y, vars_, thrs, dt_match, dt_ig, gt_match, best_gt, best_oks, cand_off, cand_n, cand, cand_oks,
):  # fmt: skip
    ng = g1 - g0
    nd = d1 - d0
    _unmatched(dt_match, d0, d1)  # the outputs come uninitialised: this image's rows, here
    _unmatched(gt_match, g0, g1)
    if ng == 0 or nd == 0:
        return  # computeOks returns [] and no detection can match
    oks = np.empty((nd, ng))
    _oks_image(g0, g1, d0, d1, gt_x, gt_y, gt_v, gt_k1, gt_bbox, gt_area, dt_x, dt_y, vars_, oks)
    for i in range(nd):
        for j in range(ng):
            if gt_candidate[g0 + j] and (best_gt[d0 + i] < 0 or oks[i, j] > best_oks[d0 + i]):
                best_gt[d0 + i] = g0 + j
                best_oks[d0 + i] = oks[i, j]
    if cand.shape[0] > 0:  # kept for later rematches: the image's rows of the global lists
        _candidates(oks, d0, cand_off, cand_n, cand, cand_oks, thrs)
        _match_buckets_image(g0, g1, d0, d1, 0, cand_off, cand_n, cand, cand_oks, gt_crowd, gt_ignore,
                             thrs, dt_match, dt_ig, gt_match)  # fmt: skip
    else:
        off, n, c, co = _local_lists(nd, ng)
        _candidates(oks, 0, off, n, c, co, thrs)
        _match_buckets_image(g0, g1, d0, d1, d0, off, n, c, co, gt_crowd, gt_ignore, thrs, dt_match,
                             dt_ig, gt_match)  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _local_lists(nd, ng):
    """Candidate lists for one image only: detection i's slots start at i * ng."""
    return (np.arange(nd) * ng, np.zeros(nd, dtype=np.int64), np.empty(nd * ng, dtype=np.int32),
            np.empty(nd * ng))  # fmt: skip


@njit(cache=True, nogil=True)
def _candidates(oks, base, cand_off, cand_n, cand, cand_oks, thrs):
    """Per detection, the gts it could match at the lowest threshold (in gt order): a gt with
    OKS below the threshold is skipped by every branch of COCO's loop (see _greedy)."""
    thr_min = min(thrs.min(), 1 - 1e-10)
    nd, ng = oks.shape
    for i in range(nd):
        at = cand_off[base + i]
        n = 0
        for j in range(ng):
            if oks[i, j] >= thr_min:
                cand[at + n] = j
                cand_oks[at + n] = oks[i, j]
                n += 1
        cand_n[base + i] = n


@njit(cache=True, nogil=True)
def _match_buckets_image(
    g0, g1, d0, d1, base, cand_off, cand_n, cand, cand_oks, gt_crowd, gt_ignore, thrs, dt_match, dt_ig,
    gt_match,
):  # fmt: skip
    """COCO's greedy matching of one image for every bucket and threshold, from the candidate
    lists (detection d's at cand_off[d - base], cand_n[d - base] of them). gt_match is filled
    when it has columns (an empty one: not wanted)."""
    ng, nd = g1 - g0, d1 - d0
    B, T = gt_ignore.shape[0], thrs.shape[0]
    act = np.empty(nd, dtype=np.int64)  # detections with a candidate, in score order
    act_best = np.empty(nd)  # their highest candidate OKS
    n_act = 0
    for i in range(nd):
        at, n = cand_off[d0 + i - base], cand_n[d0 + i - base]
        if n > 0:
            top = -1.0
            for c in range(at, at + n):
                top = max(top, cand_oks[c])
            act[n_act] = i
            act_best[n_act] = top
            n_act += 1
    if n_act == 0:
        return
    fill_gt = gt_match.shape[2] > 0
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
                if fill_gt:
                    gt_match[b, t, g0:g1] = gt_match[same, t, g0:g1]
            continue
        for t in range(T):
            thr = min(thrs[t], 1 - 1e-10)
            taken[:] = False
            for a in range(n_act):
                if act_best[a] < thr:
                    continue  # every candidate below the threshold: COCO's loop finds none
                i = act[a]
                at = cand_off[d0 + i - base]
                m = _greedy(
                    at, at + cand_n[d0 + i - base], thr, cand, cand_oks, taken, gt_crowd, gt_ignore, b, g0
                )
                if m == -1:
                    continue
                dt_ig[b, t, d0 + i] = gt_ignore[b, g0 + m]
                dt_match[b, t, d0 + i] = g0 + m
                if fill_gt:
                    gt_match[b, t, g0 + m] = d0 + i
                taken[m] = True


@njit(cache=True, nogil=True)
def rematch_buckets(
    gt_start, dt_start, cand_off, cand_n, cand, cand_oks, gt_crowd, gt_ignore, thrs, dt_match, dt_ig,
):  # fmt: skip
    """``match_images`` for other buckets, from the candidate lists it kept (no OKS again).
    dt_match comes uninitialised (np.empty) and is set here, as in match_images."""
    no_gt = np.empty((0, 0, 0), dtype=np.int32)
    for im in range(gt_start.shape[0] - 1):
        g0, g1, d0, d1 = gt_start[im], gt_start[im + 1], dt_start[im], dt_start[im + 1]
        _unmatched(dt_match, d0, d1)
        if g1 > g0 and d1 > d0:
            _match_buckets_image(g0, g1, d0, d1, 0, cand_off, cand_n, cand, cand_oks, gt_crowd, gt_ignore,
                                 thrs, dt_match, dt_ig, no_gt)  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _unmatched(match, r0, r1):
    """Set rows r0:r1 of a (B, T, N) match array to -1. Callers allocate it with np.empty and
    the kernels fill it image by image: the pages are first written on the threads that
    use them (``run_split``) instead of all at once by np.full before the matching."""
    for b in range(match.shape[0]):
        for t in range(match.shape[1]):
            match[b, t, r0:r1] = -1


@njit(cache=True, nogil=True, inline="always")
def _greedy(c0, c1, thr, cand, cand_oks, taken, gt_crowd, gt_ignore, b, g0):
    """COCO's inner loop for one detection over gts sorted ignored-last, on its candidates
    ``c0:c1`` only (image-local gt index ``cand[c]`` with OKS ``cand_oks[c]``, in gt order).

    pycocotools scans gts in ignored-last order: skip a taken non-crowd gt; stop at the first
    ignored gt once a non-ignored one matched; skip a gt whose OKS is below the best so far
    (``iou``, starting at the threshold); else take it (a later equal OKS wins). Gts below the
    threshold never change ``m``, and the stop only ends the scan of ignored gts, so the result
    is the best non-ignored candidate if there is one, else the best ignored one (each the last
    of equals in file order): one pass over the candidates tracks both.
    """
    m1, m2, iou1, iou2 = -1, -1, thr, thr
    for c in range(c0, c1):
        j = cand[c]
        if taken[j] and not gt_crowd[g0 + j]:
            continue
        o = cand_oks[c]
        if gt_ignore[b, g0 + j]:
            if o >= iou2:
                iou2, m2 = o, j
        elif o >= iou1:
            iou1, m1 = o, j
    return m1 if m1 > -1 else m2
