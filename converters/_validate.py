"""Collecting a source's rows and checking them column-wise.

Converters loop over records once, doing only cheap per-record checks (types, list lengths,
ids) and appending raw values. Everything numeric (finite values, visibility codes, box
sizes) is then checked on whole numpy arrays per file, because per-keypoint Python work is
what would make a 770k-instance build many times slower than ``json.load``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smallpose.errors import RejectLog
from smallpose.records import IMAGE_COLUMNS, INSTANCE_COLUMNS, SourceTable
from smallpose.skeleton import NUM_KEYPOINTS, SOURCE_SKELETONS

from ._jsonio import gc_paused, safe_file_name

# Reasons are short and stable: the build counts rejects per reason.
WRONG_TYPE = "wrong type"
MISSING_FIELD = "missing field"
NON_FINITE = "non-finite value"
NON_POSITIVE_BOX = "non-positive box"
WRONG_KP_COUNT = "wrong keypoint count"
BAD_VISIBILITY = "bad visibility"
DUPLICATE_ID = "duplicate id"
UNKNOWN_IMAGE = "unknown image"
REJECTED_IMAGE = "rejected image"
UNSAFE_FILE_NAME = "unsafe file_name"
MALFORMED = "malformed json"


def float_rows(rows: list, shape: int | tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(n, *shape) float64 array from json lists already known to have ``shape[0]`` items.

    Returns the array and a mask of rows holding something other than json numbers (strings,
    null, nested or ragged lists, booleans); those rows come back as zeros. The fast path lets
    numpy infer the dtype of the whole block: a purely numeric block is never looked at row by row.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = len(rows)
    if n == 0:
        return np.zeros((0, *shape)), np.zeros(0, dtype=bool)
    try:
        arr = np.array(rows)
    except (ValueError, TypeError):  # ragged nesting inside a row
        arr = None
    if arr is not None and arr.dtype.kind in "iuf" and arr.shape == (n, *shape):
        return arr.astype(np.float64, copy=False), np.zeros(n, dtype=bool)
    out = np.zeros((n, *shape))
    bad = np.zeros(n, dtype=bool)
    for i, row in enumerate(rows):
        try:
            a = np.array(row)
        except (ValueError, TypeError):
            a = None
        if a is not None and a.dtype.kind in "iuf" and a.shape == shape:
            out[i] = a
        else:
            bad[i] = True
    return out, bad


@dataclass
class Batch:
    """One file's candidate instances, as raw json values, before the column-wise checks."""

    file: str
    records: list[str] = field(default_factory=list)
    ann_ids: list[str] = field(default_factory=list)
    image_ids: list[str] = field(default_factory=list)
    bbox: list = field(default_factory=list)
    kp: list = field(default_factory=list)
    iscrowd: list[bool] = field(default_factory=list)
    track: list = field(default_factory=list)
    head: list = field(default_factory=list)  # a list of 4, or None
    area: list[float] = field(default_factory=list)
    # the source's own names of the box, keypoints and head box fields, for reject messages
    bbox_field: str = "bbox"
    kp_field: str = "keypoints"
    head_field: str = "bbox_head"

    def add(self, record, ann_id, image_id, bbox, kp, iscrowd=False, track=None, head=None, area=math.nan):
        self.records.append(record)
        self.ann_ids.append(ann_id)
        self.image_ids.append(image_id)
        self.bbox.append(bbox)
        self.kp.append(kp)
        self.iscrowd.append(iscrowd)
        self.track.append(track)
        self.head.append(head)
        self.area.append(area)

    def __len__(self) -> int:
        return len(self.records)


