"""Publish a SmallPose store as a Hugging Face Hub dataset.

The upload is laid out the way ``datasets`` users expect, so ``load_dataset("ORG/NAME")``
works without custom code::

    README.md                                  dataset card (YAML front matter + body)
    LICENSE.md                                 the terms of every source in the store
    data/instances/train-00000-of-00002.parquet
    data/instances/test-00000-of-00001.parquet
    data/images/train-00000-of-00001.parquet
    images/<source>/<file_name>                only with images=True

Two configs: ``instances`` (the default, one row per person) and ``images``. Shards are
plain Parquet with explicit ``datasets`` Features embedded in their schema metadata, each
at most ``max_shard_bytes`` on disk. The folder is first written locally (a dry run stops
there), then uploaded in one call, so what a dry run shows is exactly what is pushed.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from smallpose.atomic import replace_dir
from smallpose.errors import InputError, SmallPoseError
from smallpose.progress import Progress
from smallpose.skeleton import NUM_KEYPOINTS
from smallpose.store import Store

DEFAULT_MAX_SHARD_BYTES = 500 * 10**6  # what datasets' push_to_hub uses ("500MB")
ROW_GROUP_ROWS = 10_000  # small row groups keep the Hub's dataset viewer fast
CONFIGS = ("instances", "images")
SPLIT_ORDER = ("train", "validation", "test")


def features(config: str) -> Any:
    """Explicit ``datasets.Features`` of a config, written out by hand (not derived from the
    Arrow schema) so the card states the contract and a schema drift fails loudly."""
    from datasets import Features, List, Value

    f64, i32, i64, s = Value("float64"), Value("int32"), Value("int64"), Value("string")
    box = List(Value("float64"), length=4)
    if config == "instances":
        return Features(
            {
                "instance_id": i64, "image_id": i64, "source": s, "source_ann_id": s, "split": s,
                "bbox": box, "bbox_area": f64, "area": f64, "source_area": f64,
                "iscrowd": Value("bool"),
                "keypoints": List(List(Value("float64"), length=3), length=NUM_KEYPOINTS),
                "num_keypoints": i32, "source_num_keypoints": i32, "size_bucket": s, "kd": f64,
                "kd_class": s, "head_box": box, "track_id": i64,
            }
        )  # fmt: skip
    if config == "images":
        return Features(
            {
                "image_id": i64, "source": s, "source_image_id": s, "split": s, "file_name": s,
                "width": i32, "height": i32, "crowd_index": f64, "num_instances": i32,
                "video_id": s, "frame_index": i32,
            }
        )  # fmt: skip
    raise ValueError(f"unknown config {config!r}")


def ordered_splits(names: list[str]) -> list[str]:
    """train, validation, test first (the order the Hub shows), then others alphabetically."""
    known = [s for s in SPLIT_ORDER if s in names]
    return known + sorted(set(names) - set(known))


def _parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {}
    try:  # content-defined pages: a rebuilt store re-uploads only changed chunks (Xet dedup)
        pq.ParquetWriter(io.BytesIO(), table.schema, use_content_defined_chunking=True).close()
        kwargs["use_content_defined_chunking"] = True
    except TypeError:
        pass
    pq.write_table(
        table,
        buf,
        compression="zstd",
        compression_level=3,
        row_group_size=ROW_GROUP_ROWS,
        write_statistics=True,
        write_page_index=True,
        **kwargs,
    )
    return buf.getvalue()


def write_shards(table: pa.Table, folder: Path, split: str, max_bytes: int) -> list[Path]:
    """Write ``table`` as ``{split}-0000i-of-0000n.parquet`` files, each at most ``max_bytes``.

    Parquet sizes cannot be known before writing, so: guess the shard count from the Arrow
    size, serialise each even row slice in memory, and when one comes out too big, raise
    the count and start over. A bound below one row's file size is an error, not a loop.
    """
    if max_bytes <= 0:
        raise SmallPoseError(f"shard size bound must be positive, got {max_bytes} bytes")
    n_rows = table.num_rows
    n = max(1, min(max(n_rows, 1), math.ceil(table.nbytes / max_bytes)))
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        written: list[Path] = []
        too_big = 0
        for i in range(n):
            lo, hi = (i * n_rows) // n, ((i + 1) * n_rows) // n
            data = _parquet_bytes(table.slice(lo, hi - lo))
            if len(data) > max_bytes:
                too_big = len(data)
                break
            path = folder / f"{split}-{i:05d}-of-{n:05d}.parquet"
            path.write_bytes(data)
            written.append(path)
        if not too_big:
            return written
        for p in written:
            p.unlink()
        if n >= max(n_rows, 1):
            raise SmallPoseError(
                f"shard size bound {max_bytes} bytes is smaller than a one-row Parquet file "
                f"({too_big} bytes); raise --max-shard-mb"
            )
        n = min(n_rows, max(n + 1, math.ceil(n * too_big / max_bytes)))


def _hub_table(table: pa.Table, config: str) -> pa.Table:
    """The store table cast to the config's Features, with them in the schema metadata
    (what datasets itself writes), so pandas/DuckDB readers and datasets agree."""
    feats = features(config)
    schema = feats.arrow_schema
    if table.column_names != schema.names:
        raise SmallPoseError(
            f"{config}: store columns {table.column_names} differ from the Hub features {schema.names}"
        )
    return table.cast(schema)


@dataclass
class Staged:
    """What was written: files (relative paths) and per-config, per-split shard lists."""

    folder: Path
    shards: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    images_copied: int = 0
    total_bytes: int = 0

    @property
    def files(self) -> list[str]:
        return [p.relative_to(self.folder).as_posix() for p in upload_files(self.folder)]


def upload_files(folder: Path) -> list[Path]:
    """Files that go up: everything but the upload client's own ``.cache`` resume state."""
    files = (p for p in folder.rglob("*") if p.is_file())
    return sorted(p for p in files if ".cache" not in p.relative_to(folder).parts)


