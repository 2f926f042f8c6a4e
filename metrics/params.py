"""Evaluation parameters in one object, like pycocotools' ``COCOeval.Params`` for keypoints.

Three protocols are factories here so that every caller (CLI, report, bootstrap, tests) agrees
on thresholds, sigmas and buckets:

- ``Params.coco()``: pycocotools' keypoint defaults, bit for bit (17 sigmas, maxDets 20, the
  ``area`` field with inclusive ranges all/medium/large).
- ``Params.smallpose()``: the benchmark (SPEC section 6): 21 sigmas, half-open size buckets on
  the ground-truth *bounding-box* area, and the three density classes among small instances.
- ``Params.coco17()``: Setting A, OKS over COCO's 17 keypoint types of the 21-point ground truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from smallpose import skeleton

SMALL_MAX = 128.0 * 96.0
MEDIUM_MAX = 256.0 * 192.0
INF = math.inf

# How an interval [lo, hi] is closed: "both" = lo <= v <= hi (pycocotools' area ranges),
# "left" = lo <= v < hi (SmallPose's buckets and density classes).
_CLOSURES = ("both", "left")


def in_range(values: np.ndarray, rng: tuple[float, float], closed: str) -> np.ndarray:
    """Membership of ``values`` in ``rng`` with the given closure; NaN is never inside."""
    lo, hi = rng
    values = np.asarray(values, dtype=np.float64)
    if closed == "both":
        return (values >= lo) & (values <= hi)
    if closed == "left":
        return (values >= lo) & (values < hi)
    raise ValueError(f"unknown interval closure {closed!r}; use one of {_CLOSURES}")


@dataclass(frozen=True)
class Bucket:
    """One evaluation subset: a ground truth outside it is ignored (COCO's ``areaRng``).

    ``area_field`` names the ground-truth column tested ("area" as COCO, or "bbox_area" as
    SmallPose). Detections always test their keypoint-extent area (the only size a prediction
    has; COCO does the same). ``kd_rng`` additionally restricts to a keypoint-density class;
    how unmatched detections are attributed to a density class is documented in docs/metrics.md.
    """

    name: str
    area_rng: tuple[float, float] = (0.0, INF)
    area_field: str = "area"
    area_closed: str = "both"
    kd_rng: tuple[float, float] | None = None
    kd_closed: str = "left"

    def __post_init__(self) -> None:
        if self.area_closed not in _CLOSURES or self.kd_closed not in _CLOSURES:
            raise ValueError(f"bucket {self.name}: closure must be one of {_CLOSURES}")
        if self.area_field not in ("area", "bbox_area"):
            raise ValueError(f"bucket {self.name}: area_field must be 'area' or 'bbox_area'")


def _coco_buckets() -> list[Bucket]:
    # pycocotools setKpParams: [[0, 1e5**2], [32**2, 96**2], [96**2, 1e5**2]], both ends inclusive
    return [
        Bucket("all", (0.0, 1e5**2)),
        Bucket("medium", (32.0**2, 96.0**2)),
        Bucket("large", (96.0**2, 1e5**2)),
    ]


def _smallpose_buckets() -> list[Bucket]:
    def size(name: str, rng: tuple[float, float], kd=None) -> Bucket:
        return Bucket(name, rng, area_field="bbox_area", area_closed="left", kd_rng=kd, kd_closed="left")

    small = (0.0, SMALL_MAX)  # (0, 128*96): a zero-area box has no pose to score either way
    return [
        size("all", (0.0, INF)),
        size("S", small),
        size("M", (SMALL_MAX, MEDIUM_MAX)),
        size("L", (MEDIUM_MAX, INF)),
        size("S_sparse", small, (0.0, 0.35)),
        size("S_moderate", small, (0.35, 0.95)),
        size("S_dense", small, (0.95, 1.0)),
    ]


@dataclass
class Params:
    """Thresholds, sigmas, buckets and the keypoint selection of one evaluation.

    ``keypoint_index`` selects ground-truth keypoints (and detections given in the full
    skeleton) before OKS: Setting A and per-keypoint AP. With ``recount_keypoints`` the
    ``num_keypoints == 0`` ignore rule uses the points annotated *in the selection*, so an
    instance with no COCO point is ignored under Setting A as a COCO-format copy would be.
    """

    sigmas: np.ndarray
    buckets: list[Bucket]
    protocol: str = "custom"
    iou_thrs: np.ndarray = field(default_factory=lambda: np.linspace(0.5, 0.95, 10, endpoint=True))
    rec_thrs: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 1.0, 101, endpoint=True))
    max_dets: list[int] = field(default_factory=lambda: [20])
    keypoint_index: np.ndarray | None = None
    recount_keypoints: bool = False

    def __post_init__(self) -> None:
        self.sigmas = np.asarray(self.sigmas, dtype=np.float64).reshape(-1)
        self.iou_thrs = np.asarray(self.iou_thrs, dtype=np.float64).reshape(-1)
        self.rec_thrs = np.asarray(self.rec_thrs, dtype=np.float64).reshape(-1)
        self.max_dets = sorted(int(m) for m in self.max_dets)
        if not self.max_dets or self.max_dets[0] < 1:
            raise ValueError("max_dets must hold positive integers")
        if self.keypoint_index is not None:
            self.keypoint_index = np.asarray(self.keypoint_index, dtype=np.int64).reshape(-1)
            if self.keypoint_index.shape[0] != self.sigmas.shape[0]:
                raise ValueError("keypoint_index and sigmas must have the same length")
        names = [b.name for b in self.buckets]
        if len(set(names)) != len(names):
            raise ValueError(f"bucket names must be unique: {names}")

    # ---- factories -------------------------------------------------------------------------
    @classmethod
    def coco(cls, max_dets: int = 20) -> Params:
        """pycocotools' ``Params(iouType='keypoints')``: gives its numbers to 1e-12."""
        sig = np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07,
                        0.87, 0.87, 0.89, 0.89]) / 10.0  # fmt: skip
        return cls(sigmas=sig, buckets=_coco_buckets(), protocol="coco", max_dets=[max_dets])

    @classmethod
    def smallpose(cls, max_dets: int = 20) -> Params:
        """The SmallPose protocol on the 21-point skeleton (SPEC section 6)."""
        return cls(
            sigmas=skeleton.SIGMAS.copy(), buckets=_smallpose_buckets(), protocol="smallpose",
            max_dets=[max_dets],
        )  # fmt: skip

    @classmethod
    def coco17(cls, max_dets: int = 20) -> Params:
        """Setting A: COCO's 17 keypoint types of the 21-point ground truth, SmallPose buckets."""
        return cls(
            sigmas=skeleton.COCO17_SIGMAS.copy(), buckets=_smallpose_buckets(), protocol="coco17",
            max_dets=[max_dets], keypoint_index=skeleton.COCO17_INDEX.copy(), recount_keypoints=True,
        )  # fmt: skip

    # ---- variants --------------------------------------------------------------------------
    def with_max_dets(self, max_dets: int | list[int]) -> Params:
        """A copy with another maxDets (crowded sources have images with > 20 people)."""
        md = [max_dets] if isinstance(max_dets, int) else list(max_dets)
        return replace(self, max_dets=md)

    def for_keypoints(self, index) -> Params:
        """A copy scoring only keypoints ``index`` of the full skeleton (per-keypoint AP).

        ``index`` is relative to the ground-truth skeleton this Params was built for: with a
        subset already selected (coco17) it is composed with that selection.
        """
        index = np.atleast_1d(np.asarray(index, dtype=np.int64))
        base = self.keypoint_index if self.keypoint_index is not None else None
        full = index if base is None else base[index]
        return replace(
            self, sigmas=self.sigmas[index].copy(), keypoint_index=full, recount_keypoints=True,
            protocol=f"{self.protocol}:keypoints",
        )  # fmt: skip

    def with_buckets(self, buckets: list[Bucket]) -> Params:
        """A copy with other buckets (e.g. KD bins for the AP-vs-density curve)."""
        return replace(self, buckets=list(buckets))

    # ---- lookups ---------------------------------------------------------------------------
    @property
    def bucket_names(self) -> list[str]:
        return [b.name for b in self.buckets]

    def bucket_index(self, name: str) -> int:
        try:
            return self.bucket_names.index(name)
        except ValueError:
            raise KeyError(f"no bucket {name!r}; have {self.bucket_names}") from None

    @property
    def num_keypoints(self) -> int:
        return int(self.sigmas.shape[0])