class TableBuilder:
    """Accumulates one source's images and instances across files; hands out a SourceTable."""

    def __init__(self, kind: str, strict: bool):
        self.kind = kind
        self.skeleton = SOURCE_SKELETONS[kind]
        self.K = self.skeleton.K
        self.rejects = RejectLog(strict=strict)
        self.files: list[Path] = []
        self.images: dict[str, list] = {c: [] for c in IMAGE_COLUMNS}
        self.parts: list[dict[str, np.ndarray]] = []
        self.kp_parts: list[np.ndarray] = []
        self.image_ids: set[str] = set()
        self.ann_ids: set[str] = set()

    def reject(self, file: str, record, field: str | None, reason: str) -> None:
        self.rejects.reject(file, record, field, reason)

    def new_ann_id(self, file: str, record, ann_id: str) -> bool:
        """Claim an annotation id; a second use is rejected (ids must be unique per source)."""
        if ann_id in self.ann_ids:
            self.reject(file, record, "id", DUPLICATE_ID)
            return False
        self.ann_ids.add(ann_id)
        return True

    def add_image(
        self, file: str, record, source_image_id: str, file_name: object, width: object, height: object,
        split: str, video_id: str | None = None, frame_index: int | None = None,
        crowd_index: float = math.nan, name_field: str = "file_name",
    ) -> bool:  # fmt: skip
        """Append one image after its cheap checks; False (and a reject) when it is refused."""
        if source_image_id in self.image_ids:
            self.reject(file, record, "id", DUPLICATE_ID)
            return False
        name = safe_file_name(file_name)
        if name is None:
            reason = UNSAFE_FILE_NAME if type(file_name) is str and file_name else WRONG_TYPE
            self.reject(file, record, name_field, reason)
            return False
        for fld, value in (("width", width), ("height", height)):
            if type(value) is not int or value < 0:
                self.reject(file, record, fld, WRONG_TYPE)
                return False
        self.image_ids.add(source_image_id)
        img = self.images
        img["source_image_id"].append(source_image_id)
        img["file_name"].append(name)
        img["width"].append(width)
        img["height"].append(height)
        img["source_split"].append(split)
        img["video_id"].append(video_id)
        img["frame_index"].append(frame_index)
        img["source_crowd_index"].append(crowd_index)
        return True

    def add_rows(self, batch: Batch, vis_map: dict[int, int], xyxy: bool = False) -> None:
        """Check and append a batch of raw json rows (bbox lists, flat keypoint lists)."""
        bbox, bad_box = float_rows(batch.bbox, 4)
        kp, bad_kp = float_rows(batch.kp, 3 * self.K)
        if xyxy:
            bbox[:, 2:] -= bbox[:, :2]
        has_head = np.array([h is not None for h in batch.head], dtype=bool)
        head = np.full((len(batch), 4), np.nan)
        bad_head = np.zeros(len(batch), dtype=bool)
        if has_head.any():
            idx = np.flatnonzero(has_head)
            head[idx], bad_head[idx] = float_rows([batch.head[i] for i in idx], 4)
        nan_head = has_head & ~np.isfinite(head).all(axis=1)
        pre = [
            (bad_kp, batch.kp_field, WRONG_TYPE),
            (bad_box, batch.bbox_field, WRONG_TYPE),
            (bad_head, batch.head_field, WRONG_TYPE),
            (nan_head, batch.head_field, NON_FINITE),
        ]
        self.add_arrays(
            batch, bbox, kp.reshape(-1, self.K, 3), vis_map, head=head,
            area=np.array(batch.area, dtype=np.float64), pre=pre,
        )  # fmt: skip

    def add_arrays(
        self, batch: Batch, bbox: np.ndarray, kp: np.ndarray, vis_map: dict[int, int],
        head: np.ndarray | None = None, area: np.ndarray | None = None, pre: list | None = None,
    ) -> None:  # fmt: skip
        """Column-wise checks on one file's instances; bad rows are rejected, the rest appended.

        ``kp`` is (n, K, 3) in the source's own order with its own visibility codes;
        ``vis_map`` maps each allowed native code to COCO's (0 unannotated, 1 occluded, 2 visible).
        """
        n = len(batch)
        if n == 0:
            return
        head = np.full((n, 4), np.nan) if head is None else head
        area = np.full(n, np.nan) if area is None else area
        vis = np.full(kp.shape[:2], -1.0)
        for native, coco in vis_map.items():
            vis[kp[:, :, 2] == native] = coco
        checks = list(pre or []) + [
            (~np.isfinite(kp).all(axis=(1, 2)), batch.kp_field, NON_FINITE),
            (~np.isfinite(bbox).all(axis=1), batch.bbox_field, NON_FINITE),
            (np.isinf(head).any(axis=1), batch.head_field, NON_FINITE),
            (np.isinf(area), "area", NON_FINITE),
            ((vis < 0).any(axis=1), batch.kp_field, BAD_VISIBILITY),
            ((bbox[:, 2] <= 0) | (bbox[:, 3] <= 0), batch.bbox_field, NON_POSITIVE_BOX),
            ((head[:, 2] <= 0) | (head[:, 3] <= 0), batch.head_field, NON_POSITIVE_BOX),
        ]
        bad = np.zeros(n, dtype=bool)
        for mask, _, _ in checks:
            bad |= mask
        for i in np.flatnonzero(bad):  # in file order: strict mode raises at the first
            fld, reason = next((f, r) for m, f, r in checks if m[i])
            self.reject(batch.file, batch.records[i], fld, reason)
        good = ~bad
        if not good.any():
            return
        native = kp[good].copy()
        native[:, :, 2] = vis[good]
        native[native[:, :, 2] == 0] = 0.0  # unannotated points are exactly (0, 0, 0)
        self.kp_parts.append(self.skeleton.to_unified(native))
        idx = np.flatnonzero(good)
        self.parts.append(
            {
                "source_ann_id": [batch.ann_ids[i] for i in idx],
                "source_image_id": [batch.image_ids[i] for i in idx],
                "bbox_x": bbox[good, 0], "bbox_y": bbox[good, 1],
                "bbox_w": bbox[good, 2], "bbox_h": bbox[good, 3],
                "iscrowd": np.asarray(batch.iscrowd, dtype=bool)[good],
                "track_id": [batch.track[i] for i in idx],
                "head_x": head[good, 0], "head_y": head[good, 1],
                "head_w": head[good, 2], "head_h": head[good, 3],
                "source_area": area[good],
            }
        )  # fmt: skip

    def table(self) -> SourceTable:
        import pandas as pd

        images = pd.DataFrame(self.images, columns=list(IMAGE_COLUMNS))
        images["frame_index"] = pd.array(self.images["frame_index"], dtype="Int64")
        cols: dict[str, list | np.ndarray] = {}
        for name in INSTANCE_COLUMNS:
            chunks = [p[name] for p in self.parts]
            if name in ("source_ann_id", "source_image_id", "track_id"):
                cols[name] = [v for c in chunks for v in c]
            else:
                cols[name] = np.concatenate(chunks) if chunks else np.zeros(0)
        cols["track_id"] = pd.array(cols["track_id"], dtype="Int64")
        instances = pd.DataFrame(cols, columns=list(INSTANCE_COLUMNS))
        kp = np.concatenate(self.kp_parts) if self.kp_parts else np.zeros((0, NUM_KEYPOINTS, 3))
        return SourceTable(self.kind, self.K, images, instances, kp, list(self.files), self.rejects)


