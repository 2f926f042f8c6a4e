"""Ground truth for the evaluator, from a SmallPose store or a COCO-format keypoints json.

Both paths end in one :class:`~smallpose.metrics.arrays.GroundTruth` plus a description
(``source``) that the metrics file records: where the ground truth came from and a
fingerprint, so a leaderboard row can be traced to the exact data it was scored on. A
store's fingerprint is its manifest's (a hash of the table bytes); a json's is its sha256.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
from smallpose.metrics.arrays import GroundTruth, gc_paused, parse_json

from smallpose.errors import InputError, SmallPoseError
from smallpose.store import open_store

#: SmallPose's small-area bound used by keypoint density (SPEC section 3)
S_SMALL = 128.0 * 96.0


@dataclass
class LoadedGroundTruth:
    gt: GroundTruth
    kind: str  # "store" | "coco-json"
    path: str
    split: str | None
    fingerprint: str

    @property
    def K(self) -> int:  # noqa: N802
        return self.gt.num_joints

    def describe(self) -> dict:
        return {"store": self.path, "kind": self.kind, "split": self.split, "fingerprint": self.fingerprint}


def load_groundtruth(path: str | os.PathLike, split: str | None = "test") -> LoadedGroundTruth:
    """A store directory (restricted to ``split``) or a COCO keypoints json (``split`` unused)."""
    p = Path(path)
    if p.is_dir():
        return _from_store(p, split)
    if p.is_file():
        return _from_coco_json(p)
    raise InputError(str(p), None, None, "no such ground truth (expected a store directory or a COCO json)")


def _from_store(path: Path, split: str | None) -> LoadedGroundTruth:
    store = open_store(path).split(split)
    ins = store.instances
    kd = ins.column("kd").to_numpy(zero_copy_only=False)
    gt = GroundTruth(
        image_ids=ins.column("image_id").to_numpy(),
        keypoints=store.keypoints(),
        bbox=store.bboxes(),
        area=ins.column("area").to_numpy(zero_copy_only=False),
        iscrowd=ins.column("iscrowd").to_numpy(zero_copy_only=False),
        num_keypoints=ins.column("num_keypoints").to_numpy(zero_copy_only=False),
        eval_image_ids=store.images.column("image_id").to_numpy(),
        bbox_area=ins.column("bbox_area").to_numpy(zero_copy_only=False),
        kd=np.asarray(kd, dtype=np.float64),  # nulls arrive as NaN
        head_box=store.head_boxes(),
        instance_ids=ins.column("instance_id").to_numpy(),
        extra={"source": np.asarray(ins.column("source").to_pylist(), dtype=object)},
    )
    return LoadedGroundTruth(gt, "store", str(path), split, store.fingerprint)


def keypoint_density(bbox_area: np.ndarray, n_annotated: np.ndarray, K: int) -> np.ndarray:
    """KD = 2 (1 - sigmoid(S / S_small * K / n)); NaN where no point is annotated (SPEC 3)."""
    n = np.asarray(n_annotated, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = bbox_area / S_SMALL * K / n
        kd = 2.0 * (1.0 - 1.0 / (1.0 + np.exp(-z)))
    return np.where(n > 0, kd, np.nan)


def _from_coco_json(path: Path) -> LoadedGroundTruth:
    # the collector stays paused until the parsed file is freed (see arrays.gc_paused)
    with gc_paused():
        return _read_coco_json(path)


def _read_coco_json(path: Path) -> LoadedGroundTruth:
    name = str(path)
    raw = path.read_bytes()
    try:
        # fingerprint = sha256_file(path), from the bytes already read, hashed during the parse
        data, may_hold_bools, fingerprint = parse_json(raw, with_sha256=True)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(name, None, None, f"not valid JSON: {e}") from None
    del raw
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise InputError(name, None, "annotations", "not a COCO keypoints file (no 'annotations' list)")
    cats = [c for c in data.get("categories", []) if isinstance(c, dict) and c.get("keypoints")]
    if not cats:
        raise InputError(name, None, "categories", "no category with a 'keypoints' list")
    cat = next((c for c in cats if c.get("id") == 1), cats[0])
    K = len(cat["keypoints"])
    images = data.get("images", [])
    anns = [a for a in data["annotations"] if isinstance(a, dict) and a.get("category_id") == cat["id"]]
    img_ids = _image_ids(images, name)
    del data, images  # the parsed file is by far the largest object: keep only what is used
    try:
        cols = _columns_fast(anns, K, may_hold_bools) if anns else None
    except OverflowError:  # an integer beyond int64 / float range: the per-record path decides
        cols = None
    if cols is None:
        cols = _columns_per_record(anns, K, name)
    del anns
    G = len(cols["image_ids"])
    kps = cols["keypoints"]
    n_ann = (kps[..., 2] > 0).sum(1) if G else np.zeros(0)
    kd_given = cols["kd_given"]
    bbox_area = cols["bbox_area"]
    kd = np.where(np.isfinite(kd_given), kd_given, keypoint_density(bbox_area, n_ann, K)) if G else kd_given
    if not img_ids and G:
        raise SmallPoseError(f"{name}: no 'images' list: the evaluated image set is unknown")
    gt = GroundTruth(
        image_ids=cols["image_ids"],
        keypoints=kps,
        bbox=cols["bbox"],
        area=cols["area"],
        iscrowd=cols["iscrowd"],
        num_keypoints=cols["num_keypoints"],
        eval_image_ids=np.asarray(img_ids, dtype=np.int64),
        bbox_area=bbox_area,
        kd=kd,
        head_box=cols["head_box"],
        instance_ids=cols["instance_ids"],
    )
    return LoadedGroundTruth(gt, "coco-json", name, None, fingerprint)


_MISSING = object()
_I64 = (-(2**63), 2**63)


def _types(values: list) -> set:
    return set(map(type, values))


def _get(anns: list[dict], key: str, default=None) -> list:
    """``[a.get(key, default) for a in anns]`` without a Python frame per record."""
    return list(map(dict.get, anns, repeat(key), repeat(default)))


def _numbers_or(values: list, default: np.ndarray) -> np.ndarray | None:
    """``values`` as float64 with ``default`` where _MISSING; None unless all are int/float."""
    types = _types(values)
    if not types <= {float, int, object}:  # object: the _MISSING marker
        return None
    if object not in types:
        return np.array(values, dtype=np.float64)
    missing = [i for i, v in enumerate(values) if v is _MISSING]
    out = np.array([0.0 if v is _MISSING else v for v in values], dtype=np.float64)
    out[missing] = default[missing]
    return out


def _stack(rows: list, width: int, check_types: bool) -> np.ndarray | None:
    """Rows of ``width`` numbers each as (n, width) float64; None when any row is not a list of
    ``width`` int/float values (a string, null, boolean, nesting or count off: the per-record
    path then names it). Built without a dtype so that a string or null shows as a non-numeric
    array instead of being converted; booleans would be read as 0/1, so where the file holds a
    ``true``/``false`` literal (``check_types``) every value's type is checked as well."""
    try:
        arr = np.asarray(rows)
    except (ValueError, TypeError, OverflowError):
        return None
    if arr.dtype.kind not in "iuf" or arr.shape != (len(rows), width):
        return None
    if check_types and not _types(itertools.chain.from_iterable(rows)) <= {int, float}:
        return None
    return arr.astype(np.float64, copy=False)


