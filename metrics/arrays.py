"""Column arrays the evaluator works on: ground truth and detections as flat numpy arrays.

The engine never touches per-annotation dicts: loaders (a Parquet store, a COCO json, a results
json) fill these two dataclasses once, and matching/accumulation are array programs over them.
Row order matters for exactness: pycocotools breaks ties by the order annotations appear in the
files, so loaders keep file order and the engine sorts stably.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from smallpose.gcpause import gc_paused


def _f64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _rows(a, n: int, tail: int) -> np.ndarray:
    """``a`` as (n, K, tail) (tail=3) or (n, K) (tail=0), keeping K when n == 0."""
    out = np.ascontiguousarray(a, dtype=np.float64)
    want = 3 if tail else 2
    if out.ndim == want and out.shape[0] == n:
        return out
    if n == 0:
        return np.zeros((0, 0, 3) if tail else (0, 0))
    return out.reshape((n, -1, 3) if tail else (n, -1))


def keypoint_extent_boxes(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bbox (N,4) xywh, area (N,)) from keypoint extents, exactly as pycocotools' loadRes.

    loadRes takes min/max over *all* x and y (visibility/score ignored, zeros included) and sets
    ``area = (x1 - x0) * (y1 - y0)``; COCOeval uses that area to decide whether an unmatched
    detection falls inside an area range, so we reproduce it bit for bit.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.shape[0] == 0:
        return np.zeros((0, 4)), np.zeros(0)
    x, y = kp[:, :, 0], kp[:, :, 1]
    x0, x1 = x.min(axis=1), x.max(axis=1)
    y0, y1 = y.min(axis=1), y.max(axis=1)
    area = (x1 - x0) * (y1 - y0)
    bbox = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    return bbox, area


@dataclass
class GroundTruth:
    """Ground-truth instances of the evaluated images, one row per annotation.

    ``area`` is the OKS scale *and* the value COCO's area ranges test; ``bbox_area`` is what the
    SmallPose size buckets test (SPEC section 3). ``eval_image_ids`` is the evaluated image set:
    as in COCOeval (``imgIds = all gt image ids``) it includes images without any annotation, so
    detections there count as false positives. Rows of one image keep their file order.
    """

    image_ids: np.ndarray  # (G,) int64
    keypoints: np.ndarray  # (G, K, 3) float64, COCO visibility in [..., 2]
    bbox: np.ndarray  # (G, 4) float64 x, y, w, h
    area: np.ndarray  # (G,) float64
    iscrowd: np.ndarray  # (G,) bool
    num_keypoints: np.ndarray  # (G,) int64; 0 -> ignored, as COCO (the field, not a recount)
    eval_image_ids: np.ndarray  # (I,) int64, sorted unique
    bbox_area: np.ndarray | None = None  # (G,) float64; defaults to bbox w*h
    kd: np.ndarray | None = None  # (G,) float64 keypoint density, NaN where undefined
    head_box: np.ndarray | None = None  # (G, 4) float64, NaN rows where absent (PCKh)
    instance_ids: np.ndarray | None = None  # (G,) int64 store/annotation ids
    extra: dict = field(default_factory=dict)  # loader-specific columns (source, kd_class, ...)

    def __post_init__(self) -> None:
        self.image_ids = np.ascontiguousarray(self.image_ids, dtype=np.int64).reshape(-1)
        G = self.image_ids.shape[0]
        self.keypoints = _rows(self.keypoints, G, 3)
        self.bbox = _f64(self.bbox).reshape(G, 4)
        self.area = _f64(self.area).reshape(G)
        self.iscrowd = np.asarray(self.iscrowd).astype(bool).reshape(G)
        self.num_keypoints = np.asarray(self.num_keypoints).astype(np.int64).reshape(G)
        self.eval_image_ids = np.unique(np.asarray(self.eval_image_ids, dtype=np.int64))
        if self.bbox_area is None:
            self.bbox_area = self.bbox[:, 2] * self.bbox[:, 3]
        self.bbox_area = _f64(self.bbox_area).reshape(G)
        self.kd = np.full(G, np.nan) if self.kd is None else _f64(self.kd).reshape(G)
        if self.head_box is not None:
            self.head_box = _f64(self.head_box).reshape(G, 4)
        if self.instance_ids is None:
            self.instance_ids = np.arange(1, G + 1, dtype=np.int64)
        self.instance_ids = np.asarray(self.instance_ids, dtype=np.int64).reshape(G)

    def __len__(self) -> int:
        return int(self.image_ids.shape[0])

    @property
    def num_joints(self) -> int:
        return int(self.keypoints.shape[1])

    def area_field(self, name: str) -> np.ndarray:
        """The column a bucket's area range tests ("area" or "bbox_area")."""
        if name not in ("area", "bbox_area"):
            raise ValueError(f"unknown area field {name!r} (use 'area' or 'bbox_area')")
        return self.area if name == "area" else self.bbox_area


