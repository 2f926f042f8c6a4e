"""The build's inputs: ``--source KIND[:SPLIT]=PATH`` parsing and each source's manifest entry.

Everything here is about the input files themselves (what was asked for, their checksums,
where their images are), none of it about the rows: the array work is in build_combine
and build_tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smallpose.errors import SmallPoseError
from smallpose.records import SourceTable
from smallpose.skeleton import SOURCES
from smallpose.splits import SOURCE_SPLITS
from smallpose.store import sha256_file


@dataclass(frozen=True)
class SourceSpec:
    """One ``--source KIND[:SPLIT]=PATH``: the split, when given, overrides the source's own."""

    kind: str
    path: Path
    split: str | None = None
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        head, sep, path = text.partition("=")
        if not sep or not path or not head:
            raise SmallPoseError(
                f"--source {text!r}: expected KIND[:SPLIT]=PATH, e.g. coco:val=person_keypoints_val2017.json"
            )
        kind, _, split = head.partition(":")
        kind = kind.strip().lower()
        if kind not in SOURCES:
            raise SmallPoseError(f"--source {text!r}: unknown kind {kind!r} (known: {', '.join(SOURCES)})")
        if split and split not in SOURCE_SPLITS:
            raise SmallPoseError(
                f"--source {text!r}: split {split!r} is not one of {', '.join(SOURCE_SPLITS)}"
            )
        return cls(kind, Path(path), split or None, text)

    @property
    def root(self) -> Path:
        """The folder file_name is relative to: the given folder, or a file's folder."""
        return self.path if self.path.is_dir() else self.path.parent


def source_entry(spec: SourceSpec, table: SourceTable) -> dict[str, Any]:
    """One source's manifest entry: its files with checksums, and where its images are."""
    files = [Path(f) for f in table.files] or ([spec.path] if spec.path.is_file() else [])
    first = table.images["file_name"].dropna().head(5).tolist()
    if table.root is not None:  # the converter located the images (converters/_roots.py)
        root, found = Path(table.root), bool(first) and all((Path(table.root) / f).is_file() for f in first)
    else:
        root, found = find_root(spec.root, first)
    return {
        "kind": spec.kind,
        "path": str(spec.path),
        "root": str(root),
        "images_found_under_root": found,
        "split_override": spec.split,
        "K": int(table.K),
        "files": [{"path": str(f), "sha256": sha256_file(f), "size": f.stat().st_size} for f in files],
    }


def find_root(base: Path, file_names: list[str], levels: int = 4) -> tuple[Path, bool]:
    """The folder ``file_name`` is relative to: the nearest of ``base`` and its parents where
    the first images exist (PoseTrack's ``images/val/...`` sits beside ``annotations/``);
    ``base`` itself when no image is found (annotations shipped without images)."""
    if file_names:
        for cand in [base, *list(base.parents)[:levels]]:
            if all((cand / f).is_file() for f in file_names):
                return cand, True
    return base, False
