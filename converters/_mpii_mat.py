"""Reading MPII's official ``.mat`` release, with all of its irregularities.

``loadmat(squeeze_me=True, struct_as_record=False)`` turns a struct array of one element into
a bare struct, empty fields into empty arrays, and strings into ``str``; MPII adds persons
without ``annopoints``, ``point`` as one struct or an array, and ``is_visible`` as 0/1, '0'/'1'
or empty. Everything here goes through :func:`_items` and :func:`_scalar` so that each of
those shapes is handled in one place.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ._validate import DUPLICATE_ID, MISSING_FIELD, WRONG_TYPE, TableBuilder

K = 16
BAD_JOINT_ID = "bad joint id"
MALFORMED_MAT = "malformed mat"
_INVALID_VIS = 9.0  # not a COCO code: the row is rejected as "bad visibility"


def _items(value) -> list:
    """A struct field that may be a struct, an array of structs, or empty, as a list of structs."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        return list(value.ravel())
    return [value]


def _scalar(value):
    """A number or string that may come wrapped in a 0-d/1-element array; None if empty."""
    if isinstance(value, np.ndarray):
        if value.size != 1:
            return None
        value = value.ravel()[0]
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _num(value) -> float | None:
    v = _scalar(value)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _visibility(value) -> float:
    """MPII is_visible -> COCO: 1 -> 2 (visible), 0 -> 1 (occluded), empty -> 2 (annotated, unstated)."""
    v = _scalar(value)
    if v is None or (isinstance(v, str) and v.strip() == ""):
        return 2.0
    if isinstance(v, str):
        v = v.strip()
    if v in (1, "1"):
        return 2.0
    if v in (0, "0"):
        return 1.0
    return _INVALID_VIS


def _head(r) -> list[float] | None:
    """MPII head rectangle x1,y1,x2,y2 (1-based) -> 0-based (x, y, w, h); None if absent."""
    vals = [_num(getattr(r, k, None)) for k in ("x1", "y1", "x2", "y2")]
    if any(v is None for v in vals):
        return None
    x1, y1, x2, y2 = vals
    return [x1 - 1.0, y1 - 1.0, x2 - x1, y2 - y1]


def _person(b: TableBuilder, file: str, rec: str, r) -> np.ndarray | None:
    """(16, 3) joints of one annorect, 0-based, COCO visibility; None if it has no points or is bad."""
    pts = _items(getattr(getattr(r, "annopoints", None), "point", None))
    if not pts:
        return None
    row = np.zeros((K, 3))
    seen = set()
    for p in pts:
        jid = _scalar(getattr(p, "id", None))
        if isinstance(jid, float) and jid.is_integer():
            jid = int(jid)
        if not isinstance(jid, int) or isinstance(jid, bool) or not 0 <= jid < K:
            b.reject(file, rec, "annopoints.point.id", BAD_JOINT_ID)
            return None
        if jid in seen:
            b.reject(file, rec, "annopoints.point.id", DUPLICATE_ID)
            return None
        seen.add(jid)
        x, y = _num(getattr(p, "x", None)), _num(getattr(p, "y", None))
        if x is None or y is None:
            b.reject(file, rec, "annopoints.point.x" if x is None else "annopoints.point.y", WRONG_TYPE)
            return None
        row[jid] = (x - 1.0, y - 1.0, _visibility(getattr(p, "is_visible", None)))
    return row


def read_mat(b: TableBuilder, f: Path, split: str | None):
    """Rows of every person with joints in the release, or None after rejecting the whole file."""
    from scipy.io import loadmat

    file = str(f)
    try:
        mat = loadmat(f, squeeze_me=True, struct_as_record=False)
    except Exception:  # scipy raises many types for a damaged file
        b.reject(file, None, None, MALFORMED_MAT)
        return None
    rel = mat.get("RELEASE")
    annolist = getattr(rel, "annolist", None)
    if annolist is None:
        b.reject(file, None, "RELEASE.annolist" if rel is not None else "RELEASE", MISSING_FIELD)
        return None
    images = _items(annolist)
    train = np.atleast_1d(getattr(rel, "img_train", np.zeros(0)))
    recs, names, positions, splits, kps, centers, scales, heads = [], [], [], [], [], [], [], []
    for i, ann in enumerate(images):
        name = _scalar(getattr(getattr(ann, "image", None), "name", None))
        if not isinstance(name, str) or not name:
            b.reject(file, f"annolist({i + 1})", "image.name", MISSING_FIELD if name is None else WRONG_TYPE)
            continue
        # the release's own split; without img_train we cannot tell, and keep train (never leak to test)
        img_split = split or ("test" if i < len(train) and _scalar(train[i]) == 0 else "train")
        for ridx, r in enumerate(_items(getattr(ann, "annorect", None))):
            rec = f"annolist({i + 1}).annorect({ridx + 1}) ({name}#{ridx})"
            row = _person(b, file, rec, r)
            if row is None:
                continue
            objpos = getattr(r, "objpos", None)
            cx, cy = _num(getattr(objpos, "x", None)), _num(getattr(objpos, "y", None))
            scale = _num(getattr(r, "scale", None))
            recs.append(rec)
            names.append(name)
            positions.append(ridx)
            splits.append(img_split)
            kps.append(row)
            centers.append((math.nan, math.nan) if cx is None or cy is None else (cx - 1.0, cy - 1.0))
            scales.append(math.nan if scale is None else scale)
            head = _head(r)
            heads.append([math.nan] * 4 if head is None else head)
    n = len(recs)
    kp = np.asarray(kps, dtype=np.float64).reshape(n, K, 3)
    center = np.asarray(centers, dtype=np.float64).reshape(n, 2)
    head = np.asarray(heads, dtype=np.float64).reshape(n, 4)
    return recs, names, positions, splits, kp, center, np.asarray(scales, dtype=np.float64), head, []
