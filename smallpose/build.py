"""Build a SmallPose store from native source annotations.

Converters parse each source into a columnar :class:`SourceTable`; everything after that
is numpy over all sources at once: cross-source checks, derived columns (smallpose.derive),
stable ids (smallpose.ids), splits (smallpose.splits), curation (smallpose.selection), then
one atomic :func:`smallpose.store.write_store`. Rows are sorted by image_id, then
instance_id, so the bytes depend on the inputs and flags only, not on the order of
``--source`` arguments. See docs/store.md.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smallpose import __version__
from smallpose.derive import (
    BUCKETS,
    KD_CLASSES,
    crowd_index,
    density_index,
    gather_keypoints,
    keypoint_density,
    size_bucket_index,
)
from smallpose.errors import RejectLog, SmallPoseError
from smallpose.ids import check_unique, key_array, stable_ids_utf8, utf8_keys
from smallpose.progress import Progress
from smallpose.records import SourceTable
from smallpose.selection import Selection, apply_selection
from smallpose.skeleton import NUM_KEYPOINTS, SOURCES
from smallpose.splits import SOURCE_SPLITS, SPLITS, SplitConfig, assign_splits
from smallpose.store import MANIFEST, sha256_file, write_store

Converter = Callable[..., SourceTable]


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
            entries = pool.submit(lambda: [_source_entry(s, t) for s, t in zip(config.sources, tables)])
            images, image_id, instances, info = _combine(config.sources, tables, log)
            prog.update(1, "deriving")
            cols, counts = _derive_and_select(config, images, image_id, instances)
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


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector from combining to writing: those phases allocate in
    bursts (key bytes, Arrow and pandas wrappers) that would make it rescan every live
    object, and they form no cycles worth collecting. Restored even on error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


def _source_entry(spec: SourceSpec, table: SourceTable) -> dict[str, Any]:
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


# ---------------------------------------------------------------- combine + input checks

_BOX = ["bbox_x", "bbox_y", "bbox_w", "bbox_h"]
_HEAD = ["head_x", "head_y", "head_w", "head_h"]


def _combine(specs: list[SourceSpec], tables: list[SourceTable], log: RejectLog):
    """Concatenate all sources and drop (rejecting) what cannot go in a store together.

    Images (tens of thousands) stay a DataFrame. Instances (up to millions) become a dict
    of numpy and Arrow columns: pandas string columns cost a Python object per row on every
    conversion, and the row-by-row natural keys cost more than the rest of the build.
    Duplicates are equal natural keys; as the ids hash the keys, only rows with a repeated
    id are compared.
    """
    path_of = [str(s.path) for s in specs]
    info: dict[str, int] = {}
    n_ins = [len(t.instances) for t in tables]
    images = pd.concat(
        [t.images.assign(source=s.kind, _input=n) for n, (s, t) in enumerate(zip(specs, tables))],
        ignore_index=True,
    )
    img_input = images["_input"].to_numpy(np.int64)
    img_sid = _strings([t.images["source_image_id"] for t in tables])
    img_src = _SOURCE_NAMES.take(pa.array(_source_codes(specs)[img_input]))

    # 1. one image per (source, source_image_id), across every input of the build
    img_key = utf8_keys(key_array(img_src, img_sid))
    img_ids = stable_ids_utf8(img_key)
    dup, first, img_repeats = _duplicates(img_ids, img_key)
    for k in np.flatnonzero(dup):
        n, f = int(img_input[k]), int(img_input[first[k]])
        where = "earlier in this file" if n == f else f"already read from {path_of[f]}"
        log.reject(
            path_of[n], images["source_image_id"].iat[k], "source_image_id", f"duplicate image ({where})"
        )
    if dup.any():
        img_sid, img_key, img_ids = img_sid.filter(pa.array(~dup)), img_key[~dup], img_ids[~dup]
        images, img_input = images[~dup].reset_index(drop=True), img_input[~dup]

    # 2. every instance belongs to a kept image of its own input (kept ids are unique per input)
    ins = _instance_columns(specs, tables)
    sid = _strings([t.instances["source_image_id"] for t in tables]).fill_null(_NA)
    link = np.full(len(sid), -1, dtype=np.int64)
    img_start = np.searchsorted(img_input, np.arange(len(tables) + 1))
    ins_start = np.concatenate([[0], np.cumsum(n_ins)]).astype(np.int64)
    for n in range(len(tables)):
        lo, hi, first_img = ins_start[n], ins_start[n + 1], img_start[n]
        values = img_sid.slice(first_img, img_start[n + 1] - first_img).fill_null(_NA)
        pos = pc.index_in(sid.slice(lo, hi - lo), value_set=values).fill_null(-1).to_numpy()
        link[lo:hi] = np.where(pos >= 0, pos + first_img, -1)
    # 3. the store's row order, fixed now so the big keypoint array is written once, in place:
    # images by image_id, instances by (image_id, instance_id); rejected rows go anywhere
    ins["key"] = utf8_keys(key_array(_SOURCE_NAMES.take(pa.array(ins["src"])), sid, ins["ann"]))
    ins["id"] = stable_ids_utf8(ins["key"])
    img_order = np.argsort(img_ids, kind="stable")
    perm = np.lexsort((ins["id"], np.where(link >= 0, img_ids[np.maximum(link, 0)], -1)))
    dest = np.empty_like(perm)
    dest[perm] = np.arange(len(perm))
    keypoints, bad_v, bad_xy, ins["num_keypoints"] = gather_keypoints([t.keypoints for t in tables], dest)

    # 4. instance records that cannot be measured (found, and rejected, in input order)
    box = ins["box"]
    bad_box = ~np.isfinite(box).all(axis=1) | (box[:, 2] <= 0) | (box[:, 3] <= 0)
    bad_dup, _, ins_repeats = _duplicates(ins["id"], ins["key"])
    checks = (
        (link < 0, "source_image_id", "instance of an unknown or rejected image"),
        (bad_box, "bbox", "bbox is not finite with w > 0 and h > 0"),
        (bad_v, "keypoints", "visibility not in {0, 1, 2}"),
        (bad_xy, "keypoints", "keypoint coordinates are not finite"),
        (bad_dup, "source_ann_id", "duplicate annotation id in this image"),
    )
    drop = np.zeros(len(link), dtype=bool)
    for mask, fld, reason in checks:
        for k in np.flatnonzero(mask & ~drop):
            ann = ins["ann"][int(k)].as_py()  # a missing id reads as pandas wrote it
            log.reject(path_of[int(ins["input"][k])], _NA if ann is None else ann, fld, reason)
        drop |= mask
    info["instances_rejected_by_build"] = int(drop.sum())
    if img_repeats:  # (no id repeats at all: nothing can collide)
        check_unique(img_ids, img_key, "image")
    if ins_repeats:
        check_unique(ins["id"][~drop], ins["key"][~drop], "instance")

    # 5. kept rows in store order; "rank" is an instance's position in the inputs
    kept = ~drop[perm]
    rows = perm[kept]
    del ins["key"], ins["input"]
    ins = {k: c.take(pa.array(rows)) if isinstance(c, pa.Array) else c[rows] for k, c in ins.items()}
    ins["keypoints"] = keypoints if kept.all() else keypoints[kept]
    ins["rank"] = rows
    img_pos = np.empty_like(img_order)
    img_pos[img_order] = np.arange(len(img_order))
    ins["image"] = img_pos[link[rows]]
    return images.iloc[img_order].reset_index(drop=True), img_ids[img_order], ins, info


def _instance_columns(specs: list[SourceSpec], tables: list[SourceTable]) -> dict[str, Any]:
    """Every input's instance columns, concatenated, as numpy arrays (strings as Arrow)."""

    def cat(get) -> np.ndarray:
        return np.concatenate([get(t.instances) for t in tables])

    n_ins = [len(t.instances) for t in tables]
    inputs = np.repeat(np.arange(len(tables)), n_ins)
    return {
        "input": inputs,
        "src": _source_codes(specs)[inputs],
        "K": np.array([int(t.K) for t in tables], dtype=np.int64)[inputs],
        "ann": _strings([t.instances["source_ann_id"] for t in tables]),
        "box": cat(lambda d: d[_BOX].to_numpy(np.float64).reshape(-1, 4)),
        "head": cat(lambda d: d[_HEAD].to_numpy(np.float64).reshape(-1, 4)),
        "source_area": cat(lambda d: d["source_area"].to_numpy(np.float64)),
        "iscrowd": cat(lambda d: d["iscrowd"].to_numpy(bool)),
        "track": cat(lambda d: d["track_id"].astype("Int64").to_numpy(np.int64, na_value=0)),
        "track_null": cat(lambda d: d["track_id"].isna().to_numpy()),
    }