def _columns_fast(anns: list[dict], K: int, check_types: bool = True) -> dict | None:
    """All columns at once, column by column (no per-record numpy calls, and the columns read
    through map() with C-level callables). Returns None whenever a record is unusual in any
    way (missing key, other types, ragged lists), so that :func:`_columns_per_record` decides
    and words the error."""
    G = len(anns)
    kp = _stack(_get(anns, "keypoints"), 3 * K, check_types)
    bbox = _stack(_get(anns, "bbox"), 4, check_types)
    image_ids = _get(anns, "image_id")
    if kp is None or bbox is None or not _types(image_ids) <= {int}:
        return None
    if not (np.isfinite(kp).all() and np.isfinite(bbox).all()):
        return None
    kp = kp.reshape(G, K, 3)
    wh = bbox[:, 2] * bbox[:, 3]
    nk = _get(anns, "num_keypoints", _MISSING)
    nk_types = _types(nk)
    if not nk_types <= {int, object}:
        return None
    area = _numbers_or(_get(anns, "area", _MISSING), wh)
    bbox_area = _numbers_or(_get(anns, "bbox_area", _MISSING), wh)
    crowd = _get(anns, "iscrowd", 0)
    ids = _get(anns, "id", _MISSING)
    id_types = _types(ids)
    if area is None or bbox_area is None or not _types(crowd) <= {int, bool}:
        return None
    if not (np.isfinite(area).all() and np.isfinite(bbox_area).all()):
        return None
    if not id_types <= {int, object}:
        return None
    if any(map(dict.__contains__, anns, repeat("bbox_head"))):
        heads = [a.get("head_box", a.get("bbox_head")) for a in anns]
    else:
        heads = _get(anns, "head_box")
    head_box = np.full((G, 4), np.nan)
    have = [i for i, h in enumerate(heads) if h]
    if have:
        hb = _stack([heads[i] for i in have], 4, check_types)
        if hb is None:
            return None
        head_box[have] = hb
    kd = _get(anns, "kd")
    kd_types = _types(kd)
    if not kd_types <= {type(None), float, int}:
        return None
    if object in nk_types:
        counted = (kp[:, :, 2] > 0).sum(axis=1)
        nk = [counted[i] if v is _MISSING else v for i, v in enumerate(nk)]
    if object in id_types:
        ids = [i + 1 if v is _MISSING else v for i, v in enumerate(ids)]
    return {
        "image_ids": np.array(image_ids, dtype=np.int64),
        "keypoints": kp,
        "bbox": bbox,
        "area": area,
        "iscrowd": np.array(crowd, dtype=bool),
        "num_keypoints": np.array(nk, dtype=np.int64),
        "bbox_area": bbox_area,
        "kd_given": np.full(G, np.nan)
        if kd_types <= {type(None)}
        else np.array([np.nan if v is None else v for v in kd], dtype=np.float64),
        "head_box": head_box,
        "instance_ids": np.array(ids, dtype=np.int64),
    }


