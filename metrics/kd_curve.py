"""AP as a function of keypoint density (the paper's Fig. 4a) and AP per keypoint type.

Both re-run the matching with other parameters (buckets, keypoint selection) on the same
ground truth and detections; they are separate from the main table because they cost one
extra matching (KD curve) or one per keypoint type (per-keypoint AP).

- KD curve: small instances (bbox area in (0, 128*96)) binned by KD into ``n_bins`` equal
  bins over [0, 1), each bin evaluated as a bucket (ground truths outside it ignored;
  unmatched detections attributed as for the density classes, see docs/metrics.md).
- Per-keypoint AP: OKS restricted to one keypoint type (its own sigma); ground truths where
  that point is not annotated are ignored, as COCO ignores instances with no keypoint.
"""

from __future__ import annotations

import numpy as np
from smallpose.metrics.arrays import Detections, GroundTruth
from smallpose.metrics.cocoeval import accumulate, match, summarize
from smallpose.metrics.params import SMALL_MAX, Bucket, Params


def kd_buckets(n_bins: int = 10) -> list[Bucket]:
    edges = np.round(np.linspace(0.0, 1.0, n_bins + 1), 10)
    return [
        Bucket(f"kd_{i}", (0.0, SMALL_MAX), area_field="bbox_area", area_closed="left",
               kd_rng=(float(edges[i]), float(edges[i + 1])), kd_closed="left")
        for i in range(n_bins)
    ]  # fmt: skip


def kd_curve(gt: GroundTruth, dt: Detections, params: Params, n_bins: int = 10) -> list[dict]:
    """``[{kd_lo, kd_hi, n_gt, AP, AP50}]`` for small instances, one row per KD bin (AP None if empty)."""
    bins = kd_buckets(n_bins)
    p = params.with_buckets([params.buckets[params.bucket_index("all")], *bins])
    res = match(gt, dt, p)
    acc = accumulate(res)
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


def _ap_at(precision: np.ndarray, p: Params, b: int, thr: float) -> float:
    s = precision[np.flatnonzero(np.isclose(p.iou_thrs, thr)), :, b, -1]
    v = s[s > -1]
    return float(v.mean()) if v.size else -1.0


def per_keypoint_ap(gt: GroundTruth, dt: Detections, params: Params, names: list[str]) -> dict[str, dict]:
    """``{name: {"AP", "AP50", "n_gt"}}`` for each keypoint type the protocol scores.

    ``names[j]`` names the protocol's j-th keypoint (in ``params.sigmas`` order).
    """
    base = params.buckets[params.bucket_index("all")]
    out = {}
    for j, name in enumerate(names):
        p = params.for_keypoints([j]).with_buckets([base])
        res = match(gt, dt, p)
        acc = accumulate(res)
        stats = summarize(acc["precision"], acc["recall"], p)
        n_gt = int((~res.gt_ignore[0]).sum())
        out[name] = {
            "AP": stats["AP"] if stats["AP"] >= 0 else None,
            "AP50": stats["AP50"] if stats["AP50"] >= 0 else None,
            "n_gt": n_gt,
        }
    return out
