"""MPII Human Pose: the official ``mpii_human_pose_v1_u12_1.mat`` or the HRNet/mmpose json list.

MPII coordinates are MATLAB's, 1-based; we subtract 1 from every coordinate (joints, person
centre, head rectangle) in both forms, as HRNet's loader does, so the store is 0-based like
COCO and the .mat and json of the same person give the same numbers. MPII has no person box:
it is derived from the annotated joints (:func:`person_boxes`). Persons without any annotated
joint (all of the test set, some training rectangles) are not ground truth and are skipped,
and an image is emitted only when at least one of its persons has joints.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from smallpose.records import SourceTable

from ._jsonio import UNPARSED, is_num, load_json, split_from_name
from ._mpii_mat import read_mat
from ._roots import Place, probe
from ._validate import (
    MISSING_FIELD,
    REJECTED_IMAGE,
    WRONG_KP_COUNT,
    WRONG_TYPE,
    Batch,
    TableBuilder,
    convert_files,
    float_rows,
)

KIND = "mpii"
K = 16
#: each side of the joints' bounding box is pushed out by this fraction of its width/height
BOX_PAD = 0.1
JSON_VIS = {0: 0, 1: 2}  # joints_vis says "annotated", not "visible": the json has no occlusion flag


def person_boxes(kp: np.ndarray, annotated: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(n, 4) boxes (x, y, w, h) from (n, 16, 3) 0-based joints.

    The annotated joints' bounding box, grown by ``BOX_PAD`` of its size on each side
    (w = 1.2 * joint extent). Where the joints span no width or no height (one joint, or all
    on a line), MPII's own person scale is used instead: a square of side 200 * scale centred
    on the (0-based) person centre, MPII's definition of scale being height / 200 px. If that
    is missing too, the zero-size joint box is kept and the person is rejected downstream.
    """
    x = kp[:, :, 0]
    y = kp[:, :, 1]
    x0 = np.where(annotated, x, np.inf).min(axis=1)
    x1 = np.where(annotated, x, -np.inf).max(axis=1)
    y0 = np.where(annotated, y, np.inf).min(axis=1)
    y1 = np.where(annotated, y, -np.inf).max(axis=1)
    w, h = x1 - x0, y1 - y0
    box = np.stack([x0 - BOX_PAD * w, y0 - BOX_PAD * h, (1 + 2 * BOX_PAD) * w, (1 + 2 * BOX_PAD) * h], axis=1)
    side = 200.0 * scale
    fallback = ~((w > 0) & (h > 0)) & np.isfinite(center).all(axis=1) & (side > 0)
    box[fallback] = np.stack(
        [center[fallback, 0] - side[fallback] / 2, center[fallback, 1] - side[fallback] / 2,
         side[fallback], side[fallback]], axis=1,
    )  # fmt: skip
    return box


def _center_scale(b: TableBuilder, file: str, rec: str, entry: dict) -> tuple[list, float] | None:
    center, scale = entry.get("center"), entry.get("scale")
    if center is None:
        center = [math.nan, math.nan]
    elif not (type(center) is list and len(center) == 2 and all(is_num(v) for v in center)):
        b.reject(file, rec, "center", WRONG_TYPE)
        return None
    if scale is None:
        scale = math.nan
    elif not is_num(scale):
        b.reject(file, rec, "scale", WRONG_TYPE)
        return None
    return center, float(scale)