def _columns_per_record(anns: list[dict], K: int, name: str) -> dict:
    """Record by record, with a one-line message naming the first bad record and field."""
    rows = []
    for i, a in enumerate(anns):
        rec = f"annotations[{i}]" + (f" (id {a['id']})" if type(a.get("id")) is int else "")
        r = _Record(name, rec, a)
        kp = r.numbers("keypoints", 3 * K).reshape(K, 3)
        bbox = r.numbers("bbox", 4)
        image_id = r.integer("image_id")
        nk = r.integer("num_keypoints", int((kp[:, 2] > 0).sum()))
        # pycocotools reads 'area' as given (segmentation area for COCO); w*h where absent
        area = r.number("area", float(bbox[2] * bbox[3]))
        bbox_area = r.number("bbox_area", float(bbox[2] * bbox[3]))
        crowd = a.get("iscrowd", 0)
        if type(crowd) is not bool and type(crowd) is not int:
            raise InputError(name, rec, "iscrowd", f"expected 0 or 1, got {_kind(crowd)}")
        head_field = "head_box" if "head_box" in a else "bbox_head"
        head = r.numbers(head_field, 4) if a.get(head_field) else np.full(4, np.nan)
        kd = r.number("kd", math.nan) if a.get("kd") is not None else math.nan
        rows.append((image_id, kp, bbox, area, bool(crowd), nk, head, r.integer("id", i + 1), bbox_area, kd))
    G = len(rows)
    return {
        "image_ids": np.array([r[0] for r in rows], dtype=np.int64),
        "keypoints": np.stack([r[1] for r in rows]) if G else np.zeros((0, K, 3)),
        "bbox": np.stack([r[2] for r in rows]) if G else np.zeros((0, 4)),
        "area": np.array([r[3] for r in rows], dtype=np.float64),
        "iscrowd": np.array([r[4] for r in rows], dtype=bool),
        "num_keypoints": np.array([r[5] for r in rows], dtype=np.int64),
        "bbox_area": np.array([r[8] for r in rows], dtype=np.float64),
        "kd_given": np.array([r[9] for r in rows], dtype=np.float64),
        "head_box": np.stack([r[6] for r in rows]) if G else np.zeros((0, 4)),
        "instance_ids": np.array([r[7] for r in rows], dtype=np.int64),
    }


