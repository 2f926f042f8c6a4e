"""The SmallPose store: a directory of Parquet tables plus ``manifest.json``.

Written aside and renamed into place, so an interrupted build never leaves a half store
where the previous one was. Tables are plain Parquet (pyarrow) that pandas, polars,
DuckDB and Hugging Face ``datasets`` read as they are; the schema below is the contract
the evaluator, the reports and the Hub export read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from smallpose.atomic import replace_dir
from smallpose.errors import SmallPoseError
from smallpose.skeleton import NUM_KEYPOINTS

SCHEMA_VERSION = "smallpose-store/1"
MANIFEST = "manifest.json"
REJECTS = "rejects.jsonl"

_F64 = pa.float64()
IMAGES_SCHEMA = pa.schema(
    [
        ("image_id", pa.int64()),
        ("source", pa.string()),
        ("source_image_id", pa.string()),
        ("split", pa.string()),
        ("file_name", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("crowd_index", _F64),  # null when no instance has annotated points
        ("num_instances", pa.int32()),
        ("video_id", pa.string()),  # null for still images
        ("frame_index", pa.int32()),  # null for still images
    ]
)
INSTANCES_SCHEMA = pa.schema(
    [
        ("instance_id", pa.int64()),
        ("image_id", pa.int64()),
        ("source", pa.string()),
        ("source_ann_id", pa.string()),
        ("split", pa.string()),
        ("bbox", pa.list_(_F64, 4)),  # x, y, w, h
        ("bbox_area", _F64),
        ("area", _F64),  # the OKS scale; = bbox_area
        ("source_area", _F64),  # the source's own area (COCO segmentation), null if none
        ("iscrowd", pa.bool_()),
        ("keypoints", pa.list_(pa.list_(_F64, 3), NUM_KEYPOINTS)),  # 21 x (x, y, v)
        ("num_keypoints", pa.int32()),
        ("source_num_keypoints", pa.int32()),  # K of the source skeleton
        ("size_bucket", pa.string()),  # S | M | L
        ("kd", _F64),  # null when num_keypoints == 0
        ("kd_class", pa.string()),  # sparse | moderate | dense for small instances, else null
        ("head_box", pa.list_(_F64, 4)),  # null where the source has no head box
        ("track_id", pa.int64()),  # null where the source has no tracks
    ]
)
TABLES = {"images": IMAGES_SCHEMA, "instances": INSTANCES_SCHEMA}


class StoreError(SmallPoseError):
    pass


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def keypoints_array(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The ``keypoints`` column as an (N, 21, 3) float64 array, without a Python loop."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    flat = column.flatten().flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float64).reshape(-1, NUM_KEYPOINTS, 3)


def boxes_array(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A 4-list column (bbox, head_box) as an (N, 4) float64 array, NaN rows where null."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    out = np.full((len(column), 4), np.nan)
    valid = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if valid.any():
        vals = column.filter(pa.array(valid)).flatten().to_numpy(zero_copy_only=False)
        out[valid] = np.asarray(vals, dtype=np.float64).reshape(-1, 4)
    return out


@dataclass
class Store:
    """A store opened for reading. Tables are Arrow tables; helpers give numpy views."""

    path: Path
    manifest: dict[str, Any]
    images: pa.Table
    instances: pa.Table
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def fingerprint(self) -> str:
        """Hash of the table bytes: two stores with the same fingerprint hold the same data."""
        return str(self.manifest.get("fingerprint", ""))

    def split(self, split: str | None) -> Store:
        """The same store restricted to one split (``None`` keeps everything)."""
        if split is None:
            return self
        known = set(self.images.column("split").to_pylist())
        if split not in known:
            raise StoreError(f"{self.path}: no split {split!r} (has: {', '.join(sorted(known)) or 'none'})")
        im = self.images.filter(pa.compute.equal(self.images["split"], split))
        ins = self.instances.filter(pa.compute.equal(self.instances["split"], split))
        return Store(self.path, self.manifest, im, ins)

    def images_df(self) -> pd.DataFrame:
        return self.images.to_pandas()

    def instances_df(self, with_keypoints: bool = False) -> pd.DataFrame:
        cols = [c for c in self.instances.column_names if with_keypoints or c != "keypoints"]
        return self.instances.select(cols).to_pandas()

    def keypoints(self) -> np.ndarray:
        return keypoints_array(self.instances["keypoints"])

    def bboxes(self) -> np.ndarray:
        return boxes_array(self.instances["bbox"])

    def head_boxes(self) -> np.ndarray:
        return boxes_array(self.instances["head_box"])


def open_store(path: str | os.PathLike) -> Store:
    """Open a store directory; a clear error when it is not one."""
    path = Path(path)
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise StoreError(f"{path}: not a SmallPose store (no {MANIFEST})")
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise StoreError(f"{mpath}: unreadable manifest: {e}") from None
    if manifest.get("schema") != SCHEMA_VERSION:
        raise StoreError(
            f"{mpath}: store schema {manifest.get('schema')!r}, this tool reads {SCHEMA_VERSION!r}"
        )
    tables = {}
    for name, schema in TABLES.items():
        tpath = path / f"{name}.parquet"
        try:
            tables[name] = pq.read_table(tpath, schema=schema)
        except (OSError, pa.ArrowException) as e:
            raise StoreError(f"{tpath}: unreadable table: {e}") from None
    return Store(path, manifest, tables["images"], tables["instances"])


def write_table(table: pa.Table, path: Path) -> None:
    """Deterministic Parquet: fixed compression, no pandas metadata, no timestamps."""
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        write_statistics=True,
        use_dictionary=True,
        row_group_size=1 << 17,
    )


def write_store(
    out: str | os.PathLike,
    images: pa.Table,
    instances: pa.Table,
    manifest: dict[str, Any],
    rejects: list[dict[str, str]] | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write a store atomically: into a sibling temp dir, then swap it in with renames.

    ``manifest`` gets ``schema``, ``tables`` (rows and sha256 per file) and ``fingerprint``
    added here, so they always describe the bytes actually written.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    images = images.cast(IMAGES_SCHEMA)
    instances = instances.cast(INSTANCES_SCHEMA)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        digests = {}
        for name, table in (("images", images), ("instances", instances)):
            p = tmp / f"{name}.parquet"
            write_table(table, p)
            digests[name] = {"file": p.name, "rows": table.num_rows, "sha256": sha256_file(p)}
        lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in (rejects or []))
        (tmp / REJECTS).write_text(lines)
        for rel, data in (extra_files or {}).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        fp = hashlib.sha256("".join(d["sha256"] for d in digests.values()).encode()).hexdigest()
        manifest = {"schema": SCHEMA_VERSION, **manifest, "tables": digests, "fingerprint": fp}
        with open(tmp / MANIFEST, "w") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        _pause_for_tests()
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _pause_for_tests() -> None:
    """SMALLPOSE_TEST_PAUSE_BEFORE_SWAP=seconds: sleep with the finished temp dir in place, so
    a test can kill a build at the worst moment deterministically. Unset in real use."""
    pause = os.environ.get("SMALLPOSE_TEST_PAUSE_BEFORE_SWAP")
    if pause:
        import time

        time.sleep(float(pause))


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp``. The old store is renamed away first, then deleted;
    between the two renames a crash leaves the old store under ``.<name>.old-*``."""
    if out.exists() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise StoreError(f"{out}: exists and is not a SmallPose store; refusing to replace it")
    replace_dir(tmp, out)
