"""CrowdPose (``crowdpose_{train,val,test,trainval}.json``): COCO-like with K=14.

The 12 COCO limb joints, then head (top) and neck. Images carry the dataset's published
``crowdIndex``, kept as ``source_crowd_index`` to check our CrowdIndex against. CrowdPose has
no ``area`` field (its OKS scale is derived from the box), so ``source_area`` stays NaN.
"""

from __future__ import annotations

import math
from pathlib import Path

from smallpose.records import SourceTable

from ._cocolike import read_coco_like
from ._jsonio import UNPARSED, is_num, load_json, split_from_name
from ._roots import Place, probe
from ._validate import NON_FINITE, WRONG_TYPE, TableBuilder, convert_files

KIND = "crowdpose"


def _image_hook(img: dict, file: str, rec: str, b: TableBuilder) -> dict | None:
    ci = img.get("crowdIndex")
    if ci is None:
        return {}
    if not is_num(ci):
        b.reject(file, rec, "crowdIndex", WRONG_TYPE)
        return None
    if not math.isfinite(ci):
        b.reject(file, rec, "crowdIndex", NON_FINITE)
        return None
    return {"crowd_index": float(ci)}


def _read(b: TableBuilder, f: Path, split: str | None) -> None:
    data = load_json(f, b.rejects)
    if data is not UNPARSED:
        split = split or split_from_name(f.stem) or "train"
        read_coco_like(b, f, data, split, image_hook=_image_hook)


def locate(f: Path, names: list[str]) -> tuple[Place, bool]:
    """Images beside the json, else CrowdPose's layout ``<root>/json/*.json`` -> ``<root>/images/``
    (mmpose: ``<root>/annotations/``), else ``images/`` beside the json. Without images:
    ``<root>/images/`` for a json in ``json/`` or ``annotations/``, else beside the json."""
    d = f.parent
    official = Place(d.parent, "images")
    fallback = official if d.name in ("json", "annotations") else Place(d)
    return probe(names, [Place(d), official, Place(d, "images")], fallback)


def convert(path: Path, *, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert a CrowdPose json, or every ``*.json`` in a folder (not recursive)."""
    return convert_files(KIND, path, split, strict, _read, locate=locate)