def source_roots(manifest: dict[str, Any]) -> dict[str, list[Path]]:
    """Candidate image roots per source from the manifest's ``sources`` (a list of dicts with
    kind/name/source and root, as ``smallpose build`` writes, or a dict keyed by source). A
    source given twice (COCO train and val files) may have two roots: each is tried in turn."""
    sources = manifest.get("sources") or []
    items: list[tuple[str, Any]] = []
    if isinstance(sources, dict):
        items = [(str(k), v) for k, v in sources.items()]
    elif isinstance(sources, list):
        for s in sources:
            if isinstance(s, dict):
                name = s.get("source") or s.get("name") or s.get("kind")
                items.append((str(name), s))
    roots: dict[str, list[Path]] = {}
    for name, s in items:
        if isinstance(s, dict) and s.get("root") and Path(s["root"]) not in roots.get(name, []):
            roots.setdefault(name, []).append(Path(s["root"]))
    return roots


def _safe_rel(file_name: str, where: str, record: object) -> PurePosixPath:
    rel = PurePosixPath(file_name.replace("\\", "/"))
    if not file_name or rel.is_absolute() or ".." in rel.parts:
        raise InputError(where, record, "file_name", f"{file_name!r} is not a path inside the source root")
    return rel


def copy_images(store: Store, folder: Path, roots: dict[str, list[Path]], link: bool = False) -> int:
    """Copy (or hard-link) every image of the store to ``folder/images/<source>/<file_name>``.
    A missing file is an error naming it: a published dataset with holes is worse than none."""
    images = store.images.select(["image_id", "source", "file_name"]).to_pylist()
    where = str(store.path / "images.parquet")
    prog = Progress("copying images", total=len(images))
    for row in images:
        rel = _safe_rel(row["file_name"] or "", where, row["image_id"])
        candidates = roots.get(row["source"])
        if not candidates:
            raise InputError(
                where, row["image_id"], "source",
                f"no image root for source {row['source']!r}: pass --image-root {row['source']}=DIR",
            )  # fmt: skip
        src = next((r / rel for r in candidates if (r / rel).is_file()), candidates[0] / rel)
        if not src.is_file():
            tried = ", ".join(str(r) for r in candidates)
            raise InputError(
                where, row["image_id"], "file_name",
                f"image file {rel} not found under {tried} (add --image-root {row['source']}=DIR)",
            )  # fmt: skip
        dst = folder / "images" / row["source"] / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists():
            dst.unlink()
        try:
            if not link:
                raise OSError
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        prog.update()
    return len(images)


