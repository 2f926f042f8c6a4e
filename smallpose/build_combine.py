"""Concatenate every source's table and reject what cannot go in one store together.

The build's input checks that need all sources at once (duplicate images across inputs,
instances of unknown images, unmeasurable boxes and keypoints, duplicate annotation ids),
and the store's row order, fixed here so the big keypoint array is gathered once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smallpose.build_sources import SourceSpec
from smallpose.derive import gather_keypoints
from smallpose.errors import RejectLog
from smallpose.ids import check_unique, key_array, stable_ids_utf8, utf8_keys
from smallpose.records import SourceTable
from smallpose.skeleton import SOURCES

_BOX = ["bbox_x", "bbox_y", "bbox_w", "bbox_h"]
_HEAD = ["head_x", "head_y", "head_w", "head_h"]


def combine(
    specs: list[SourceSpec], tables: list[SourceTable], log: RejectLog
) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any], dict[str, int]]:
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
    img_sid = strings([t.images["source_image_id"] for t in tables])
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
    ins = instance_columns(specs, tables)
    sid = strings([t.instances["source_image_id"] for t in tables]).fill_null(_NA)
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


def instance_columns(specs: list[SourceSpec], tables: list[SourceTable]) -> dict[str, Any]:
    """Every input's instance columns, concatenated, as numpy arrays (strings as Arrow)."""

    def cat(get) -> np.ndarray:
        return np.concatenate([get(t.instances) for t in tables])

    n_ins = [len(t.instances) for t in tables]
    inputs = np.repeat(np.arange(len(tables)), n_ins)
    return {
        "input": inputs,
        "src": _source_codes(specs)[inputs],
        "K": np.array([int(t.K) for t in tables], dtype=np.int64)[inputs],
        "ann": strings([t.instances["source_ann_id"] for t in tables]),
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


def strings(columns: list[pd.Series]) -> pa.Array:
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
