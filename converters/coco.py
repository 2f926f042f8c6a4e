"""COCO 2017 person keypoints (``person_keypoints_{train,val}2017.json``).

COCO is the reference layout: K=17, visibility already COCO's, ``area`` is the segmentation
area (kept as ``source_area`` so COCO's own protocol can be reproduced), crowd regions and
``num_keypoints == 0`` persons are kept because COCO's evaluation uses them as ignores.
"""

from __future__ import annotations

import re
from pathlib import Path

from smallpose.records import SourceTable

from ._cocolike import read_coco_like
from ._jsonio import UNPARSED, load_json, split_from_name
from ._roots import Place, probe
from ._validate import TableBuilder, convert_files

KIND = "coco"
_IMAGE_SET = re.compile(r"(?:^|_)((?:train|val|test)\d{4})$")


def locate(f: Path, names: list[str]) -> tuple[Place, bool]:
    """Images beside the json, else COCO's layout ``<root>/annotations/person_keypoints_<T>.json``
    -> ``<root>/<T>/`` (also what ``smallpose synth`` writes); without images, the latter where
    the json sits in ``annotations/`` and names its image set, else beside the json."""
    d = f.parent
    m = _IMAGE_SET.search(f.stem)
    official = Place(d.parent, m.group(1)) if m else None
    cands = [Place(d)] + ([official, Place(d, m.group(1))] if m else [])
    return probe(names, cands, official if official and d.name == "annotations" else Place(d))


def _read(b: TableBuilder, f: Path, split: str | None) -> None:
    data = load_json(f, b.rejects)
    if data is not UNPARSED:
        read_coco_like(b, f, data, split or split_from_name(f.stem) or "train")


def convert(path: Path, *, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert a COCO keypoints json, or the ``person_keypoints_*.json`` (else every ``*.json``)
    in a folder or its ``annotations/`` subfolder (not recursive)."""
    return convert_files(KIND, path, split, strict, _read, prefer="person_keypoints_*", locate=locate)
