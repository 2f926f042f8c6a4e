"""PCKh@0.5: the fraction of ground-truth keypoints found within half a head size.

MPII's convention (its ``evaluatePCKh.m``, and the fixtures README): the head size is
0.6 x the diagonal of the annotated head rectangle, and a predicted point is correct when
its distance to the ground truth is at most 0.5 x that head size.

Here people are found by a detector, not given, so PCKh is computed over the ground
truths that carry a head box (MPII, PoseTrack): a ground truth matched to a detection
(OKS 0.5, bucket ``all``, the same matching as AP) scores its annotated points; a ground
truth left unmatched counts all its annotated points as misses, so a method cannot raise
PCKh by dropping hard people. Ignored ground truths (crowd, no annotated point) do not
count. Only the protocol's keypoint types count.
"""

from __future__ import annotations

import numpy as np

from smallpose.skeleton import KEYPOINT_NAMES

HEAD_FACTOR = 0.6
THRESHOLD = 0.5


def head_size(head_box: np.ndarray) -> np.ndarray:
    """0.6 x the head rectangle's diagonal, (G,), NaN where there is no head box."""
    hb = np.asarray(head_box, np.float64)
    return HEAD_FACTOR * np.hypot(hb[:, 2], hb[:, 3])


def pckh(
    gt_kp: np.ndarray,
    head_box: np.ndarray,
    pred_xy: np.ndarray,
    matched: np.ndarray,
    counted: np.ndarray,
    kpt_mask: np.ndarray,
    thr: float = THRESHOLD,
) -> dict | None:
    """PCKh over ground truths ``counted`` (not ignored) that have a head box.

    ``pred_xy`` (G, K, 2) holds each ground truth's matched prediction (ignored where
    ``matched`` is False). Returns ``{"PCKh": .., "per_keypoint": {name: ..}, "n_points": ..,
    "n_instances": ..}`` or None when no counted ground truth has a head box.
    """
    hs = head_size(head_box)
    use = counted & np.isfinite(hs) & (hs > 0)
    if not use.any():
        return None
    vis = (gt_kp[use, :, 2] > 0) & kpt_mask[None, :]
    dist = np.hypot(*(gt_kp[use, :, :2] - pred_xy[use]).transpose(2, 0, 1))
    hit = vis & matched[use, None] & (dist <= thr * hs[use, None])
    n_k = vis.sum(0)
    per = {
        KEYPOINT_NAMES[k] if len(kpt_mask) == len(KEYPOINT_NAMES) else str(k): float(hit[:, k].sum() / n_k[k])
        for k in np.flatnonzero(kpt_mask & (n_k > 0))
    }
    total = int(vis.sum())
    return {
        "PCKh": float(hit.sum() / total) if total else float("nan"),
        "per_keypoint": per,
        "n_points": total,
        "n_instances": int(use.sum()),
        "threshold": thr,
        "head_factor": HEAD_FACTOR,
    }
