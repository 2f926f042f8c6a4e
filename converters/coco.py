"""COCO 2017 person keypoints (``person_keypoints_{train,val}2017.json``).

COCO is the reference layout: K=17, visibility already COCO's, ``area`` is the segmentation
area (kept as ``source_area`` so COCO's own protocol can be reproduced), crowd regions and
``num_keypoints == 0`` persons are kept because COCO's evaluation uses them as ignores.
"""

from __future__ import annotations

from pathlib import Path

from smallpose.records import SourceTable

from ._cocolike import read_coco_like
from ._jsonio import UNPARSED, load_json, split_from_name
from ._validate import TableBuilder, convert_files

KIND = "coco"


def _read(b: TableBuilder, f: Path, split: str | None) -> None:
    data = load_json(f, b.rejects)
    if data is not UNPARSED:
        read_coco_like(b, f, data, split or split_from_name(f.stem) or "train")


def convert(path: Path, *, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert a COCO keypoints json, or the ``person_keypoints_*.json`` (else every ``*.json``)
    in a folder or its ``annotations/`` subfolder (not recursive)."""
    return convert_files(KIND, path, split, strict, _read, prefer="person_keypoints_*")
