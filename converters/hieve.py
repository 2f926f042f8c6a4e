"""HiEve (Human in Events): per-frame object files (layout a) or per-sequence annolist json (layout b).

No public sample of HiEve exists here, so the part names of layout (a) are one table,
``PART_ALIASES``, matched after lower-casing and dropping ``_``, ``-`` and spaces; a part
value under a name the table does not know is rejected, never silently dropped, so a wrong
table shows up at the first build. (a) flags are 0 visible, 1 invisible, -1 not annotated
(inverted against COCO) and become 2, 1, 0. (b) has no visibility: a listed joint is stored
as visible (2), unless the point carries ``is_visible`` 0 (then 1). Absent joints are (0,0,0).
Sequences 1-19 are HiEve's train split, 20-32 its test split; a sequence without a number
there is train (a training sequence must never leak into test).
"""

from __future__ import annotations

import math
import re
from pathlib import Path, PurePosixPath

import numpy as np

from smallpose.records import SourceTable
from smallpose.skeleton import SOURCE_SKELETONS

from ._hieve_fast import K, _clean_rects, _one
from ._jsonio import UNPARSED, is_num, load_json
from ._roots import Place, above_annotations, ancestors, probe
from ._validate import MISSING_FIELD, WRONG_TYPE, Batch, TableBuilder, convert_files

KIND = "hieve"
FLAG_VIS = {0: 2, 1: 1, -1: 0}  # layout (a): 0 visible, 1 invisible, -1 not annotated
COCO_VIS = {0: 0, 1: 1, 2: 2}
BOX_KEYS = ("xmin", "ymin", "xmax", "ymax")


def _aliases() -> dict[str, int]:
    """Spellings of each native part (``r_shoulder``: rshoulder, rightshoulder, shoulderright)."""
    out = {"thorax": 1}
    for i, name in enumerate(SOURCE_SKELETONS[KIND].native):
        side, _, joint = name.rpartition("_")
        if not side:
            out[joint] = i
            continue
        full = {"r": "right", "l": "left"}[side]
        for alias in (f"{side}{joint}", f"{full}{joint}", f"{joint}{full}"):
            out[alias] = i
    return out


#: normalised part name (lower case, no spaces, "_" or "-") -> native index; correct spellings here
PART_ALIASES: dict[str, int] = _aliases()
_NORM = re.compile(r"[\s_\-]+")
_PART_VALUE = re.compile(r"^\s*-?[\d.eE+-]+\s*,\s*-?[\d.eE+-]+\s*,\s*-?\d+\s*$")
_DIGITS = re.compile(r"(\d+)")


def sequence_split(seq: str) -> str:
    """HiEve's split by sequence number (the last number in the name): 1-19 train, 20-32 test."""
    nums = _DIGITS.findall(seq)
    return "test" if nums and 20 <= int(nums[-1]) <= 32 else "train"


def _frame_number(name: str) -> int | None:
    nums = _DIGITS.findall(PurePosixPath(name).stem)
    return int(nums[-1]) if nums else None


def _number(value) -> float | None:
    """A number, or a string holding one (layout a stores every value as a string)."""
    if is_num(value):
        return float(value)
    if type(value) is str:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _xml_to_dict(path: Path) -> dict:
    """A VOC-style xml frame as the json layout (a): element text as strings, ``object`` always a list."""
    import xml.etree.ElementTree as ET

    def conv(e):
        kids = list(e)
        if not kids:
            return (e.text or "").strip()
        out: dict = {}
        for c in kids:
            if c.tag == "object":
                out.setdefault("object", []).append(conv(c))
            else:
                out.setdefault(c.tag, conv(c))
        return out

    root = ET.parse(path).getroot()
    return {root.tag: conv(root)}


