"""Where a source's images are: one root per table, every ``file_name`` relative to it.

Annotations name images by their bare native name (``000000000785.jpg``), relative to a folder
that each dataset's layout puts somewhere else (COCO: ``<coco>/val2017/`` beside
``<coco>/annotations/``). A store reader opens ``root / file_name``, so per annotation file we
find that folder by probing the first few of its images in the source's candidate places, in
order (beside the file first, then the official layouts, then what ``smallpose synth`` writes).
When no candidate holds them (annotations shipped without images), the source's official layout
is assumed, so a build gives the same ``file_name`` whether or not the images are present.

A place is ``(base, prefix)``: ``base`` is the dataset folder, ``prefix`` the path from it to the
folder the native names are relative to. The table's root is the deepest folder holding every
file's ``base``; each ``file_name`` becomes ``<base relative to root>/<prefix>/<native name>``.
Only ``file_name`` changes: ids (``source_image_id``) stay the native ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: images probed per annotation file (a stat each): enough to tell layouts apart, cheap at any scale
PROBE = 3
#: how many folders above an annotation file a layout may put its dataset root
LEVELS = 4


@dataclass(frozen=True)
class Place:
    """``base / prefix`` is the folder an annotation file's native image names are relative to."""

    base: Path
    prefix: str = ""

    @property
    def folder(self) -> Path:
        return self.base / self.prefix if self.prefix else self.base


#: locate(annotation file (absolute), its first few native names) -> (place, images found there)
Locate = Callable[[Path, list[str]], tuple[Place, bool]]


def probe(names: list[str], candidates: Iterable[Place], fallback: Place) -> tuple[Place, bool]:
    """The first candidate where each of the first ``PROBE`` names is a file; else ``fallback``."""
    names = names[:PROBE]
    if names:
        for place in candidates:
            folder = place.folder
            if all((folder / n).is_file() for n in names):
                return place, True
    return fallback, False


def ancestors(folder: Path, levels: int = LEVELS) -> list[Path]:
    """``folder`` and up to ``levels`` folders above it, nearest first."""
    return [folder, *list(folder.parents)[:levels]]


def above_annotations(folder: Path) -> Path | None:
    """The folder holding the nearest ``annotations/`` among ``folder`` and its ancestors."""
    for a in ancestors(folder):
        if a.name == "annotations":
            return a.parent
    return None


def apply_roots(file_names: list, spans: list[tuple[int, int, Place]]) -> Path | None:
    """Rewrite ``file_names[start:end]`` under one root for every span; returns that root.

    The root is the common folder of all bases, so every joined name stays inside it (no ``..``).
    """
    if not spans:
        return None
    root = Path(os.path.commonpath([str(p.base) for _, _, p in spans]))
    for start, end, place in spans:
        rel = PurePosixPath(Path(os.path.relpath(place.base, root)).as_posix())
        head = "/".join(p for p in (*rel.parts, *PurePosixPath(place.prefix).parts) if p not in (".", ""))
        if head:
            file_names[start:end] = [f"{head}/{n}" for n in file_names[start:end]]
    return root
