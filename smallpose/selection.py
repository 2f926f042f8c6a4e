"""The paper's curation as explicit, recorded build flags.

Applied after the derived columns exist, in this order (each recorded in the manifest):

1. ``frame_stride`` N: video frames with ``frame_index % N == 0`` are kept (per video);
   still images are untouched. Consecutive frames are near-duplicates.
2. ``min_keypoints`` N: instances with fewer than N annotated points are dropped.
3. ``keep_buckets``: only images with at least one remaining instance in the buckets are
   kept, *with all their remaining instances*: an evaluator needs every annotated person of
   a kept image, or it would score correct detections of the others as false positives.

CrowdIndex is a property of the scene, so it is computed on every converted instance,
before this selection; ``num_instances`` counts the instances actually stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smallpose.derive import BUCKETS
from smallpose.errors import SmallPoseError


@dataclass(frozen=True)
class Selection:
    keep_buckets: tuple[str, ...] | None = None
    min_keypoints: int = 0
    frame_stride: int = 1

    def __post_init__(self) -> None:
        if self.keep_buckets is not None:
            bad = [b for b in self.keep_buckets if b not in BUCKETS]
            if bad or not self.keep_buckets:
                raise SmallPoseError(
                    f"--keep-buckets takes a comma list of S, M, L; got {','.join(bad) or '(none)'}"
                )
        if self.min_keypoints < 0:
            raise SmallPoseError(f"--min-keypoints must be >= 0, got {self.min_keypoints}")
        if self.frame_stride < 1:
            raise SmallPoseError(f"--frame-stride must be >= 1, got {self.frame_stride}")

    @classmethod
    def parse_buckets(cls, text: str | None) -> tuple[str, ...] | None:
        if text is None:
            return None
        return tuple(dict.fromkeys(b.strip().upper() for b in text.split(",") if b.strip()))

    def to_dict(self) -> dict:
        return {
            "keep_buckets": list(self.keep_buckets) if self.keep_buckets else None,
            "min_keypoints": self.min_keypoints,
            "frame_stride": self.frame_stride,
            "order": ["frame_stride", "min_keypoints", "keep_buckets"],
        }


def frame_mask(images: pd.DataFrame, stride: int) -> np.ndarray:
    """Images kept by the frame stride: still images always, frames with index % stride == 0."""
    if stride == 1:
        return np.ones(len(images), dtype=bool)
    fi = images["frame_index"].astype("Int64")
    is_frame = images["video_id"].notna().to_numpy() & fi.notna().to_numpy()
    keep = (fi.fillna(0).to_numpy(dtype=np.int64) % stride) == 0
    return ~is_frame | keep


def apply_selection(
    sel: Selection,
    images: pd.DataFrame,
    inst_image: np.ndarray,
    num_keypoints: np.ndarray,
    bucket: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(image mask, instance mask, counts dropped per step); ``inst_image`` indexes ``images``.

    ``bucket`` holds 'S'/'M'/'L' per instance, or their indexes into BUCKETS (the build's).
    """
    img_keep = frame_mask(images, sel.frame_stride)
    dropped = {"images_frame_stride": int((~img_keep).sum())}
    inst_keep = img_keep[inst_image]
    dropped["instances_with_dropped_frames"] = int((~inst_keep).sum())
    few = inst_keep & (num_keypoints < sel.min_keypoints)
    inst_keep &= ~few
    dropped["instances_min_keypoints"] = int(few.sum())
    if sel.keep_buckets is not None:
        bucket = np.asarray(bucket)
        wanted = list(sel.keep_buckets)
        if bucket.dtype.kind in "iu":  # codes
            wanted = [BUCKETS.index(b) for b in wanted]
        hit = inst_keep & np.isin(bucket, wanted)
        has = np.bincount(inst_image[hit], minlength=len(images)) > 0
        gone = img_keep & ~has
        img_keep &= has
        lost = inst_keep & ~img_keep[inst_image]
        inst_keep &= ~lost
        dropped["images_keep_buckets"] = int(gone.sum())
        dropped["instances_keep_buckets"] = int(lost.sum())
    return img_keep, inst_keep, dropped