def check_list(
    b: TableBuilder, file: str, record, fld: str, value: object, n: int, count_reason: str
) -> bool:
    """A json list of ``n`` items, else one reject (missing, wrong type or ``count_reason``)."""
    if type(value) is list and len(value) == n:
        return True
    if value is None:
        reason = MISSING_FIELD
    elif type(value) is list:
        reason = count_reason
    else:
        reason = WRONG_TYPE
    b.reject(file, record, fld, reason)
    return False


def convert_files(
    kind: str, path: Path, split: str | None, strict: bool, read, suffixes: tuple[str, ...] = (".json",),
    recursive: bool = False, prefer: str | None = None, locate=None,
) -> SourceTable:  # fmt: skip
    """The shared driver: list the input files, read each into one builder, return the table.

    ``read(builder, file, split)`` parses one file; ``split`` is the caller's override or None.
    ``locate`` (see ``_roots``) finds each file's image folder; the table's ``root`` and
    ``file_name`` prefixes follow from it (without it, names stay bare and ``root`` None).
    """
    from smallpose.progress import Progress

    from ._jsonio import check_split, list_files
    from ._roots import PROBE, apply_roots

    check_split(split)
    builder = TableBuilder(kind, strict)
    files = list_files(Path(path), suffixes, recursive, kind, prefer)
    progress = Progress(f"converting {kind}", total=len(files))
    names = builder.images["file_name"]
    spans = []
    for f in files:
        builder.files.append(f)
        start = len(names)
        with gc_paused():
            read(builder, f, split)
        if locate is not None and len(names) > start:
            place, _ = locate(f.absolute(), names[start : start + PROBE])
            spans.append((start, len(names), place))
        progress.update(1, f.name)
    root = apply_roots(names, spans)
    table = builder.table()
    table.root = root
    return table
