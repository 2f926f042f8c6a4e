"""HiEve layout (b): the column-wise reader of a whole clean sequence file.

Every person of a file is parsed with a few C-level passes over whole columns instead of
one ``_annorect`` call per person (hieve.py). It returns None at the first doubtful value,
and the caller then takes the person-by-person path, which names the bad field; both give
the same rows. The joint count and the 1-element-list unwrapping live here, not in
hieve.py, because this module needs them and hieve.py imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter

import numpy as np

K = 14  # HiEve's native joints
_NUM = {int, float}


def _one(value):
    """Layout (b) wraps every scalar in a 1-element list; accept the bare value as well."""
    if type(value) is list and len(value) == 1:
        return value[0]
    return value


@dataclass
class _Clean:
    """A layout (b) file's persons, parsed column-wise: row ``starts[pos] + n`` is rect n of frame pos."""

    starts: list[int]
    bbox: np.ndarray  # (n, 4) x, y, w, h
    kp: np.ndarray  # (n, K, 3) with COCO visibility
    tracks: list


def _scalars(values: list) -> list:
    """Unwrap 1-element lists in one C-level pass; bare values (``_one``'s other case) row by row.

    A 1-character string or a 1-key dict also unpacks (to a string): callers accept numbers only.
    """
    try:
        return [v for (v,) in values]
    except (TypeError, ValueError):
        return [_one(v) for v in values]


def _point_list(annopoints):
    """The points of one person as ``_annorect`` iterates them (``pts or []``)."""
    pts = _one(annopoints)
    pts = pts.get("point", []) if type(pts) is dict else pts
    return pts or []


def _exact(values: list, types: set) -> np.ndarray | None:
    """float64 of json numbers of ``types`` that are finite and exactly representable, else None."""
    if not set(map(type, values)) <= types:
        return None
    try:
        arr = np.array(values, dtype=np.float64) if values else np.zeros(0)
    except OverflowError:  # an int beyond float64
        return None
    return arr if bool((np.abs(arr) < 2.0**53).all()) else None  # NaN and inf fail too


def _clean_rects(frames: list) -> _Clean | None:
    """All persons of the file's frames, when every one is well formed (else None: the slow path).

    Well formed: the checks of :func:`_annorect` pass and every number is finite and below 2**53,
    so these rows are exactly what ``_annorect`` + ``float_rows`` would make. It looks at a
    superset of the persons the reading loop keeps (frames later skipped included), so a None
    never depends on which frames are kept, and rejects keep their order.
    """
    starts, rects = [], []
    for fr in frames:
        starts.append(len(rects))
        if type(fr) is dict:
            rs = fr.get("annorect", [])
            if type(rs) is list:
                rects += rs
    if set(map(type, rects)) - {dict}:
        return None
    try:
        box = [_exact(_scalars(list(map(itemgetter(k), rects))), _NUM) for k in ("x1", "y1", "x2", "y2")]
        pts = [_point_list(r.get("annopoints")) for r in rects]
        if set(map(type, pts)) - {list}:
            return None
        counts = list(map(len, pts))
        flat = list(chain.from_iterable(pts))
        if set(map(type, flat)) - {dict}:
            return None
        ids = _exact(_scalars(list(map(itemgetter("id"), flat))), {int})
        xs = _exact(_scalars(list(map(itemgetter("x"), flat))), _NUM)
        ys = _exact(_scalars(list(map(itemgetter("y"), flat))), _NUM)
    except KeyError:
        return None
    tracks = _scalars([r.get("track_id") for r in rects])
    if any(v is None for v in (*box, ids, xs, ys)) or set(map(type, tracks)) - {int, type(None)}:
        return None
    if len(ids) and not bool(((ids >= 0) & (ids < K)).all()):
        return None
    row = np.repeat(np.arange(len(rects)), counts)
    jid = ids.astype(np.intp)
    if len(ids) and np.bincount(row * K + jid).max() > 1:
        return None  # a duplicate joint id
    vis = np.full(len(flat), 2.0)
    if any(map(dict.__contains__, flat, repeat("is_visible"))):
        vis[[_one(p.get("is_visible", 1)) in (0, "0") for p in flat]] = 1.0
    kp = np.zeros((len(rects), K, 3))
    kp[row, jid] = np.stack([xs, ys, vis], axis=1)
    bbox = np.stack(box, axis=1).reshape(-1, 4)
    bbox[:, 2:] -= bbox[:, :2]
    return _Clean(starts, bbox, kp, tracks)
