"""COCO keypoint evaluation over column arrays: OKS, greedy matching, accumulation, summary.

This is pycocotools' ``COCOeval(iouType='keypoints')`` as one array program:

- ``match`` = ``evaluate()``: OKS per image and the greedy matching of ``evaluateImg`` for every
  image x bucket x threshold (compiled loop in ``_kernel``), keeping COCO's order rules:
  detections by score with a stable sort, ground truths ignored-last, maxDets cut per image.
- ``accumulate`` = ``accumulate()``: cumulative TP/FP over the score-ranked detections of all
  images, COCO's interpolated precision at 101 recall points, optionally with integer image
  weights (a bootstrap resample counts an image w times without copying it).
- ``summarize`` = ``_summarizeKps`` and the SmallPose table.

With ``Params.coco()`` the ten statistics equal pycocotools' to 1e-12 (tests/test_metrics_parity).
Detections on images outside ``gt.eval_image_ids`` are dropped (pycocotools' loadRes refuses them;
the submission loader reports them), which equals pycocotools run on the valid subset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from smallpose.metrics import _kernel
from smallpose.metrics.arrays import Detections, GroundTruth
from smallpose.metrics.params import Params, in_range

EPS = np.spacing(1)
#: most candidate slots (one per detection x gt of its image) kept for rematching (12 bytes each)
CAND_MAX = 8_000_000


# ---- OKS --------------------------------------------------------------------------------------
def compute_oks(
    gt_keypoints: np.ndarray,
    gt_bbox: np.ndarray,
    gt_area: np.ndarray,
    dt_keypoints: np.ndarray,
    sigmas: np.ndarray,
) -> np.ndarray:
    """(D, G) OKS of one image's detections against its ground truths, as pycocotools.

    Same formula, same order of operations: ``e = d^2 / (2 sigma)^2 / (area + eps) / 2``,
    averaged over the visible ground-truth points; a ground truth with no visible point uses
    each predicted point's distance to its box grown by one box size on every side. Callers
    that want pycocotools' exact behaviour sort and cut detections (by score, maxDets) first.
    """
    g = np.asarray(gt_keypoints, dtype=np.float64)
    d = np.asarray(dt_keypoints, dtype=np.float64)
    bb = np.asarray(gt_bbox, dtype=np.float64).reshape(-1, 4)
    area = np.asarray(gt_area, dtype=np.float64).reshape(-1)
    vars_ = (np.asarray(sigmas, dtype=np.float64) * 2) ** 2
    D, G = d.shape[0], g.shape[0]
    if D == 0 or G == 0:
        return np.zeros((D, G))
    vis = g[:, :, 2] > 0  # (G, K)
    k1 = vis.sum(axis=1)
    dx = d[:, None, :, 0] - g[None, :, :, 0]
    dy = d[:, None, :, 1] - g[None, :, :, 1]
    x0 = (bb[:, 0] - bb[:, 2])[None, :, None]
    x1 = (bb[:, 0] + bb[:, 2] * 2)[None, :, None]
    y0 = (bb[:, 1] - bb[:, 3])[None, :, None]
    y1 = (bb[:, 1] + bb[:, 3] * 2)[None, :, None]
    xd = d[:, None, :, 0]
    yd = d[:, None, :, 1]
    bx = np.maximum(0, x0 - xd) + np.maximum(0, xd - x1)
    by = np.maximum(0, y0 - yd) + np.maximum(0, yd - y1)
    has = (k1 > 0)[None, :, None]
    dx = np.where(has, dx, bx)
    dy = np.where(has, dy, by)
    e = (dx**2 + dy**2) / vars_ / (area[None, :, None] + EPS) / 2
    use = np.where(has, vis[None, :, :], True)
    return np.where(use, np.exp(-e), 0.0).sum(axis=2) / use.sum(axis=2)


# ---- matching ---------------------------------------------------------------------------------
@dataclass
class MatchResult:
    """Everything ``accumulate`` needs, in engine order (image, then score), plus back-pointers.

    Rows are *engine* rows: ``gt_rows`` / ``dt_rows`` give each one's row in the GroundTruth /
    Detections passed to ``match``. Images are positions in ``image_ids``; the gts (dts) of image
    i are rows ``gt_start[i]:gt_start[i+1]`` (``dt_start``). Matches are engine rows, -1 = none.
    Detections beyond maxDets in an image were cut before matching, as in pycocotools.
    """

    params: Params
    image_ids: np.ndarray  # (I,) evaluated image ids, sorted
    gt_rows: np.ndarray  # (G,) row in the input GroundTruth
    gt_image: np.ndarray  # (G,) image position
    gt_start: np.ndarray  # (I+1,)
    gt_ignore: np.ndarray  # (B, G) COCO _ignore per bucket
    gt_match: np.ndarray  # (B, T, G) matched detection (engine row) or -1
    dt_rows: np.ndarray  # (D,) row in the input Detections
    dt_image: np.ndarray  # (D,) image position
    dt_start: np.ndarray  # (I+1,)
    dt_score: np.ndarray  # (D,)
    dt_rank: np.ndarray  # (D,) rank by score within its image (0 = best)
    dt_match: np.ndarray  # (B, T, D) matched ground truth (engine row) or -1
    dt_ignore: np.ndarray  # (B, T, D) COCO dtIgnore
    dt_best_gt: np.ndarray  # (D,) highest-OKS non-ignored gt of the image with a KD, -1 if none
    score_order: np.ndarray  # (D,) global ranking (stable by -score, then image, then rank)
    num_dropped_detections: int  # detections on images outside the evaluated set
    num_cut_detections: int  # detections beyond maxDets in their image
    images_over_max_dets: int  # images with more non-ignored gts than maxDets
    # each detection's candidate gts (OKS >= the lowest threshold), for rematching other buckets
    # without the OKS (_kernel.rematch_buckets); None where too many pairs to keep (CAND_MAX)
    cand_off: np.ndarray | None = None  # (D,) first slot of detection d
    cand_n: np.ndarray | None = None  # (D,) its number of candidates
    cand: np.ndarray | None = None  # (S,) int32 image-local gt index
    cand_oks: np.ndarray | None = None  # (S,) their OKS

    @property
    def num_images(self) -> int:
        return int(self.image_ids.shape[0])


def _keypoint_columns(kp: np.ndarray, params: Params, what: str) -> np.ndarray | None:
    """Which columns of ``kp`` the protocol scores (None = all of them, in order)."""
    K = params.num_keypoints
    if kp.shape[1] == K and (params.keypoint_index is None or what == "detections"):
        return None
    if params.keypoint_index is not None and kp.shape[1] > int(params.keypoint_index.max()):
        return params.keypoint_index
    raise ValueError(f"{what} have {kp.shape[1]} keypoints; the protocol '{params.protocol}' scores {K}")


def _channel(kp: np.ndarray, rows: np.ndarray, cols: np.ndarray | None, c: int) -> np.ndarray:
    """kp[rows][:, cols, c] as one contiguous (n, K) copy (no (n, K, 3) intermediate)."""
    if cols is None:
        return np.ascontiguousarray(kp[rows, :, c])
    return kp[rows[:, None], cols[None, :], c]


def _image_positions(ids: np.ndarray, image_ids: np.ndarray) -> np.ndarray:
    """Position of each id in sorted ``image_ids``, -1 where absent."""
    if image_ids.shape[0] == 0:
        return np.full(ids.shape, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(image_ids, ids), image_ids.shape[0] - 1)
    return np.where(image_ids[pos] == ids, pos, -1)


def _starts(img_pos: np.ndarray, n_img: int) -> np.ndarray:
    counts = np.bincount(img_pos, minlength=n_img) if img_pos.size else np.zeros(n_img, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def match(gt: GroundTruth, dt: Detections, params: Params) -> MatchResult:
    """Per-image greedy OKS matching for every bucket and threshold (COCOeval.evaluate)."""
    image_ids = gt.eval_image_ids
    n_img = image_ids.shape[0]
    max_det = params.max_dets[-1]
    B, T = len(params.buckets), params.iou_thrs.shape[0]

    # ground truths: evaluated images only, grouped by image, file order kept inside an image
    g_pos = _image_positions(gt.image_ids, image_ids)
    g_keep = np.flatnonzero(g_pos >= 0)
    gt_rows = g_keep[np.argsort(g_pos[g_keep], kind="stable")]
    gt_image = g_pos[gt_rows]
    gcols = _keypoint_columns(gt.keypoints, params, "ground truths")
    gx, gy, gv = (_channel(gt.keypoints, gt_rows, gcols, c) for c in range(3))
    k1 = (gv > 0).sum(axis=1).astype(np.int64)
    if params.recount_keypoints:
        num_kp = k1
    else:
        num_kp = gt.num_keypoints[gt_rows]
    crowd = gt.iscrowd[gt_rows]
    base_ignore = crowd | (num_kp == 0)
    kd = gt.kd[gt_rows]
    gt_ignore = np.empty((B, gt_rows.shape[0]), dtype=bool)
    for b, bucket in enumerate(params.buckets):
        inside = in_range(gt.area_field(bucket.area_field)[gt_rows], bucket.area_rng, bucket.area_closed)
        if bucket.kd_rng is not None:
            inside &= in_range(kd, bucket.kd_rng, bucket.kd_closed)
        gt_ignore[b] = base_ignore | ~inside

    # detections: evaluated images only, by image then score (stable), cut at maxDets
    d_pos = _image_positions(dt.image_ids, image_ids)
    d_valid = np.flatnonzero(d_pos >= 0)
    order = d_valid[np.lexsort((-dt.scores[d_valid], d_pos[d_valid]))]
    d_img_sorted = d_pos[order]
    start_all = _starts(d_img_sorted, n_img)
    rank = np.arange(order.shape[0]) - start_all[d_img_sorted]
    keep = rank < max_det
    dt_rows, dt_image, dt_rank = order[keep], d_img_sorted[keep], rank[keep]
    dcols = _keypoint_columns(dt.keypoints, params, "detections")
    dx, dy = (_channel(dt.keypoints, dt_rows, dcols, c) for c in range(2))
    if dcols is not None and dcols.shape[0] > 1:
        # a subset of the submitted points is scored (Setting A): size the detection by the
        # scored points, so a 21-point row scores exactly as its 17-point copy; a single point
        # (per-keypoint AP) has no extent, so there the whole skeleton's is kept
        dt_area = (dx.max(axis=1) - dx.min(axis=1)) * (dy.max(axis=1) - dy.min(axis=1))
    else:
        dt_area = dt.area[dt_rows]

    gt_start = _starts(gt_image, n_img)
    dt_start = _starts(dt_image, n_img)
    G, D = gt_rows.shape[0], dt_rows.shape[0]
    dt_match = np.empty((B, T, D), dtype=np.int32)  # set to -1 (unmatched) by the kernel
    dt_ig = np.zeros((B, T, D), dtype=bool)
    gt_match = np.empty((B, T, G), dtype=np.int32)
    best_gt = np.full(D, -1, dtype=np.int64)
    best_oks = np.zeros(D)
    slots = np.diff(gt_start)[dt_image]  # a detection can have any gt of its image as candidate
    keep_cand = int(slots.sum()) <= CAND_MAX
    cand_off = np.concatenate([[0], np.cumsum(slots)[:-1]]).astype(np.int64) if D else np.zeros(0, np.int64)
    cand_n = np.zeros(D, dtype=np.int64)
    n_slots = int(slots.sum()) if keep_cand else 0
    cand, cand_oks = np.empty(n_slots, dtype=np.int32), np.empty(n_slots)
    _kernel.run_split(
        _kernel.match_images, gt_start, dt_start, gx, gy, gv, k1, np.ascontiguousarray(gt.bbox[gt_rows]),
        np.ascontiguousarray(gt.area[gt_rows]), crowd, gt_ignore, ~base_ignore & np.isfinite(kd),
        dx, dy, (params.sigmas * 2) ** 2, params.iou_thrs, dt_match, dt_ig, gt_match, best_gt, best_oks,
        cand_off, cand_n, cand, cand_oks,
    )  # fmt: skip

    ignore_unmatched_outside(dt_ig, dt_match, dt_area, kd, best_gt, params.buckets)

    score = dt.scores[dt_rows]
    n_real = np.bincount(gt_image[~base_ignore], minlength=n_img) if G else np.zeros(n_img, np.int64)
    return MatchResult(
        params=params, image_ids=image_ids, gt_rows=gt_rows, gt_image=gt_image, gt_start=gt_start,
        gt_ignore=gt_ignore, gt_match=gt_match, dt_rows=dt_rows, dt_image=dt_image, dt_start=dt_start,
        dt_score=score, dt_rank=dt_rank, dt_match=dt_match, dt_ignore=dt_ig, dt_best_gt=best_gt,
        score_order=np.argsort(-score, kind="stable"),
        num_dropped_detections=int(dt.image_ids.shape[0] - d_valid.shape[0]),
        num_cut_detections=int((~keep).sum()), images_over_max_dets=int((n_real > max_det).sum()),
        **({"cand_off": cand_off, "cand_n": cand_n, "cand": cand, "cand_oks": cand_oks} if keep_cand else {}),
    )  # fmt: skip


def ignore_unmatched_outside(
    dt_ig: np.ndarray,
    dt_match: np.ndarray,
    dt_area: np.ndarray,
    kd: np.ndarray,
    best_gt: np.ndarray,
    buckets: list,
) -> None:
    """Mark, in place, the unmatched detections that do not count in each bucket.

    Size: by the detection's own (keypoint-extent) area, as COCO does. Density class: that of
    its highest-OKS annotated ground truth (``best_gt``); with none in the image it counts as a
    false positive in every class. The one statement of the rule in docs/metrics.md.
    """
    unmatched = dt_match < 0
    for b, bucket in enumerate(buckets):
        counts = in_range(dt_area, bucket.area_rng, bucket.area_closed)
        if bucket.kd_rng is not None:
            cls = in_range(kd[np.maximum(best_gt, 0)], bucket.kd_rng, bucket.kd_closed)
            counts &= (best_gt < 0) | cls
        dt_ig[b] |= unmatched[b] & ~counts[None, :]


def matched_pairs(
    result: MatchResult, thr: float = 0.5, bucket: str = "all"
) -> tuple[np.ndarray, np.ndarray]:
    """(detection rows, ground-truth rows) matched at OKS threshold ``thr`` in ``bucket``.

    Rows index the Detections / GroundTruth given to ``match``. Matches to ignored ground truths
    (crowd regions, no keypoints, out of bucket) are left out: they are not scored pairs. This
    is what surprise, PCKh and the L2 error are computed on.
    """
    t = np.flatnonzero(np.isclose(result.params.iou_thrs, thr))
    if t.size == 0:
        raise KeyError(f"threshold {thr} is not one of {result.params.iou_thrs.tolist()}")
    b = result.params.bucket_index(bucket)
    m = result.dt_match[b, t[0]]
    sel = np.flatnonzero((m >= 0) & ~result.dt_ignore[b, t[0]])
    return result.dt_rows[sel], result.gt_rows[m[sel]]


# ---- accumulation -----------------------------------------------------------------------------
def accumulate(
    result: MatchResult, params: Params | None = None, image_weights: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """precision (T,R,B,M), recall (T,B,M), scores (T,R,B,M) exactly as COCOeval.accumulate.

    ``image_weights`` (I,) non-negative integers: image i counts w_i times, as if it appeared
    w_i times in the set with its copies' detections adjacent in the ranking (a bootstrap
    resample). Collapsing the w copies of a detection into one step of size w gives the same
    interpolated precision: within a run of true positives precision only rises and within a
    run of false positives recall does not move, so no recall threshold lands inside a run.
    """
    p = params or result.params
    T, R, B, M = len(p.iou_thrs), len(p.rec_thrs), len(p.buckets), len(p.max_dets)
    precision = -np.ones((T, R, B, M))
    recall = -np.ones((T, B, M))
    scores = -np.ones((T, R, B, M))
    w_gt = w_dt = None
    if image_weights is not None:
        w = np.asarray(image_weights)
        if w.shape != (result.num_images,) or (w < 0).any():
            raise ValueError(f"image_weights must be {result.num_images} non-negative counts")
        w = w.astype(np.float64)
        w_gt, w_dt = w[result.gt_image], w[result.dt_image]
    order = result.score_order
    for m, max_det in enumerate(p.max_dets):
        sel = order[result.dt_rank[order] < max_det]
        if w_dt is not None:
            sel = sel[w_dt[sel] > 0]
        nd = sel.shape[0]
        ranked_scores = result.dt_score[sel]
        for b in range(B):
            real = ~result.gt_ignore[b]
            npig = real.sum() if w_gt is None else w_gt[real].sum()
            if npig == 0:
                continue
            matched = result.dt_match[b][:, sel] >= 0
            ign = result.dt_ignore[b][:, sel]
            tps = matched & ~ign
            fps = ~matched & ~ign
            if w_dt is None:
                tp_sum = np.cumsum(tps, axis=1, dtype=np.float64)
                fp_sum = np.cumsum(fps, axis=1, dtype=np.float64)
            else:
                tp_sum = np.cumsum(tps * w_dt[sel], axis=1)
                fp_sum = np.cumsum(fps * w_dt[sel], axis=1)
            if nd == 0:
                recall[:, b, m] = 0
                precision[:, :, b, m] = 0
                scores[:, :, b, m] = 0
                continue
            rc = tp_sum / npig
            pr = tp_sum / (fp_sum + tp_sum + EPS)
            recall[:, b, m] = rc[:, -1]
            pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # COCO's interpolation
            for t in range(T):
                inds = np.searchsorted(rc[t], p.rec_thrs, side="left")
                ok = inds < nd
                at = np.minimum(inds, nd - 1)
                precision[t, :, b, m] = np.where(ok, pr[t, at], 0.0)
                scores[t, :, b, m] = np.where(ok, ranked_scores[at], 0.0)
    return {"precision": precision, "recall": recall, "scores": scores}


# ---- summary ----------------------------------------------------------------------------------
_SHORT = {"medium": "M", "large": "L", "small": "S"}


def _mean_valid(s: np.ndarray) -> float:
    v = s[s > -1]
    return float(np.mean(v)) if v.size else -1.0


def summarize(precision: np.ndarray, recall: np.ndarray, params: Params) -> dict[str, float]:
    """Named statistics, means over settings with ground truth (-1 where none), as _summarizeKps.

    Keys: AP, AP50, AP75 and AR, AR50, AR75 on the "all" bucket; AP_<bucket> for every other
    bucket ("medium"/"large" shortened to M/L as COCO's table) and AR_<bucket> for the size
    buckets. Uses the largest maxDets. Under Params.coco() these are pycocotools' ten stats.
    """
    m = len(params.max_dets) - 1
    thr = params.iou_thrs

    def ap(b: int, iou: float | None = None) -> float:
        s = precision if iou is None else precision[np.where(iou == thr)[0]]
        return _mean_valid(s[:, :, b, m])

    def ar(b: int, iou: float | None = None) -> float:
        s = recall if iou is None else recall[np.where(iou == thr)[0]]
        return _mean_valid(s[:, b, m])

    names = params.bucket_names
    a = names.index("all") if "all" in names else None
    others = [(i, _SHORT.get(n, n)) for i, n in enumerate(names) if i != a]
    out = {} if a is None else {"AP": ap(a), "AP50": ap(a, 0.5), "AP75": ap(a, 0.75)}
    out.update({f"AP_{n}": ap(i) for i, n in others})
    if a is not None:
        out.update({"AR": ar(a), "AR50": ar(a, 0.5), "AR75": ar(a, 0.75)})
    out.update({f"AR_{n}": ar(i) for i, n in others if params.buckets[i].kd_rng is None})
    return out


def evaluate_arrays(gt: GroundTruth, dt: Detections, params: Params) -> dict[str, float]:
    """match + accumulate + summarize: the statistics of one submission."""
    res = match(gt, dt, params)
    acc = accumulate(res)
    return summarize(acc["precision"], acc["recall"], params)
