"""Per-instance and per-image quantities the benchmark is defined by (SPEC section 3).

Everything here works on whole columns (numpy, plus one compiled loop for CrowdIndex's
pairs): one build derives buckets, keypoint density and CrowdIndex for every source at
once, so the cost stays a small multiple of parsing.
The definitions are spelled out in docs/store.md; the constants are the SPEC's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SMALL_MAX = 128 * 96  # S = (0, 128*96)
MEDIUM_MAX = 256 * 192  # M = [128*96, 256*192), L = [256*192, inf)
KD_SPARSE_MAX = 0.35  # sparse (0, 0.35), moderate [0.35, 0.95), dense [0.95, 1): ties go up
KD_MODERATE_MAX = 0.95
BUCKETS = ("S", "M", "L")
KD_CLASSES = ("sparse", "moderate", "dense")


def size_bucket(area: np.ndarray) -> np.ndarray:
    """'S', 'M' or 'L' by bounding-box area; lower bounds are inclusive (SPEC's intervals)."""
    area = np.asarray(area, dtype=np.float64)
    idx = np.searchsorted(np.array([SMALL_MAX, MEDIUM_MAX], dtype=np.float64), area, side="right")
    return np.array(BUCKETS, dtype=object)[idx]


def num_annotated(keypoints: np.ndarray) -> np.ndarray:
    """n_p: points with v > 0, per instance of an (N, 21, 3) array."""
    return (np.asarray(keypoints)[:, :, 2] > 0).sum(axis=1).astype(np.int64)


def keypoint_density(area: np.ndarray, K: np.ndarray, n: np.ndarray) -> np.ndarray:
    """KD = 2 (1 - sigmoid((S/(128*96)) (K/n))); NaN where n == 0.

    Written as 2 / (1 + exp(x)), the same number without the cancellation in
    ``1 - sigmoid(x)`` for large x; exp overflow to inf gives exactly 0.
    """
    area = np.asarray(area, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    out = np.full(area.shape, np.nan)
    ok = n > 0
    x = (area[ok] / SMALL_MAX) * (K[ok] / n[ok])
    with np.errstate(over="ignore"):
        out[ok] = 2.0 / (1.0 + np.exp(x))
    return out


def density_class(kd: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    """'sparse' / 'moderate' / 'dense' for small instances with a KD; None elsewhere."""
    kd = np.asarray(kd, dtype=np.float64)
    idx = np.searchsorted(np.array([KD_SPARSE_MAX, KD_MODERATE_MAX]), kd, side="right")
    out = np.array(KD_CLASSES, dtype=object)[np.minimum(idx, 2)]
    out[~((np.asarray(bucket) == "S") & np.isfinite(kd))] = None
    return out


def crowd_index(
    image_index: np.ndarray, num_images: int, bbox: np.ndarray, keypoints: np.ndarray
) -> np.ndarray:
    """CrowdIndex per image: mean over instances i with N_a(i) > 0 of N_b(i) / N_a(i).

    ``image_index[k]`` is instance k's image (0..num_images-1). N_b(i) counts the annotated
    points of the *other* instances of the image with x1 <= x <= x1 + w and y1 <= y <= y1 + h
    (boundary inclusive). Every instance takes part, crowd regions included (they carry no
    points in COCO, so they add nothing there). Images without such an instance get NaN.

    Grouping (sort, counts, the final per-image mean) is numpy; the pairwise inside-box
    count is a small compiled loop over each image's boxes x its annotated points: in numpy
    it needs (pairs x 21) temporaries and took ~5 s on a 750k-instance build, compiled ~0.1 s.
    """
    image_index = np.asarray(image_index, dtype=np.int64)
    out = np.full(num_images, np.nan)
    if len(image_index) == 0:
        return out
    order = np.argsort(image_index, kind="stable")
    img = image_index[order]
    box = np.ascontiguousarray(np.asarray(bbox, dtype=np.float64)[order])
    keypoints = np.asarray(keypoints)
    annotated = keypoints[:, :, 2][order] > 0
    n_a = annotated.sum(axis=1)
    # annotated points only, flat, in sorted-instance (hence image) order, with their owner
    owner, slot = np.nonzero(annotated)
    px = np.ascontiguousarray(keypoints[order[owner], slot, 0], dtype=np.float64)
    py = np.ascontiguousarray(keypoints[order[owner], slot, 1], dtype=np.float64)
    inst_start = np.searchsorted(img, np.arange(num_images + 1))
    pt_start = np.searchsorted(owner, inst_start)  # first point of each image
    n_b = _inside_counts(inst_start, pt_start, box, px, py, owner)
    has = n_a > 0
    ratio = np.where(has, n_b / np.maximum(n_a, 1), 0.0)
    total = np.bincount(img, weights=ratio, minlength=num_images)
    count = np.bincount(img, weights=has, minlength=num_images)
    ok = count > 0
    out[ok] = total[ok] / count[ok]
    return out


@njit(cache=True, nogil=True)
def _inside_counts(inst_start, pt_start, box, px, py, owner):  # pragma: no cover - compiled
    """N_b per (sorted) instance: other instances' annotated points inside its box."""
    n_b = np.zeros(box.shape[0], dtype=np.int64)
    for g in range(inst_start.shape[0] - 1):
        for i in range(inst_start[g], inst_start[g + 1]):
            x0, y0 = box[i, 0], box[i, 1]
            x1, y1 = x0 + box[i, 2], y0 + box[i, 3]
            c = 0
            for p in range(pt_start[g], pt_start[g + 1]):
                if owner[p] != i and px[p] >= x0 and px[p] <= x1 and py[p] >= y0 and py[p] <= y1:
                    c += 1
            n_b[i] = c
    return n_b
