"""Build a SmallPose store from native source annotations.

Converters parse each source into a columnar :class:`SourceTable`; everything after that
is numpy over all sources at once: cross-source checks, derived columns (smallpose.derive),
stable ids (smallpose.ids), splits (smallpose.splits), curation (smallpose.selection), then
one atomic :func:`smallpose.store.write_store`. Rows are sorted by image_id, then
instance_id, so the bytes depend on the inputs and flags only, not on the order of
``--source`` arguments. See docs/store.md.

The steps live in small modules: build_sources (``--source`` and the manifest's source
entries), build_combine (all sources into one set of rows, with the cross-source checks),
build_tables (derived columns, splits, selection, the Arrow tables and their counts) and
build_lock (one build per store, clean-up after a killed one). Their public names are
importable from here as before.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from smallpose import __version__
from smallpose.build_combine import combine
from smallpose.build_lock import build_lock
from smallpose.build_sources import SourceSpec, find_root, source_entry
from smallpose.build_tables import derive_and_select, summarize
from smallpose.errors import RejectLog, SmallPoseError
from smallpose.gcpause import gc_paused as _gc_paused
from smallpose.progress import Progress
from smallpose.records import SourceTable
from smallpose.selection import Selection
from smallpose.skeleton import SOURCES
from smallpose.splits import SplitConfig
from smallpose.store import MANIFEST, write_store

__all__ = [
    "BuildConfig",
    "BuildResult",
    "Converter",
    "SourceSpec",
    "build",
    "build_lock",
    "created_time",
    "default_convert",
    "find_root",
    "summarize",
]

Converter = Callable[..., SourceTable]


@dataclass
class BuildConfig:
    sources: list[SourceSpec]
    out: Path
    strict: bool = False
    split: SplitConfig = field(default_factory=SplitConfig)
    selection: Selection = field(default_factory=Selection)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [
                s.text or f"{s.kind}{':' + s.split if s.split else ''}={s.path}" for s in self.sources
            ],
            "strict": self.strict,
            "split": self.split.to_dict(),
            "selection": self.selection.to_dict(),
            "row_order": "images by image_id; instances by (image_id, instance_id)",
            "crowd_index": "over all converted instances of an image, before selection; box inclusive",
        }


@dataclass
class BuildResult:
    out: Path
    counts: dict[str, Any]
    reject_counts: Counter


def default_convert(kind: str, path: Path, split: str | None = None, strict: bool = False) -> SourceTable:
    try:
        from smallpose.converters import convert
    except ImportError as e:
        raise SmallPoseError(f"converters are not available in this installation ({e})") from None
    return convert(kind, path, split=split, strict=strict)


def build(config: BuildConfig, convert: Converter | None = None) -> BuildResult:
    """Read every source, derive, split, select and write the store atomically."""
    convert = convert or default_convert
    _check_sources(config)
    with build_lock(config.out):
        prog = Progress("build", total=len(config.sources) + 3)
        tables = []
        for spec in config.sources:
            prog.update(0, f"reading {spec.kind} {spec.path}")
            table = convert(spec.kind, spec.path, split=spec.split, strict=config.strict)
            if spec.split:
                table.images["source_split"] = pd.array([spec.split] * len(table.images), dtype="string")
            tables.append(table)
            prog.update(1, f"read {spec.kind}: {len(table.images)} images, {len(table.instances)} instances")
        log = RejectLog(strict=config.strict)
        # the inputs' checksums (file reads and sha256, both outside the GIL) run beside
        # combine and derive, which are numpy and Arrow
        with _gc_paused(), ThreadPoolExecutor(max_workers=1) as pool:
            entries = pool.submit(lambda: [source_entry(s, t) for s, t in zip(config.sources, tables)])
            images, image_id, instances, info = combine(config.sources, tables, log)
            prog.update(1, "deriving")
            cols, counts = derive_and_select(config, images, image_id, instances)
            del images, image_id, instances
            prog.update(1, "writing")
            rejects = [r.to_dict() for t in tables for r in t.rejects.items] + [
                r.to_dict() for r in log.items
            ]
            reject_counts = Counter(r["reason"] for r in rejects)
            counts.update(info)
            counts["rejects"] = dict(sorted(reject_counts.items()))
            manifest = {
                "build": config.to_dict(),
                "sources": entries.result(),
                "counts": counts,
                "created": created_time(),
                "tool": {"name": "smallpose", "version": __version__},
            }
            write_store(config.out, cols["images"], cols["instances"], manifest, rejects=rejects)
        prog.update(1, "done")
    return BuildResult(config.out, counts, reject_counts)


def created_time() -> str:
    """ISO UTC time; SOURCE_DATE_EPOCH (reproducible-builds.org) pins it for same-bytes builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            t = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc)
        except ValueError:
            raise SmallPoseError(f"SOURCE_DATE_EPOCH={epoch!r} is not an integer number of seconds") from None
    else:
        t = _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)
    return t.isoformat().replace("+00:00", "Z")


def _check_sources(config: BuildConfig) -> None:
    if not config.sources:
        raise SmallPoseError("no --source given (KIND[:SPLIT]=PATH, KIND in " + ", ".join(SOURCES) + ")")
    seen: dict[tuple[str, Path], str] = {}
    for s in config.sources:
        if not s.path.exists():
            raise SmallPoseError(f"{s.path}: no such file or directory (--source {s.text or s.kind})")
        key = (s.kind, s.path.resolve())
        if key in seen:
            raise SmallPoseError(
                f"--source {s.text!r}: the same {s.kind} input is given twice ({seen[key]!r})"
            )
        seen[key] = s.text
    out = config.out
    if out.exists() and not (out / MANIFEST).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise SmallPoseError(f"{out}: exists and is not a SmallPose store; refusing to replace it")
