"""What every converter returns: one source's images and instances, column-wise.

Converters parse native files (the only per-record Python loop) and hand over arrays;
the build then derives buckets, KD, CrowdIndex, ids and splits for all sources at once
with numpy. Keeping the hand-over columnar is what keeps a full build near the cost of
``json.load`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smallpose.errors import RejectLog
from smallpose.skeleton import NUM_KEYPOINTS

#: images columns a converter fills (dtypes as pandas sees them)
IMAGE_COLUMNS: dict[str, str] = {
    "source_image_id": "string",  # the source's own id or file stem, as a string
    "file_name": "string",  # relative to the source root, forward slashes
    "width": "int64",  # 0 when the source does not say (MPII json)
    "height": "int64",
    "source_split": "string",  # train | val | test: the source's own split
    "video_id": "string",  # <NA> for still images
    "frame_index": "Int64",  # <NA> for still images
    "source_crowd_index": "float64",  # published CrowdIndex (CrowdPose), NaN elsewhere
}

#: instances columns a converter fills; keypoints travel separately as (N, 21, 3)
INSTANCE_COLUMNS: dict[str, str] = {
    "source_ann_id": "string",  # the source's annotation id, or "<image>#<position>"
    "source_image_id": "string",
    "bbox_x": "float64", "bbox_y": "float64", "bbox_w": "float64", "bbox_h": "float64",
    "iscrowd": "bool",
    "track_id": "Int64",  # <NA> where the source has none
    "head_x": "float64", "head_y": "float64", "head_w": "float64", "head_h": "float64",  # NaN if none
    "source_area": "float64",  # the source's own OKS area (COCO segmentation area); NaN if none
}  # fmt: skip


@dataclass
class SourceTable:
    """A converter's output.

    ``keypoints[i]`` belongs to ``instances.iloc[i]``: unified 21-point order, COCO
    visibility (0 unannotated, 1 occluded, 2 visible), unannotated points exactly (0, 0, 0).
    ``files`` are every file read, for the manifest's checksums. ``root`` is the folder every
    ``file_name`` is relative to (where the images are, in the source's native layout), or
    ``None`` when the converter cannot tell; the build records it in the manifest.
    """

    source: str
    K: int
    images: pd.DataFrame
    instances: pd.DataFrame
    keypoints: np.ndarray
    files: list[Path] = field(default_factory=list)
    rejects: RejectLog = field(default_factory=RejectLog)
    root: Path | None = None

    def __post_init__(self) -> None:
        self.images = _typed(self.images, IMAGE_COLUMNS, "images")
        self.instances = _typed(self.instances, INSTANCE_COLUMNS, "instances")
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64).reshape(-1, NUM_KEYPOINTS, 3)
        if len(self.keypoints) != len(self.instances):
            raise ValueError(
                f"{self.source}: {len(self.keypoints)} keypoint rows for {len(self.instances)} instances"
            )

    @classmethod
    def from_rows(
        cls,
        source: str,
        K: int,
        images: list[dict],
        instances: list[dict],
        keypoints: list[np.ndarray] | np.ndarray,
        files: list[Path] | None = None,
        rejects: RejectLog | None = None,
        root: Path | None = None,
    ) -> SourceTable:
        """Build from lists of dicts; missing optional columns get their null value."""
        kp = np.asarray(keypoints, dtype=np.float64) if len(keypoints) else np.zeros((0, NUM_KEYPOINTS, 3))
        return cls(
            source, K, pd.DataFrame(images), pd.DataFrame(instances), kp,
            list(files or []), rejects or RejectLog(), root,
        )  # fmt: skip


_NULLS = {"string": pd.NA, "Int64": pd.NA, "float64": np.nan, "bool": False, "int64": 0}


def _typed(df: pd.DataFrame, columns: dict[str, str], what: str) -> pd.DataFrame:
    df = df.copy()
    for name, dtype in columns.items():
        if name not in df.columns:
            if name in ("source_image_id", "source_ann_id", "file_name", "bbox_x", "bbox_y", "bbox_w",
                        "bbox_h"):  # fmt: skip
                raise ValueError(f"{what}: converter did not fill required column {name!r}")
            df[name] = _NULLS[dtype]
        df[name] = df[name].astype(dtype)
    return df[list(columns)].reset_index(drop=True)
