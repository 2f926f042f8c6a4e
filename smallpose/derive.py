"""Per-instance and per-image quantities the benchmark is defined by (SPEC section 3).

Everything here is numpy over whole columns: one build derives buckets, keypoint density
and CrowdIndex for every source at once, so the cost stays a small multiple of parsing.
The definitions are spelled out in docs/store.md; the constants are the SPEC's.
"""

from __future__ import annotations

import numpy as np

SMALL_MAX = 128 * 96  # S = (0, 128*96)
MEDIUM_MAX = 256 * 192  # M = [128*96, 256*192), L = [256*192, inf)
KD_SPARSE_MAX = 0.35  # sparse (0, 0.35), moderate [0.35, 0.95), dense [0.95, 1): ties go up
KD_MODERATE_MAX = 0.95
BUCKETS = ("S", "M", "L")
KD_CLASSES = ("sparse", "moderate", "dense")
#: (instance, same-image instance) pairs per crowd_index chunk: ~260k x 21 points, ~50 MB a temporary
_PAIR_CHUNK = 1 << 18


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

    Vectorised over (instance, same-image instance) pairs, in chunks of instances so a
    300-person frame and a million small images both stay within memory.
    """
    image_index = np.asarray(image_index, dtype=np.int64)
    n_inst = len(image_index)
    out = np.full(num_images, np.nan)
    if n_inst == 0:
        return out
    order = np.argsort(image_index, kind="stable")
    img = image_index[order]
    box = np.asarray(bbox, dtype=np.float64)[order]
    kp = np.asarray(keypoints, dtype=np.float64)[order]
    annotated = kp[:, :, 2] > 0
    n_a = annotated.sum(axis=1)
    # group structure of the sorted instances
    size = np.bincount(img, minlength=num_images)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    per_inst = size[img]  # pairs each instance takes part in as "i"
    grp_start = start[img]
    n_b = np.zeros(n_inst, dtype=np.int64)
    x0, y0 = box[:, 0], box[:, 1]
    x1, y1 = x0 + box[:, 2], y0 + box[:, 3]
    px, py = kp[:, :, 0], kp[:, :, 1]
    cum = np.cumsum(per_inst)
    lo = 0
    while lo < n_inst:
        base = cum[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(cum, base + _PAIR_CHUNK, side="right")))
        reps = per_inst[lo:hi]
        i = np.repeat(np.arange(lo, hi), reps)
        first = np.repeat(np.cumsum(reps) - reps, reps)
        j = np.repeat(grp_start[lo:hi], reps) + (np.arange(len(i)) - first)
        keep = i != j
        i, j = i[keep], j[keep]
        inside = (
            annotated[j]
            & (px[j] >= x0[i, None])
            & (px[j] <= x1[i, None])
            & (py[j] >= y0[i, None])
            & (py[j] <= y1[i, None])
        )
        n_b += np.bincount(i, weights=inside.sum(axis=1), minlength=n_inst).astype(np.int64)
        lo = hi
    has = n_a > 0
    ratio = np.where(has, n_b / np.maximum(n_a, 1), 0.0)
    total = np.bincount(img, weights=ratio, minlength=num_images)
    count = np.bincount(img, weights=has, minlength=num_images)
    ok = count > 0
    out[ok] = total[ok] / count[ok]
    return out