_NA = "<NA>"  # a missing id inside a natural key, as smallpose.ids reads it
_SOURCE_NAMES = pa.array(SOURCES, pa.large_string())


def _source_codes(specs: list[SourceSpec]) -> np.ndarray:
    return np.array([SOURCES.index(s.kind) for s in specs], dtype=np.int64)


def _strings(columns: list[pd.Series]) -> pa.Array:
    """pandas string columns as one Arrow large_string array, taken as stored (Arrow-backed)."""
    chunks: list[pa.Array] = []
    for c in columns:
        a = pa.array(c.array) if len(c) else pa.array([], pa.large_string())
        chunks += a.chunks if isinstance(a, pa.ChunkedArray) else [a]
    chunks = [a.cast(pa.large_string()) for a in chunks]
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.large_string())


def _duplicates(ids: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(is a repeat of an earlier row's key, that earlier row) per row, and whether any id
    repeats at all.

    Equal keys hash to equal ids, so only rows whose id repeats (normally none) are
    compared key by key; a repeated id with different keys is left to check_unique.
    """
    dup, first = np.zeros(len(ids), dtype=bool), np.arange(len(ids))
    seen: dict[bytes, int] = {}
    repeats = np.flatnonzero(pd.Series(ids).duplicated(keep=False).to_numpy())
    for k in repeats:
        first[k] = seen.setdefault(keys[k], k)
        dup[k] = first[k] != k
    return dup, first, len(repeats) > 0


# ---------------------------------------------------------------- derive, split, select, tables


def _derive_and_select(config, images, image_id, ins):
    """Derived columns, splits and selection over rows already in store order."""
    box, kp, inst_image, n_kp = ins["box"], ins["keypoints"], ins["image"], ins["num_keypoints"]
    area = box[:, 2] * box[:, 3]
    bucket = size_bucket_index(area)
    kd = keypoint_density(area, ins["K"], n_kp)
    kd_cls = density_index(kd, bucket)
    ci = crowd_index(inst_image, len(images), box, kp, rank=ins["rank"])
    split, split_info = assign_splits(images, config.split)
    is_test = (split == "test").astype(np.int64)
    img_keep, inst_keep, dropped = apply_selection(config.selection, images, inst_image, n_kp, bucket)

    # selection only removes rows: what is left stays in store order
    img_rows = np.flatnonzero(img_keep)
    new_pos = np.full(len(images), -1)
    new_pos[img_rows] = np.arange(len(img_rows))
    if not inst_keep.all():
        ins = {
            k: c.filter(pa.array(inst_keep)) if isinstance(c, pa.Array) else c[inst_keep]
            for k, c in ins.items()
        }
        box, kp, inst_image, n_kp = ins["box"], ins["keypoints"], ins["image"], ins["num_keypoints"]
        area, bucket, kd, kd_cls = area[inst_keep], bucket[inst_keep], kd[inst_keep], kd_cls[inst_keep]
    num_instances = np.bincount(new_pos[inst_image], minlength=len(img_rows))
    im = images.iloc[img_rows]
    head = ins["head"]
    images_t = pa.table(
        {
            "image_id": pa.array(image_id[img_rows], pa.int64()),
            "source": _str(im["source"]),
            "source_image_id": _str(im["source_image_id"]),
            "split": _names(SPLITS, is_test[img_rows]),
            "file_name": _str(im["file_name"]),
            "width": pa.array(im["width"].to_numpy(np.int64), pa.int32()),
            "height": pa.array(im["height"].to_numpy(np.int64), pa.int32()),
            "crowd_index": pa.array(ci[img_rows], pa.float64(), from_pandas=True),
            "num_instances": pa.array(num_instances, pa.int32()),
            "video_id": _str(im["video_id"]),
            "frame_index": pa.array(im["frame_index"].astype("Int64"), pa.int64()).cast(pa.int32()),
        }
    )
    instances_t = pa.table(
        {
            "instance_id": pa.array(ins["id"], pa.int64()),
            "image_id": pa.array(image_id[inst_image], pa.int64()),
            "source": _names(SOURCES, ins["src"]),
            "source_ann_id": ins["ann"].cast(pa.string()),
            "split": _names(SPLITS, is_test[inst_image]),
            "bbox": _fixed(box, 4),
            "bbox_area": pa.array(area, pa.float64()),
            "area": pa.array(area, pa.float64()),
            "source_area": pa.array(ins["source_area"], pa.float64(), from_pandas=True),
            "iscrowd": pa.array(ins["iscrowd"], pa.bool_()),
            "keypoints": _fixed(kp.reshape(-1, 3), 3, NUM_KEYPOINTS),
            "num_keypoints": pa.array(n_kp, pa.int32()),
            "source_num_keypoints": pa.array(ins["K"], pa.int32()),
            "size_bucket": _names(BUCKETS, bucket),
            "kd": pa.array(kd, pa.float64(), from_pandas=True),
            "kd_class": _names(KD_CLASSES, kd_cls, null=kd_cls < 0),
            "head_box": _fixed(head, 4, null_rows=~np.isfinite(head).all(axis=1)),
            "track_id": pa.array(ins["track"], pa.int64(), mask=ins["track_null"]),
        }
    )
    counts = summarize(images_t, instances_t)
    counts["selection_dropped"] = dropped
    counts["split_info"] = split_info
    return {"images": images_t, "instances": instances_t}, counts


def summarize(images: pa.Table, instances: pa.Table) -> dict[str, Any]:
    """Counts for the manifest: per split, source, bucket and KD class (Arrow group-bys)."""
    out: dict[str, Any] = {"images": images.num_rows, "instances": instances.num_rows}
    out["images_per_split"] = _count(images, "split")
    out["instances_per_split"] = _count(instances, "split")
    im_src, ins_src = _count(images, "source", "split"), _count(instances, "source", "split")
    out["per_source"] = {
        src: {"images": im_src.get(src, {}), "instances": ins_src.get(src, {})} for src in sorted(im_src)
    }
    by_bucket = _count(instances, "split", "size_bucket")
    out["instances_per_bucket"] = {
        sp: {b: v.get(b, 0) for b in ("S", "M", "L")} for sp, v in by_bucket.items()
    }
    by_kd = _count(instances, "split", "kd_class")
    out["small_per_kd_class"] = {
        sp: {c: by_kd.get(sp, {}).get(c, 0) for c in ("sparse", "moderate", "dense")} for sp in by_bucket
    }
    return out


def _count(table: pa.Table, *keys: str) -> dict:
    """Row counts by one or two key columns, as (nested) sorted dicts; null keys left out."""
    rows = table.group_by(list(keys)).aggregate([([], "count_all")]).to_pylist()
    out: dict = {}
    for r in sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys)):
        if any(r[k] is None for k in keys):
            continue
        d = out
        for k in keys[:-1]:
            d = d.setdefault(r[k], {})
        d[r[keys[-1]]] = int(r["count_all"])
    return out


def _str(s: pd.Series) -> pa.Array:
    return _strings([s]).cast(pa.string())


def _names(names: tuple[str, ...], codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """A string column from small integer codes (a category per row, no Python per row)."""
    return pa.array(names, pa.string()).take(pa.array(codes, pa.int64(), mask=null))


def _fixed(values: np.ndarray, size: int, outer: int | None = None, null_rows: np.ndarray | None = None):
    """Fixed-size-list Arrow column from a float array, without a Python loop.

    Callers pass finite values (the build rejected the rest) except in ``null_rows``.
    """
    if null_rows is not None and null_rows.any():
        vals = pa.array(np.where(null_rows[:, None], 0.0, values).ravel(), pa.float64())
        return pa.FixedSizeListArray.from_arrays(vals, size, mask=pa.array(null_rows))
    inner = pa.FixedSizeListArray.from_arrays(
        pa.array(np.ascontiguousarray(values).ravel(), pa.float64()), size
    )
    return pa.FixedSizeListArray.from_arrays(inner, outer) if outer is not None else inner


# ---------------------------------------------------------------- one build at a time per --out


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` (flock: released by the kernel even on SIGKILL) while building.

    Holding it means no other build writes this store, so any ``.<name>.building-*`` left
    beside it is from a dead build and is removed, and a ``.<name>.old-*`` (a previous store
    renamed away just before a crash) is put back if the store itself is missing.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.parent / f".{out.name}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (
            ImportError
        ):  # pragma: no cover - no flock (Windows): skip cleaning, mkdtemp keeps builds apart
            yield
            return
        except OSError:
            raise SmallPoseError(f"{out}: another build into this store is running (lock {lock})") from None
        _clean_stale(out)
        yield
    finally:
        os.close(fd)


def _clean_stale(out: Path) -> None:
    for p in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists() and (p / MANIFEST).is_file():
            os.rename(p, out)
            print(f"smallpose build: restored {out} from an interrupted swap ({p.name})", file=sys.stderr)
        else:
            shutil.rmtree(p, ignore_errors=True)
    for p in out.parent.glob(f".{out.name}.building-*"):
        shutil.rmtree(p, ignore_errors=True)