def _read_frame(b: TableBuilder, f: Path, data: dict, split: str | None, counters: dict) -> None:
    """Layout (a): one frame, its folder being the sequence."""
    file = str(f)
    ann = data["annotation"]
    if type(ann) is not dict:
        b.reject(file, None, "annotation", WRONG_TYPE)
        return
    seq = f.parent.name
    fname = ann.get("filename")
    if type(fname) is not str or not fname:
        b.reject(file, None, "filename", MISSING_FIELD if fname is None else WRONG_TYPE)
        return
    name = f"{seq}/{fname}"
    size = ann.get("size") if type(ann.get("size")) is dict else {}
    wh = [_number(size.get(k, 0)) for k in ("width", "height")]
    for k, v in zip(("width", "height"), wh):
        if v is None or not math.isfinite(v) or v < 0:
            b.reject(file, name, f"size.{k}", WRONG_TYPE)
            return
    pos = counters[seq] = counters.get(seq, -1) + 1
    frame = _frame_number(fname)
    if not b.add_image(file, name, name, name, int(wh[0]), int(wh[1]), split or sequence_split(seq), seq,
                       pos if frame is None else frame):  # fmt: skip
        return
    objs = ann.get("object", [])
    objs = [objs] if type(objs) is dict else objs
    if type(objs) is not list:
        b.reject(file, name, "object", WRONG_TYPE)
        return
    batch = Batch(file, bbox_field="bndbox", kp_field="bndbox")
    parts, boxes, tracks = [], [], []
    for n, obj in enumerate(objs):
        rec = f"{name}#{n}"
        box = obj.get("bndbox") if type(obj) is dict else None
        if type(box) is not dict:
            b.reject(file, rec, "bndbox", MISSING_FIELD if box is None else WRONG_TYPE)
            continue
        xyxy = [_number(box.get(k)) for k in BOX_KEYS]
        if any(v is None for v in xyxy):
            bad = BOX_KEYS[[v is None for v in xyxy].index(True)]
            b.reject(file, rec, bad, MISSING_FIELD if box.get(bad) is None else WRONG_TYPE)
            continue
        row = ["0,0,-1"] * K
        ok = True
        for key, value in box.items():
            if key in BOX_KEYS:
                continue
            idx = PART_ALIASES.get(_NORM.sub("", str(key)).lower())
            if type(value) is not str or not _PART_VALUE.match(value):
                if idx is not None:
                    b.reject(file, rec, key, WRONG_TYPE)
                    ok = False
                    break
                continue  # not a part (another attribute of the box)
            if idx is None:
                b.reject(file, rec, key, "unknown part name")
                ok = False
                break
            row[idx] = value
        if not ok or not b.new_ann_id(file, rec, rec):
            continue
        m = re.search(r"(\d+)$", str(obj.get("name", "")))
        tracks.append(int(m.group(1)) if m else None)
        batch.add(rec, rec, name, None, None, track=tracks[-1])
        parts.append(row)
        boxes.append(xyxy)
    if not len(batch):
        return
    kp, bad = _parse_parts(parts)
    bbox = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    bbox[:, 2:] -= bbox[:, :2]
    b.add_arrays(batch, bbox, kp, FLAG_VIS, pre=[(bad, "bndbox", WRONG_TYPE)])


