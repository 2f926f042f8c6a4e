"""The unified 21-keypoint skeleton and every source's mapping onto it.

All mappings are data (one table per source) so that a wrong correspondence is a
one-line fix, and so converters, metrics and figures agree on one definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "head_top", "left_eye", "right_eye", "left_ear", "right_ear", "head_bottom",
    "chest", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "pelvis", "left_knee", "right_knee",
    "left_ankle", "right_ankle",
)  # fmt: skip
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

_PAIRS = ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle")
FLIP_PAIRS: tuple[tuple[int, int], ...] = tuple((INDEX[f"left_{p}"], INDEX[f"right_{p}"]) for p in _PAIRS)


def flip_index() -> np.ndarray:
    """Permutation that swaps left and right, for horizontal-flip augmentation and tests."""
    perm = np.arange(NUM_KEYPOINTS)
    for a, b in FLIP_PAIRS:
        perm[a], perm[b] = b, a
    return perm


# Designed here (the paper's Fig. 1c is not available): a head fan around the nose,
# a neck (head_bottom -> chest), a spine (chest -> pelvis), and limbs hanging off the
# shoulders and hips. Shoulder-hip sides close the torso the way COCO draws it.
_EDGE_NAMES = (
    ("head_top", "nose"), ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
    ("right_eye", "right_ear"), ("nose", "head_bottom"), ("head_bottom", "chest"),
    ("chest", "left_shoulder"), ("chest", "right_shoulder"), ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("chest", "pelvis"), ("pelvis", "left_hip"), ("pelvis", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
)  # fmt: skip
SKELETON_EDGES: tuple[tuple[int, int], ...] = tuple((INDEX[a], INDEX[b]) for a, b in _EDGE_NAMES)

# OKS sigmas: COCO's for its 17 points; CrowdPose's top_head/neck value for head_top and
# head_bottom; chest as the shoulders and pelvis as the hips (SPEC section 1).
_SIGMA_BY_NAME = {
    "nose": 0.026, "left_eye": 0.025, "right_eye": 0.025, "left_ear": 0.035, "right_ear": 0.035,
    "left_shoulder": 0.079, "right_shoulder": 0.079, "left_elbow": 0.072, "right_elbow": 0.072,
    "left_wrist": 0.062, "right_wrist": 0.062, "left_hip": 0.107, "right_hip": 0.107,
    "left_knee": 0.087, "right_knee": 0.087, "left_ankle": 0.089, "right_ankle": 0.089,
    "head_top": 0.079, "head_bottom": 0.079, "chest": 0.079, "pelvis": 0.107,
}  # fmt: skip
SIGMAS: np.ndarray = np.array([_SIGMA_BY_NAME[n] for n in KEYPOINT_NAMES], dtype=np.float64)
SIGMAS.setflags(write=False)

COCO17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
#: positions of COCO's 17 keypoints (in COCO order) inside the 21-point skeleton
COCO17_INDEX: np.ndarray = np.array([INDEX[n] for n in COCO17_NAMES], dtype=np.int64)
COCO17_SIGMAS: np.ndarray = SIGMAS[COCO17_INDEX].copy()
#: pycocotools' COCOeval kpt_oks_sigmas (already divided by 10 there); equal to COCO17_SIGMAS
COCO_SKELETON_1BASED = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip


@dataclass(frozen=True)
class SourceSkeleton:
    """A source's own keypoint order and where each point lands in the 21-point skeleton.

    ``unified[i]`` is the unified name of native point ``i``, or ``None`` when the point is
    dropped (PoseTrack's ear placeholders). ``K`` is the source skeleton size used by KD.
    """

    source: str
    native: tuple[str, ...]
    unified: tuple[str | None, ...]

    @property
    def K(self) -> int:  # noqa: N802 - the paper's symbol
        return len(self.native)

    def index_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(native positions, unified positions) of the points that are kept."""
        pairs = [(i, INDEX[u]) for i, u in enumerate(self.unified) if u is not None]
        src = np.array([p[0] for p in pairs], dtype=np.int64)
        dst = np.array([p[1] for p in pairs], dtype=np.int64)
        return src, dst

    def to_unified(self, native_kpts: np.ndarray) -> np.ndarray:
        """Map an (N, K, 3) native array, already in COCO visibility, to (N, 21, 3)."""
        native_kpts = np.asarray(native_kpts, dtype=np.float64)
        out = np.zeros((native_kpts.shape[0], NUM_KEYPOINTS, 3), dtype=np.float64)
        src, dst = self.index_arrays()
        out[:, dst, :] = native_kpts[:, src, :]
        return out


def _same(names: tuple[str, ...]) -> tuple[str, ...]:
    return names


_LIMBS_COCO_ORDER = COCO17_NAMES[5:]  # shoulders .. ankles, left before right

SOURCE_SKELETONS: dict[str, SourceSkeleton] = {
    "coco": SourceSkeleton("coco", COCO17_NAMES, _same(COCO17_NAMES)),
    "mpii": SourceSkeleton(
        "mpii",
        (
            "r_ankle",
            "r_knee",
            "r_hip",
            "l_hip",
            "l_knee",
            "l_ankle",
            "pelvis",
            "thorax",
            "upper_neck",
            "head_top",
            "r_wrist",
            "r_elbow",
            "r_shoulder",
            "l_shoulder",
            "l_elbow",
            "l_wrist",
        ),
        (
            "right_ankle",
            "right_knee",
            "right_hip",
            "left_hip",
            "left_knee",
            "left_ankle",
            "pelvis",
            "chest",
            "head_bottom",
            "head_top",
            "right_wrist",
            "right_elbow",
            "right_shoulder",
            "left_shoulder",
            "left_elbow",
            "left_wrist",
        ),
    ),  # fmt: skip
    "aic": SourceSkeleton(
        "aic",
        (
            "r_shoulder",
            "r_elbow",
            "r_wrist",
            "l_shoulder",
            "l_elbow",
            "l_wrist",
            "r_hip",
            "r_knee",
            "r_ankle",
            "l_hip",
            "l_knee",
            "l_ankle",
            "head_top",
            "neck",
        ),
        (
            "right_shoulder",
            "right_elbow",
            "right_wrist",
            "left_shoulder",
            "left_elbow",
            "left_wrist",
            "right_hip",
            "right_knee",
            "right_ankle",
            "left_hip",
            "left_knee",
            "left_ankle",
            "head_top",
            "head_bottom",
        ),
    ),  # fmt: skip
    "hieve": SourceSkeleton(
        "hieve",
        (
            "nose",
            "chest",
            "r_shoulder",
            "r_elbow",
            "r_wrist",
            "l_shoulder",
            "l_elbow",
            "l_wrist",
            "r_hip",
            "r_knee",
            "r_ankle",
            "l_hip",
            "l_knee",
            "l_ankle",
        ),
        (
            "nose",
            "chest",
            "right_shoulder",
            "right_elbow",
            "right_wrist",
            "left_shoulder",
            "left_elbow",
            "left_wrist",
            "right_hip",
            "right_knee",
            "right_ankle",
            "left_hip",
            "left_knee",
            "left_ankle",
        ),
    ),  # fmt: skip
    "posetrack": SourceSkeleton(
        "posetrack",
        ("nose", "head_bottom", "head_top", "left_ear", "right_ear") + _LIMBS_COCO_ORDER,
        ("nose", "head_bottom", "head_top", None, None) + _LIMBS_COCO_ORDER,
    ),
    "crowdpose": SourceSkeleton(
        "crowdpose",
        _LIMBS_COCO_ORDER + ("head", "neck"),
        _LIMBS_COCO_ORDER + ("head_top", "head_bottom"),
    ),
}

SOURCES: tuple[str, ...] = tuple(SOURCE_SKELETONS)


def sigmas(overrides: dict[str, float] | None = None) -> np.ndarray:
    """The 21 OKS sigmas, with optional per-name overrides (a copy; the table stays intact)."""
    out = SIGMAS.copy()
    for name, value in (overrides or {}).items():
        if name not in INDEX:
            raise KeyError(f"unknown keypoint name {name!r}")
        out[INDEX[name]] = float(value)
    return out