@dataclass
class Detections:
    """Predicted instances, one row per submission record, in file order.

    ``area``/``bbox`` default to the keypoint extents as pycocotools' loadRes computes them.
    ``record_index`` is each row's position in the submission file, so errors and per-record
    outputs can point back at it after filtering. ``sigmas``/``covs`` carry the optional
    uncertainty used by the surprise metric (pixels; NaN-free where present).
    """

    image_ids: np.ndarray  # (D,) int64
    keypoints: np.ndarray  # (D, K, 3) float64; [..., 2] is the keypoint score (unused by OKS)
    scores: np.ndarray  # (D,) float64
    sigmas: np.ndarray | None = None  # (D, K) isotropic std in pixels
    covs: np.ndarray | None = None  # (D, K, 3) sxx, sxy, syy
    record_index: np.ndarray | None = None  # (D,) int64
    area: np.ndarray | None = None  # (D,) keypoint-extent area (loadRes)
    bbox: np.ndarray | None = None  # (D, 4) keypoint-extent box (loadRes)

    def __post_init__(self) -> None:
        self.image_ids = np.ascontiguousarray(self.image_ids, dtype=np.int64).reshape(-1)
        D = self.image_ids.shape[0]
        self.keypoints = _rows(self.keypoints, D, 3)
        self.scores = _f64(self.scores).reshape(D)
        if self.record_index is None:
            self.record_index = np.arange(D, dtype=np.int64)
        self.record_index = np.asarray(self.record_index, dtype=np.int64).reshape(D)
        if self.area is None or self.bbox is None:
            bbox, area = keypoint_extent_boxes(self.keypoints)
            self.bbox = bbox if self.bbox is None else self.bbox
            self.area = area if self.area is None else self.area
        self.area = _f64(self.area).reshape(D)
        self.bbox = _f64(self.bbox).reshape(D, 4)
        if self.sigmas is not None:
            self.sigmas = _rows(self.sigmas, D, 0)
        if self.covs is not None:
            self.covs = _rows(self.covs, D, 3)

    def __len__(self) -> int:
        return int(self.image_ids.shape[0])

    def take(self, index: np.ndarray) -> Detections:
        """Rows ``index`` (a mask or positions), keeping record_index pointing into the file."""

        def sel(a):
            return None if a is None else a[index]

        return Detections(
            image_ids=self.image_ids[index],
            keypoints=self.keypoints[index],
            scores=self.scores[index],
            sigmas=sel(self.sigmas),
            covs=sel(self.covs),
            record_index=self.record_index[index],
            area=self.area[index],
            bbox=self.bbox[index],
        )


def load_json(path) -> object:
    """Parse a JSON file with :func:`loads_json`."""
    from pathlib import Path

    return loads_json(Path(path).read_bytes())


def loads_json(raw: bytes) -> object:
    """Parse JSON bytes with orjson when it is installed (2-3x faster than the standard library
    on COCO-sized files, and far fewer temporary objects), else with ``json``.

    Whatever orjson refuses (NaN/Infinity literals, lone surrogates, UTF-16 files, malformed
    input) is handed to ``json.loads``, so what parses and every error message are exactly the
    standard library's. One difference in values: orjson reads an integer beyond 64 bits as a
    float where ``json`` gives an int; no field may hold one (ids must fit in int64, the
    loaders say so either way) and as a coordinate both read as the same float.
    The cyclic garbage collector is paused during the parse (:func:`gc_paused`).
    """
    import json

    with gc_paused():
        try:
            import orjson
        except ImportError:  # pragma: no cover - orjson is a core dependency
            return json.loads(raw)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return json.loads(raw)


