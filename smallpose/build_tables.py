"""Derived columns, splits and selection, then the store's two Arrow tables and their counts.

Runs on rows the combine step already put in store order, so selection only filters and
every column is built from numpy in one go (no Python per row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from smallpose.build_combine import strings
from smallpose.derive import (
    BUCKETS,
    KD_CLASSES,
    crowd_index,
    density_index,
    keypoint_density,
    size_bucket_index,
)
from smallpose.selection import apply_selection
from smallpose.skeleton import NUM_KEYPOINTS, SOURCES
from smallpose.splits import SPLITS, assign_splits

if TYPE_CHECKING:
    from smallpose.build import BuildConfig


def derive_and_select(
    config: BuildConfig, images: pd.DataFrame, image_id: np.ndarray, ins: dict[str, Any]
) -> tuple[dict[str, pa.Table], dict[str, Any]]:
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
    return strings([s]).cast(pa.string())


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