def stage(
    store: Store,
    folder: str | os.PathLike,
    repo_id: str,
    with_images: bool = False,
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
    image_roots: dict[str, list[Path]] | None = None,
    link_images: bool = False,
) -> Staged:
    """Write the whole Hub folder (card, licence, shards, images) into an empty ``folder``."""
    from smallpose.hub_card import card_text, license_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged = Staged(folder)
    tables = {"instances": store.instances, "images": store.images}
    for config in CONFIGS:
        table = _hub_table(tables[config], config)
        names = set(store.images.column("split").to_pylist()) | set(
            store.instances.column("split").to_pylist()
        )
        splits = ordered_splits(sorted(names))
        staged.shards[config] = {}
        for split in splits:
            part = table.filter(pa.compute.equal(table["split"], split))
            paths = write_shards(part, folder / "data" / config, split, max_shard_bytes)
            staged.shards[config][split] = [p.relative_to(folder).as_posix() for p in paths]
    if with_images:
        roots = source_roots(store.manifest)
        for name, extra in (image_roots or {}).items():  # --image-root is tried first
            roots[name] = [*map(Path, extra), *roots.get(name, [])]
        staged.images_copied = copy_images(store, folder, roots, link=link_images)
    sizes = {
        rel: (folder / rel).stat().st_size
        for shards in staged.shards.values()
        for s in shards.values()
        for rel in s
    }
    (folder / "LICENSE.md").write_text(license_text(store))
    (folder / "README.md").write_text(card_text(store, repo_id, staged.shards, sizes, with_images))
    staged.total_bytes = sum(p.stat().st_size for p in upload_files(folder))
    return staged


_OUTPUT_NAMES = {"README.md", "LICENSE.md", "data", "images", ".cache"}


def stage_dry_run(store: Store, out: str | os.PathLike, repo_id: str, **kwargs: Any) -> Staged:
    """Write the folder to ``out`` atomically (aside, then renamed). ``out`` may be absent,
    empty, or an earlier dry run; anything else is refused rather than deleted."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise SmallPoseError(f"{out}: exists and is not a directory")
        extra = {p.name for p in out.iterdir()} - _OUTPUT_NAMES
        if extra:
            raise SmallPoseError(
                f"{out}: not empty and not an earlier dry run (has {', '.join(sorted(extra))}); "
                "choose another --dry-run directory"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        staged = stage(store, tmp, repo_id, **kwargs)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    staged.folder = out
    return staged


_ABS_PATH = re.compile(r"(^|[=\s,;])((?:/|~/|[A-Za-z]:[\\/])[^\s,;]+)")


def manifest_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without local paths, which the card may show publicly: source roots are
    dropped, and every absolute path (also inside strings such as ``coco=/data/x.json``)
    becomes relative to its source root, or else just its file name."""
    roots = sorted({str(r).rstrip("/") for rs in source_roots(manifest).values() for r in rs}, key=len)[::-1]

    def local(m: re.Match) -> str:
        path = m.group(2)
        for root in roots:
            if path.startswith(root + "/"):
                return m.group(1) + path[len(root) + 1 :]
        return m.group(1) + PurePosixPath(path.replace("\\", "/")).name

    def clean(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: clean(v) for k, v in sorted(obj.items()) if k != "root"}
        if isinstance(obj, list):
            return [clean(v) for v in obj]
        if isinstance(obj, str):
            return _ABS_PATH.sub(local, obj)
        return obj

    return clean(manifest)


def dumps_sorted(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str)