def parse_json(raw: bytes, with_sha256: bool = False) -> tuple[object, bool, str | None]:
    """(:func:`loads_json` of ``raw``, whether ``raw`` may hold a boolean, its sha256 or None).

    Loaders turn parsed number lists into numpy arrays, where a boolean would pass as 1 or 0,
    so they need to know whether the file has a ``true``/``false`` literal at all (numeric
    files almost never do; one inside a string is a harmless false alarm that only sends
    the loader down its type-checking path). The sha256 releases the GIL, so a second
    thread takes it while the parse runs (the thread signals once it is about to start,
    as the parse holds the GIL throughout). Nothing here is compiled with numba: loading
    its first kernel costs about 65 MB, which would add to the peak of the parse.
    """
    started = threading.Event()

    def digest() -> str | None:
        started.set()
        return hashlib.sha256(raw).hexdigest() if with_sha256 else None

    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(digest)
        started.wait()
        try:
            obj = loads_json(raw)
        finally:
            sha = fut.result()
    return obj, b"true" in raw or b"false" in raw, sha


def ground_truth_from_coco(dataset: dict, num_joints: int | None = None) -> GroundTruth:
    """A GroundTruth from a COCO keypoints dict (``json.load`` of a COCO file), as COCOeval sees it.

    The evaluated images are ``dataset["images"]`` (COCOeval's ``imgIds``); annotations keep file
    order. Optional SmallPose columns (``bbox_area``, ``kd``, ``head_box``) are read when present.
    A full loader with validation and store support lives in ``smallpose.metrics.groundtruth``.
    """
    anns = dataset.get("annotations", [])
    G = len(anns)
    if num_joints is None:
        num_joints = len(anns[0]["keypoints"]) // 3 if G else 17
    kp = np.array([a["keypoints"] for a in anns], dtype=np.float64).reshape(G, num_joints, 3)

    def col(name, default):
        return [a.get(name, default) for a in anns]

    nk = [a["num_keypoints"] if "num_keypoints" in a else None for a in anns]
    counted = (kp[:, :, 2] > 0).sum(axis=1)
    nk = np.array([c if v is None else v for v, c in zip(nk, counted)], dtype=np.int64)
    has_bbox_area = G > 0 and all("bbox_area" in a for a in anns)
    kd = np.array([np.nan if v is None else v for v in col("kd", None)], dtype=np.float64)
    return GroundTruth(
        image_ids=np.array(col("image_id", -1), dtype=np.int64),
        keypoints=kp,
        bbox=np.array(col("bbox", [0, 0, 0, 0]), dtype=np.float64).reshape(G, 4),
        area=np.array(col("area", 0.0), dtype=np.float64),
        iscrowd=np.array(col("iscrowd", 0), dtype=bool),
        num_keypoints=nk,
        eval_image_ids=np.array([im["id"] for im in dataset.get("images", [])], dtype=np.int64),
        bbox_area=np.array(col("bbox_area", 0.0), dtype=np.float64) if has_bbox_area else None,
        kd=kd,
        instance_ids=np.array(col("id", 0), dtype=np.int64),
    )


def detections_from_results(records: list[dict], num_joints: int | None = None) -> Detections:
    """Detections from a COCO results list, unvalidated (``smallpose.metrics.submission`` checks)."""
    D = len(records)
    if num_joints is None:
        num_joints = len(records[0]["keypoints"]) // 3 if D else 17
    kp = np.array([r["keypoints"] for r in records], dtype=np.float64).reshape(D, num_joints, 3)
    return Detections(
        image_ids=np.array([r["image_id"] for r in records], dtype=np.int64),
        keypoints=kp,
        scores=np.array([r["score"] for r in records], dtype=np.float64),
    )
