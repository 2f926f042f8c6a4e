"""Mean normalised L2 keypoint error over matched pairs (Tiny People Pose, Fig. 4b).

The paper normalises by the image height because its people were all resized to one
height; in a detector-based benchmark people differ in size, so we normalise by the
ground-truth *box height*, which keeps a 30 px person and a 300 px person comparable.
A pair's error is the mean of ``|gt - pred| / h`` over its annotated points of the
protocol's keypoints; a bucket's error is the mean over its matched pairs.
"""

from __future__ import annotations

import numpy as np


def pair_l2(gt_kp: np.ndarray, pred_xy: np.ndarray, h: np.ndarray, kpt_mask: np.ndarray) -> np.ndarray:
    """Mean normalised distance per pair, (P,); NaN for a pair without annotated points."""
    vis = (gt_kp[..., 2] > 0) & kpt_mask[None, :]
    dist = np.hypot(*(gt_kp[..., :2] - pred_xy).transpose(2, 0, 1)) / np.asarray(h, np.float64)[:, None]
    n = vis.sum(1)
    return np.where(n > 0, np.where(vis, dist, 0.0).sum(1) / np.maximum(n, 1), np.nan)
