"""The COCO keypoints layout, shared by COCO, CrowdPose, PoseTrack and mmpose's AIC conversion.

One reader with a few switches (extra image fields, head box, track id, positional ids)
rather than four near-copies, so a fix to COCO-style validation reaches every source.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from ._jsonio import id_string, is_num
from ._validate import (
    DUPLICATE_ID,
    MISSING_FIELD,
    NON_FINITE,
    REJECTED_IMAGE,
    UNKNOWN_IMAGE,
    WRONG_KP_COUNT,
    WRONG_TYPE,
    Batch,
    TableBuilder,
    check_list,
)

COCO_VIS = {0: 0, 1: 1, 2: 2}

#: returned by an image hook for an image that is skipped without a reject (PoseTrack unlabelled frame)
SKIP = object()

ImageHook = Callable[[dict, str, str, TableBuilder], Any]


def _person_ids(data: dict) -> set:
    """Category ids named "person"; empty when the file lists none (then every annotation counts)."""
    cats = data.get("categories")
    if type(cats) is not list:
        return set()
    return {c.get("id") for c in cats if type(c) is dict and c.get("name") == "person"}


def read_coco_like(
    b: TableBuilder,
    path: Path,
    data: Any,
    split: str,
    *,
    vis_map: dict[int, int] = COCO_VIS,
    image_hook: ImageHook | None = None,
    use_area: bool = True,
    head_field: str | None = None,
    track_field: str | None = None,
    positional_ids: bool = False,
) -> None:
    """Append one parsed COCO-style file to ``b``.

    ``image_hook(img, file, record, b)`` returns extra ``add_image`` keyword arguments, ``None``
    after rejecting the image itself, or ``SKIP``. ``positional_ids``: the file's ids are a
    converter's enumeration (mmpose's AIC), so images are named by their file stem and
    persons by ``<stem>#<position in the image>``, as the native format has them.
    """
    file = str(path)
    if type(data) is not dict:
        b.reject(file, None, None, WRONG_TYPE)
        return
    images, anns = data.get("images"), data.get("annotations")
    for fld, value in (("images", images), ("annotations", anns)):
        if type(value) is not list:
            b.reject(file, None, fld, MISSING_FIELD if value is None else WRONG_TYPE)
            return

    id_map: dict[Any, str] = {}  # the file's image id -> source_image_id
    rejected: set = set()
    skipped: set = set()
    for pos, img in enumerate(images):
        rec: Any = f"images[{pos}]"
        if type(img) is not dict:
            b.reject(file, rec, None, WRONG_TYPE)
            continue
        raw = img.get("id")
        sid = id_string(raw)
        if sid is None:
            b.reject(file, rec, "id", MISSING_FIELD if raw is None else WRONG_TYPE)
            continue
        rec = sid
        if raw in id_map or raw in rejected or raw in skipped:
            b.reject(file, rec, "id", DUPLICATE_ID)
            continue
        extra = image_hook(img, file, rec, b) if image_hook else {}
        if extra is None or extra is SKIP:
            (rejected if extra is None else skipped).add(raw)
            continue
        name = img.get("file_name")
        if positional_ids and type(name) is str:
            sid = PurePosixPath(name.replace("\\", "/")).stem
        ok = b.add_image(file, rec, sid, name, img.get("width", 0), img.get("height", 0), split, **extra)
        if ok:
            id_map[raw] = sid
        else:
            rejected.add(raw)

    person = _person_ids(data)
    batch = Batch(file)
    if head_field:
        batch.head_field = head_field
    per_image: dict[str, int] = {}
    k3 = 3 * b.K
    for pos, ann in enumerate(anns):
        rec = f"annotations[{pos}]"
        if type(ann) is not dict:
            b.reject(file, rec, None, WRONG_TYPE)
            continue
        cat = ann.get("category_id")
        if person and cat is not None and (type(cat) is not int or cat not in person):
            continue  # another category in a multi-category file: not ours, not an error
        raw_img = ann.get("image_id")
        aid = None
        if not positional_ids:
            aid = id_string(ann.get("id"))
            if aid is None:
                b.reject(file, rec, "id", MISSING_FIELD if ann.get("id") is None else WRONG_TYPE)
                continue
            rec = aid
        if type(raw_img) is not int and type(raw_img) is not str:
            b.reject(file, rec, "image_id", MISSING_FIELD if raw_img is None else WRONG_TYPE)
            continue
        sid = id_map.get(raw_img)
        if sid is None:
            if raw_img not in skipped:  # unlabelled frames carry no ground truth
                b.reject(file, rec, "image_id", REJECTED_IMAGE if raw_img in rejected else UNKNOWN_IMAGE)
            continue
        if positional_ids:
            n = per_image.get(sid, 0)
            per_image[sid] = n + 1
            aid = f"{sid}#{n}"
            rec = f"{rec} ({aid})"
        kp, bbox = ann.get("keypoints"), ann.get("bbox")
        if not check_list(b, file, rec, "keypoints", kp, k3, WRONG_KP_COUNT):
            continue
        if not check_list(b, file, rec, "bbox", bbox, 4, WRONG_TYPE):
            continue
        crowd = ann.get("iscrowd", 0)
        if crowd not in (0, 1) or (type(crowd) is not int and type(crowd) is not bool):
            b.reject(file, rec, "iscrowd", WRONG_TYPE)
            continue
        area = math.nan
        if use_area and "area" in ann:
            area = ann["area"]
            if not is_num(area):
                b.reject(file, rec, "area", WRONG_TYPE)
                continue
            if not math.isfinite(area):
                b.reject(file, rec, "area", NON_FINITE)
                continue
        head = ann.get(head_field) if head_field else None
        if head is not None and not check_list(b, file, rec, head_field, head, 4, WRONG_TYPE):
            continue
        track = ann.get(track_field) if track_field else None
        if track is not None and type(track) is not int:
            b.reject(file, rec, track_field, WRONG_TYPE)
            continue
        if not b.new_ann_id(file, rec, aid):
            continue
        batch.add(rec, aid, sid, bbox, kp, bool(crowd), track, head, float(area))
    b.add_rows(batch, vis_map)