def read_json(b: TableBuilder, f: Path, data: object, split: str) -> None:
    file = str(f)
    if type(data) is not list:
        b.reject(file, None, None, WRONG_TYPE)
        return
    recs, names, joints, vis, centers, scales, positions = [], [], [], [], [], [], []
    count: dict[str, int] = {}
    for pos, entry in enumerate(data):
        rec = f"[{pos}]"
        if type(entry) is not dict:
            b.reject(file, rec, None, WRONG_TYPE)
            continue
        name = entry.get("image")
        if type(name) is not str or not name:
            b.reject(file, rec, "image", MISSING_FIELD if name is None else WRONG_TYPE)
            continue
        n = count.get(name, 0)
        count[name] = n + 1
        rec = f"{rec} ({name}#{n})"
        j, v = entry.get("joints"), entry.get("joints_vis")
        if j is None and v is None:
            continue  # a test-set entry: no ground truth
        bad = next((fld for fld, val in (("joints", j), ("joints_vis", v))
                    if not (type(val) is list and len(val) == K)), None)  # fmt: skip
        if bad is not None:
            val = entry.get(bad)
            reason = MISSING_FIELD if val is None else WRONG_KP_COUNT if type(val) is list else WRONG_TYPE
            b.reject(file, rec, bad, reason)
            continue
        cs = _center_scale(b, file, rec, entry)
        if cs is None:
            continue
        recs.append(rec)
        names.append(name)
        joints.append(j)
        vis.append(v)
        centers.append(cs[0])
        scales.append(cs[1])
        positions.append(n)
    xy, bad_xy = float_rows(joints, (K, 2))
    v, bad_v = float_rows(vis, K)
    kp = np.concatenate([xy - 1.0, v[:, :, None]], axis=2)
    annotated = v == 1
    # persons without any annotated joint are not ground truth; bad rows stay, to be rejected
    keep = annotated.any(axis=1) | bad_xy | bad_v | ~np.isin(v, (0, 1)).all(axis=1)
    center = np.asarray(centers, dtype=np.float64).reshape(-1, 2) - 1.0
    boxes = person_boxes(kp, annotated, center, np.asarray(scales, dtype=np.float64))
    pre = [(bad_xy, "joints", WRONG_TYPE), (bad_v, "joints_vis", WRONG_TYPE)]
    _emit(b, file, split, keep, recs, names, positions, kp, boxes, None, JSON_VIS, pre, "image")


def _emit(b, file, split, keep, recs, names, positions, kp, boxes, head, vis_map, pre, name_field) -> None:
    """Add the images of the kept persons (first appearance order), then the persons."""
    rows = [i for i in np.flatnonzero(keep)]
    image_ok: dict[str, bool] = {}
    take = []
    for i in rows:
        name = names[i]
        if name not in image_ok:
            img_split = split[i] if type(split) is list else split
            image_ok[name] = b.add_image(file, recs[i], name, name, 0, 0, img_split, name_field=name_field)
        if not image_ok[name]:
            b.reject(file, recs[i], "image", REJECTED_IMAGE)
            continue
        aid = f"{name}#{positions[i]}"
        if b.new_ann_id(file, recs[i], aid):
            take.append(i)
    batch = Batch(file, bbox_field="joints", kp_field="joints", head_field="x1,y1,x2,y2")
    for i in take:
        batch.add(recs[i], f"{names[i]}#{positions[i]}", names[i], None, None)
    idx = np.asarray(take, dtype=np.int64)
    b.add_arrays(
        batch, boxes[idx], kp[idx], vis_map, head=None if head is None else head[idx],
        pre=[(mask[idx], fld, reason) for mask, fld, reason in pre],
    )  # fmt: skip


def _read(b: TableBuilder, f: Path, split: str | None) -> None:
    if f.suffix.lower() == ".mat":
        got = read_mat(b, f, split)
        if got is not None:
            recs, names, positions, splits, kp, center, scale, head, pre = got
            annotated = kp[:, :, 2] > 0
            boxes = person_boxes(kp, annotated, center, scale)
            keep = np.ones(len(recs), dtype=bool)
            vis_map = {0: 0, 1: 1, 2: 2}
            _emit(
                b, str(f), splits, keep, recs, names, positions, kp, boxes, head, vis_map, pre, "image.name"
            )
        return
    data = load_json(f, b.rejects)
    if data is not UNPARSED:
        read_json(b, f, data, split or split_from_name(f.stem) or "train")


def locate(f: Path, names: list[str]) -> tuple[Place, bool]:
    """Images beside the file, else MPII's layout ``<root>/mpii_human_pose_v1_u12_1.mat`` ->
    ``<root>/images/`` (also what ``smallpose synth`` writes), else mmpose's
    ``<root>/annotations/*.json`` -> ``<root>/images/``. Without images: ``images/`` beside a
    .mat, ``<root>/images/`` for a json in ``annotations/``, else beside the file."""
    d = f.parent
    cands = [Place(d), Place(d, "images"), Place(d.parent, "images")]
    if f.suffix.lower() == ".mat":
        fallback = Place(d, "images")
    else:
        fallback = Place(d.parent, "images") if d.name == "annotations" else Place(d)
    return probe(names, cands, fallback)


def convert(path: Path, *, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert an MPII .mat or json, or every ``*.mat``/``*.json`` in a folder (not recursive)."""
    return convert_files(KIND, path, split, strict, _read, suffixes=(".json", ".mat"), locate=locate)