def _image_ids(images: list, name: str) -> list[int]:
    """The evaluated image ids, each checked to be an integer that fits in 64 bits."""
    ids = [im["id"] for im in images if isinstance(im, dict) and "id" in im]
    if all(type(v) is int and _I64[0] <= v < _I64[1] for v in ids):
        return ids
    pos = [i for i, im in enumerate(images) if isinstance(im, dict) and "id" in im]
    return [_Record(name, f"images[{i}]", images[i]).integer("id") for i in pos]


class _Record:
    """Typed reads of one record's fields, each failure an InputError naming record and field."""

    def __init__(self, file: str, rec: str, data: dict):
        self.file, self.rec, self.data = file, rec, data

    def _get(self, key: str, default):
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise InputError(self.file, self.rec, key, "missing")
        return default

    def integer(self, key: str, default=_MISSING) -> int:
        v = self._get(key, default)
        if type(v) is float and v.is_integer():
            v = int(v)  # 3.0 names the same image as 3 (pycocotools compares them equal)
        if type(v) is not int:
            raise InputError(self.file, self.rec, key, f"expected an integer, got {_kind(v)}")
        if not _I64[0] <= v < _I64[1]:
            raise InputError(self.file, self.rec, key, f"integer {v} does not fit in 64 bits")
        return v

    def number(self, key: str, default=_MISSING) -> float:
        v = self._get(key, default)
        if type(v) is not float and type(v) is not int:
            raise InputError(self.file, self.rec, key, f"expected a number, got {_kind(v)}")
        try:
            f = float(v)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise InputError(self.file, self.rec, key, f"not a finite number ({v})")
        return f

    def numbers(self, key: str, n: int) -> np.ndarray:
        v = self._get(key, _MISSING)
        flat = v
        if type(v) is list and v and all(type(x) is list for x in v):
            flat = [x for row in v for x in row]  # [[x, y, v], ...] reads as the flat list
        if type(flat) is not list or len(flat) != n:
            got = f"{len(flat)} values" if type(flat) is list else _kind(v)
            raise InputError(self.file, self.rec, key, f"expected a list of {n} numbers, got {got}")
        for j, x in enumerate(flat):
            if type(x) is not float and type(x) is not int:
                raise InputError(self.file, self.rec, f"{key}[{j}]", f"expected a number, got {_kind(x)}")
        try:
            out = np.asarray(flat, dtype=np.float64)
        except OverflowError:
            out = np.full(n, np.inf)
        if not np.isfinite(out).all():
            j = int(np.flatnonzero(~np.isfinite(out))[0])
            raise InputError(self.file, self.rec, f"{key}[{j}]", f"not a finite number ({flat[j]})")
        return out


def _kind(v) -> str:
    if v is None:
        return "null"
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}
    return names.get(type(v), repr(v))
