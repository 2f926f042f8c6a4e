"""Per-instance and per-image quantities the benchmark is defined by (SPEC section 3).

Everything here works on whole columns (numpy, plus one compiled loop for CrowdIndex's
pairs): one build derives buckets, keypoint density and CrowdIndex for every source at
once, so the cost stays a small multiple of parsing.
The definitions are spelled out in docs/store.md; the constants are the SPEC's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from smallpose.skeleton import NUM_KEYPOINTS

SMALL_MAX = 128 * 96  # S = (0, 128*96)
MEDIUM_MAX = 256 * 192  # M = [128*96, 256*192), L = [256*192, inf)
KD_SPARSE_MAX = 0.35  # sparse (0, 0.35), moderate [0.35, 0.95), dense [0.95, 1): ties go up
KD_MODERATE_MAX = 0.95
BUCKETS = ("S", "M", "L")
KD_CLASSES = ("sparse", "moderate", "dense")


def size_bucket(area: np.ndarray) -> np.ndarray:
    """'S', 'M' or 'L' by bounding-box area; lower bounds are inclusive (SPEC's intervals)."""
    return np.array(BUCKETS, dtype=object)[size_bucket_index(area)]


def size_bucket_index(area: np.ndarray) -> np.ndarray:
    """The bucket as an index into BUCKETS: the build keeps codes, not a string per row."""
    area = np.asarray(area, dtype=np.float64)
    return np.searchsorted(np.array([SMALL_MAX, MEDIUM_MAX], dtype=np.float64), area, side="right")


def num_annotated(keypoints: np.ndarray) -> np.ndarray:
    """n_p: points with v > 0, per instance of an (N, 21, 3) array."""
    return (np.asarray(keypoints)[:, :, 2] > 0).sum(axis=1).astype(np.int64)


def gather_keypoints(
    parts: list[np.ndarray], dest: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate (N_i, 21, 3) arrays, row r of the concatenation going to ``out[dest[r]]``,
    and check every instance in the same pass.

    Returns ``(out, bad_v, bad_xy, n_p)``; the last three follow the concatenation's order:
    a visibility not in {0, 1, 2}; an annotated point (v > 0) with a non-finite x or y;
    n_p as :func:`num_annotated`. Unannotated points (v == 0) become exactly (0, 0, 0).
    The build's keypoints are its largest array (~0.5 KB per instance) and memory traffic
    on it dominated: concatenating, five numpy checks and a final reordering gather were
    about seven passes and two extra copies; this is one pass and one array.
    """
    n = int(sum(len(p) for p in parts))
    out = np.empty((n, NUM_KEYPOINTS, 3), dtype=np.float64)
    bad_v, bad_xy, n_p = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, np.int64)
    dest = np.asarray(dest, dtype=np.int64)
    lo = 0
    for part in parts:
        part = np.ascontiguousarray(part, dtype=np.float64).reshape(-1, NUM_KEYPOINTS, 3)
        hi = lo + len(part)
        if hi > lo:
            _gather_keypoints(part, dest[lo:hi], out, bad_v[lo:hi], bad_xy[lo:hi], n_p[lo:hi])
        lo = hi
    return out, bad_v, bad_xy, n_p


@njit(cache=True, nogil=True)
def _gather_keypoints(kp, dest, out, bad_v, bad_xy, n_p):  # pragma: no cover - compiled
    for i in range(kp.shape[0]):
        d = dest[i]
        for k in range(kp.shape[1]):
            x, y, v = kp[i, k, 0], kp[i, k, 1], kp[i, k, 2]
            if v == 0.0:
                out[d, k, 0] = 0.0
                out[d, k, 1] = 0.0
                out[d, k, 2] = 0.0
                continue
            out[d, k, 0] = x
            out[d, k, 1] = y
            out[d, k, 2] = v
            if v != 1.0 and v != 2.0:
                bad_v[i] = True
            if v > 0.0:
                n_p[i] += 1
                if not (np.isfinite(x) and np.isfinite(y)):
                    bad_xy[i] = True


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
    small = np.asarray(bucket) == "S"
    idx = density_index(kd, np.where(small, BUCKETS.index("S"), -1))
    out = np.array(KD_CLASSES, dtype=object)[np.maximum(idx, 0)]
    out[idx < 0] = None
    return out


def density_index(kd: np.ndarray, bucket_index: np.ndarray) -> np.ndarray:
    """The KD class as an index into KD_CLASSES, -1 where there is none (see density_class)."""
    kd = np.asarray(kd, dtype=np.float64)
    idx = np.minimum(np.searchsorted(np.array([KD_SPARSE_MAX, KD_MODERATE_MAX]), kd, side="right"), 2)
    idx[~((np.asarray(bucket_index) == BUCKETS.index("S")) & np.isfinite(kd))] = -1
    return idx


def crowd_index(
    image_index: np.ndarray,
    num_images: int,
    bbox: np.ndarray,
    keypoints: np.ndarray,
    rank: np.ndarray | None = None,
) -> np.ndarray:
    """CrowdIndex per image: mean over instances i with N_a(i) > 0 of N_b(i) / N_a(i).

    ``image_index[k]`` is instance k's image (0..num_images-1). N_b(i) counts the annotated
    points of the *other* instances of the image with x1 <= x <= x1 + w and y1 <= y <= y1 + h
    (boundary inclusive). Every instance takes part, crowd regions included (they carry no
    points in COCO, so they add nothing there). Images without such an instance get NaN.
    An image's ratios are summed in ascending ``rank`` (default: row order), so a caller
    that reordered its rows gets the same floating-point sums by passing the old positions.

    Grouping is one stable sort (none when rows are already grouped); the rest is a small
    compiled loop over each image's instances x the other instances' points, reading the
    (N, 21, 3) array in place: in numpy the pairs need (pairs x 21) temporaries (~5 s on a
    750k-instance build), and even gathering the points into flat arrays cost ~1 s.
    """
    image_index = np.asarray(image_index, dtype=np.int64)
    out = np.full(num_images, np.nan)
    if len(image_index) == 0:
        return out
    if np.all(image_index[1:] >= image_index[:-1]):
        order = np.arange(len(image_index))
    else:
        order = np.argsort(image_index, kind="stable")
    rank = order if rank is None else np.asarray(rank, dtype=np.int64)[order]
    inst_start = np.searchsorted(image_index[order], np.arange(num_images + 1))
    box = np.ascontiguousarray(bbox, dtype=np.float64)
    kp = np.ascontiguousarray(keypoints, dtype=np.float64)
    max_points = int(np.diff(inst_start).max(initial=0)) * kp.shape[1]
    _crowd_index(inst_start, order, rank, box, kp, out, max_points)
    return out


@njit(cache=True, nogil=True)
def _crowd_index(inst_start, order, rank, box, kp, out, max_points):  # pragma: no cover - compiled
    """Per image g (instances order[inst_start[g]:inst_start[g+1]]): the mean of N_b / N_a.

    The image's annotated points are first copied to small buffers (x, y, owner); ratios
    are summed in ascending rank, as ``np.bincount(weights=...)`` over a stable sort did.
    """
    px = np.empty(max_points)
    py = np.empty(max_points)
    owner = np.empty(max_points, dtype=np.int64)
    for g in range(inst_start.shape[0] - 1):
        lo, hi = inst_start[g], inst_start[g + 1]
        m = 0
        for a in range(lo, hi):
            i = order[a]
            for k in range(kp.shape[1]):
                if kp[i, k, 2] > 0:
                    px[m], py[m], owner[m] = kp[i, k, 0], kp[i, k, 1], a
                    m += 1
        if m == 0:
            continue
        seq = np.arange(lo, hi)
        for a in range(lo + 1, hi):
            if rank[a] < rank[a - 1]:
                seq = lo + np.argsort(rank[lo:hi])
                break
        total, count = 0.0, 0.0
        for a in seq:
            i = order[a]
            n_a = 0
            for k in range(kp.shape[1]):
                if kp[i, k, 2] > 0:
                    n_a += 1
            if n_a == 0:
                continue
            x0, y0 = box[i, 0], box[i, 1]
            x1, y1 = x0 + box[i, 2], y0 + box[i, 3]
            n_b = 0
            for p in range(m):
                if owner[p] != a and px[p] >= x0 and px[p] <= x1 and py[p] >= y0 and py[p] <= y1:
                    n_b += 1
            total += n_b / n_a
            count += 1.0
        if count > 0:
            out[g] = total / count