def _parse_parts(parts: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """All "x,y,flag" strings of a file parsed by numpy in one go; rows that fail are flagged."""
    try:
        flat = np.array(",".join(",".join(r) for r in parts).split(","), dtype=np.float64)
        return flat.reshape(-1, K, 3), np.zeros(len(parts), dtype=bool)
    except ValueError:
        kp = np.zeros((len(parts), K, 3))
        bad = np.zeros(len(parts), dtype=bool)
        for i, row in enumerate(parts):
            try:
                kp[i] = np.array(",".join(row).split(","), dtype=np.float64).reshape(K, 3)
            except ValueError:
                bad[i] = True
        return kp, bad


def _read_annolist(b: TableBuilder, f: Path, data: dict, split: str | None) -> None:
    """Layout (b): PoseTrack17-style annolist for one sequence (the file stem).

    A file whose persons are all well formed (what every clean file is) takes the fast path:
    its rects were parsed and checked column-wise up front by :func:`_clean_rects` (in
    _hieve_fast), and this loop
    only claims ids. Any file with a doubtful value goes through :func:`_annorect` person by
    person, which names the first bad field; both paths give the same rows and rejects.
    """
    file = str(f)
    seq = f.stem
    frames = data["annolist"]
    if type(frames) is not list:
        b.reject(file, None, "annolist", WRONG_TYPE)
        return
    clean = _clean_rects(frames)
    batch = Batch(file, bbox_field="x1,y1,x2,y2", kp_field="annopoints")
    keep: list[int] = []  # fast path: the kept persons' rows in ``clean``
    for pos, fr in enumerate(frames):
        rec = f"annolist[{pos}]"
        img = _one(fr.get("image")) if type(fr) is dict else None
        fname = img.get("name") if type(img) is dict else None
        fname = _one(fname)
        if type(fname) is not str or not fname:
            b.reject(file, rec, "image.name", MISSING_FIELD if fname is None else WRONG_TYPE)
            continue
        labeled = _one(fr.get("is_labeled", 1))
        if labeled in (0, False):
            continue  # an unlabelled frame: no ground truth
        name = f"{seq}/{fname}"
        frame = _frame_number(fname)
        if not b.add_image(file, name, name, name, 0, 0, split or sequence_split(seq), seq,
                           pos if frame is None else frame):  # fmt: skip
            continue
        rects = fr.get("annorect", [])
        if type(rects) is not list:
            b.reject(file, name, "annorect", WRONG_TYPE)
            continue
        if clean is not None:
            start = clean.starts[pos]
            for n in range(len(rects)):
                prec = f"{name}#{n}"
                if b.new_ann_id(file, prec, prec):
                    keep.append(start + n)
                    batch.records.append(prec)
                    batch.image_ids.append(name)
            continue
        for n, r in enumerate(rects):
            prec = f"{name}#{n}"
            row = _annorect(b, file, prec, r)
            if row is not None and b.new_ann_id(file, prec, prec):
                box, kp, track = row
                batch.add(prec, prec, name, box, kp, track=track)
    if clean is None:
        b.add_rows(batch, COCO_VIS, xyxy=True)
        return
    idx = np.asarray(keep, dtype=np.intp)
    batch.ann_ids = batch.records
    batch.iscrowd = [False] * len(keep)
    batch.track = [clean.tracks[i] for i in keep]
    b.add_arrays(batch, clean.bbox[idx], clean.kp[idx], COCO_VIS)


def _annorect(b: TableBuilder, file: str, rec: str, r) -> tuple | None:
    if type(r) is not dict:
        b.reject(file, rec, None, WRONG_TYPE)
        return None
    box = [_one(r.get(k)) for k in ("x1", "y1", "x2", "y2")]
    for k, v in zip(("x1", "y1", "x2", "y2"), box):
        if not is_num(v):
            b.reject(file, rec, k, MISSING_FIELD if v is None else WRONG_TYPE)
            return None
    track = _one(r.get("track_id"))
    if track is not None and type(track) is not int:
        b.reject(file, rec, "track_id", WRONG_TYPE)
        return None
    kp = [0.0] * (3 * K)
    pts = _one(r.get("annopoints"))
    pts = pts.get("point", []) if type(pts) is dict else pts
    if type(pts) in (int, float, bool) and pts:  # not iterable: was a traceback
        b.reject(file, rec, "annopoints", WRONG_TYPE)
        return None
    for p in pts or []:
        jid = _one(p.get("id")) if type(p) is dict else None
        if type(jid) is not int or not 0 <= jid < K:
            b.reject(file, rec, "annopoints.point.id", "bad joint id")
            return None
        x, y, vis = _one(p.get("x")), _one(p.get("y")), _one(p.get("is_visible", 1))
        if not (is_num(x) and is_num(y)):
            b.reject(file, rec, "annopoints.point.x", WRONG_TYPE)
            return None
        if kp[3 * jid + 2]:
            b.reject(file, rec, "annopoints.point.id", "duplicate id")
            return None
        kp[3 * jid : 3 * jid + 3] = (x, y, 1 if vis in (0, "0") else 2)
    return box, kp, track


def _read(b: TableBuilder, f: Path, split: str | None, counters: dict) -> str | None:
    """Read one file; returns its layout, "a" or "b" (None when it was rejected whole)."""
    if f.suffix.lower() == ".xml":
        try:
            data = _xml_to_dict(f)
        except Exception:  # ElementTree's ParseError and anything a damaged file raises
            b.reject(str(f), None, None, "malformed xml")
            return None
    else:
        data = load_json(f, b.rejects)
        if data is UNPARSED:
            return None
    if type(data) is dict and "annotation" in data:
        _read_frame(b, f, data, split, counters)
        return "a"
    if type(data) is dict and "annolist" in data:
        _read_annolist(b, f, data, split)
        return "b"
    b.reject(str(f), None, None, WRONG_TYPE)
    return None


def locate(f: Path, names: list[str], layout: str | None) -> tuple[Place, bool]:
    """HiEve names are ``<sequence>/<frame>``, relative to the folder holding one folder per
    sequence: beside the file (layout b: ``<seq>.json``; layout a: the folder above ``<seq>/``),
    else ``images/`` in a folder above it (what ``smallpose synth`` writes:
    ``<root>/annotations/...`` -> ``<root>/images/<seq>/<frame>.jpg``), nearest first.
    Without images: ``images/`` beside the ``annotations/`` folder, else beside the file."""
    d = f.parent
    beside = d.parent if layout == "a" else d
    cands = [Place(beside)] + [p for a in ancestors(d) for p in (Place(a), Place(a, "images"))]
    top = above_annotations(d)
    return probe(names, cands, Place(top, "images") if top is not None else Place(beside))


def convert(path: Path, *, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert HiEve files: a frame or sequence file, or every ``*.json``/``*.xml`` under a folder."""
    counters: dict[str, int] = {}
    layouts: dict[Path, str | None] = {}

    def read(b: TableBuilder, f: Path, split: str | None) -> None:
        layouts[f.absolute()] = _read(b, f, split, counters)

    def where(f: Path, names: list[str]) -> tuple[Place, bool]:
        return locate(f, names, layouts.get(f))

    return convert_files(
        KIND, path, split, strict, read, suffixes=(".json", ".xml"), recursive=True, locate=where
    )
