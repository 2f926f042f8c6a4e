"""AI Challenger (AIC) keypoints: the native list format, or mmpose's COCO-style conversion.

Native: a json list of ``{image_id, keypoint_annotations: {humanN: [x,y,v]*14},
human_annotations: {humanN: [x1,y1,x2,y2]}}``. Visibility 1 visible, 2 occluded, 3 not
labelled becomes COCO's 2, 1, 0; boxes become (x, y, w, h); persons are taken in the order
human1, human2, ... (numerically: human10 after human9), which is mmpose's order, so both
forms of the same images convert to identical rows (``<image_id>#<position>`` ids, the
sha1 stem as the image id). Neither form has a segmentation area; native has no image size.
"""

from __future__ import annotations

import re
from pathlib import Path

from smallpose.records import SourceTable

from ._cocolike import read_coco_like
from ._jsonio import UNPARSED, load_json, split_from_name
from ._roots import Place, probe
from ._validate import (
    MISSING_FIELD,
    WRONG_KP_COUNT,
    WRONG_TYPE,
    Batch,
    TableBuilder,
    check_list,
    convert_files,
)

KIND = "aic"
AIC_VIS = {1: 2, 2: 1, 3: 0}
_HUMAN = re.compile(r"^human(\d+)$")
_NATIVE_NAME = re.compile(r"^keypoint_(.+?)_annotations")  # keypoint_<split>_annotations_<date>
_MMPOSE_NAME = re.compile(r"^aic_(train|val)$")  # mmpose's annotations/aic_{train,val}.json
_MMPOSE_SPLIT = {"train": "train", "val": "validation"}


def locate(f: Path, names: list[str]) -> tuple[Place, bool]:
    """Images beside the json; else AIC's release layout, ``keypoint_<split>_images_<date>/`` beside
    ``keypoint_<split>_annotations_<date>.json`` (mmpose: ``<root>/annotations/aic_<split>.json`` ->
    ``<root>/ai_challenger_keypoint_<split>_*/keypoint_<split>_images_*/``); else ``<split>/``
    beside the json (what ``smallpose synth`` writes); else the folder above the json.

    Without images: an existing official images folder, else ``<split>/`` for a natively named
    file (the release's folder name carries a date the annotations do not state), else beside.
    """
    d = f.parent
    m, mm = _NATIVE_NAME.match(f.stem), _MMPOSE_NAME.match(f.stem)
    split = m.group(1) if m else _MMPOSE_SPLIT[mm.group(1)] if mm else None
    official: list[Place] = []
    if split:
        official = [Place(d, p.name) for p in sorted(d.glob(f"keypoint_{split}_images*")) if p.is_dir()]
        official += [
            Place(d.parent, p.relative_to(d.parent).as_posix())
            for p in sorted(d.parent.glob(f"ai_challenger_keypoint_{split}_*/keypoint_{split}_images*"))
            if p.is_dir()
        ]
    ours = [Place(d, split)] if split else []
    fallback = official[0] if official else ours[0] if m else Place(d)
    return probe(names, [Place(d), *official, *ours, Place(d.parent)], fallback)


def _persons(b: TableBuilder, file: str, rec: str, kpa: dict, boxes: dict) -> list[str] | None:
    """The person keys in numeric order; None (after a reject) if they are not humanN or unpaired."""
    keyed = []
    for key in kpa:
        m = _HUMAN.match(key) if type(key) is str else None
        if m is None:
            b.reject(file, rec, "keypoint_annotations", WRONG_TYPE)
            return None
        keyed.append((int(m.group(1)), key))
    for key in boxes:
        if key not in kpa:
            b.reject(file, f"{rec}/{key}", "keypoint_annotations", MISSING_FIELD)
            return None
    return [key for _, key in sorted(keyed)]


def read_native(b: TableBuilder, f: Path, data: list, split: str) -> None:
    file = str(f)
    batch = Batch(file, bbox_field="human_annotations", kp_field="keypoint_annotations")
    k3 = 3 * b.K
    for pos, entry in enumerate(data):
        rec = f"[{pos}]"
        if type(entry) is not dict:
            b.reject(file, rec, None, WRONG_TYPE)
            continue
        iid = entry.get("image_id")
        if type(iid) is not str or not iid:
            b.reject(file, rec, "image_id", MISSING_FIELD if iid is None else WRONG_TYPE)
            continue
        rec = iid
        kpa, boxes = entry.get("keypoint_annotations"), entry.get("human_annotations")
        bad = next((k for k, v in (("keypoint_annotations", kpa), ("human_annotations", boxes))
                    if type(v) is not dict), None)  # fmt: skip
        if bad is not None:
            b.reject(file, rec, bad, MISSING_FIELD if entry.get(bad) is None else WRONG_TYPE)
            continue
        persons = _persons(b, file, rec, kpa, boxes)
        if persons is None or not b.add_image(file, rec, iid, f"{iid}.jpg", 0, 0, split):
            continue
        for n, key in enumerate(persons):
            prec = f"{iid}/{key}"
            kp, box = kpa[key], boxes.get(key)
            if not check_list(b, file, prec, "keypoint_annotations", kp, k3, WRONG_KP_COUNT):
                continue
            if not check_list(b, file, prec, "human_annotations", box, 4, WRONG_TYPE):
                continue
            aid = f"{iid}#{n}"
            if b.new_ann_id(file, prec, aid):
                batch.add(prec, aid, iid, box, kp)
    b.add_rows(batch, AIC_VIS, xyxy=True)


def _read(b: TableBuilder, f: Path, split: str | None) -> None:
    data = load_json(f, b.rejects)
    if data is UNPARSED:
        return
    split = split or split_from_name(f.stem) or "train"
    if type(data) is list:
        read_native(b, f, data, split)
    else:  # mmpose's COCO-style file: ids are its enumeration, so name things as native does
        read_coco_like(b, f, data, split, use_area=False, positional_ids=True)


def convert(path: Path, *, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert an AIC json (native list or COCO-style dict), or every ``*.json`` in a folder."""
    return convert_files(KIND, path, split, strict, _read, locate=locate)
