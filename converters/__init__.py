"""Converters from each source's native annotation format to the unified SmallPose rows.

Each module exposes ``convert(path, *, split=None, strict=False) -> SourceTable``; this
package adds the registry the build uses and one checked entry point. What each converter
reads, and every choice it makes, is written down in docs/converters.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from smallpose.errors import SmallPoseError
from smallpose.records import SourceTable

from . import aic, coco, crowdpose, hieve, mpii, posetrack

Converter = Callable[..., SourceTable]

CONVERTERS: dict[str, Converter] = {
    "coco": coco.convert,
    "mpii": mpii.convert,
    "aic": aic.convert,
    "hieve": hieve.convert,
    "posetrack": posetrack.convert,
    "crowdpose": crowdpose.convert,
}


def convert(kind: str, path: str | Path, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert ``path`` (a file or a folder) of source ``kind``.

    ``split`` (train/val/test) overrides the split each converter reads from the source;
    ``strict`` raises :class:`~smallpose.errors.InputError` at the first bad record instead
    of skipping it into ``table.rejects``.
    """
    if kind not in CONVERTERS:
        raise SmallPoseError(f"unknown source {kind!r}: expected one of {', '.join(CONVERTERS)}")
    path = Path(path)
    if not path.exists():
        raise SmallPoseError(f"{path}: no such file or folder ({kind} annotations)")
    return CONVERTERS[kind](path, split=split, strict=strict)


__all__ = ["CONVERTERS", "convert", "aic", "coco", "crowdpose", "hieve", "mpii", "posetrack"]
