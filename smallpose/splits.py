"""Train/test assignment (SPEC section 4): group-aware and leak-free by default.

The unit of assignment is a *group*: a whole video for video sources (frames of a video
are near-duplicates), a single image otherwise. Rules, in order:

1. A group holding any image of its source's own *train* split goes to train, entirely.
   So a video never straddles the splits and a model trained on a source's train set is
   never tested on its training images.
2. Default: every other group (source val/test only) goes to test.
3. ``--test-fraction F --seed N``: every other group goes to test with probability F,
   decided by a seeded hash of the group's key. The hash, not a shuffled draw, is what
   makes a group's split independent of which other sources or images are in the build.
   ``allow_train_in_test`` makes groups with source-train images eligible too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smallpose.errors import SmallPoseError
from smallpose.ids import hash53, natural_key

SOURCE_SPLITS = ("train", "val", "test")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class SplitConfig:
    test_fraction: float | None = None
    seed: int = 0
    allow_train_in_test: bool = False

    def __post_init__(self) -> None:
        if self.test_fraction is not None and not 0.0 <= self.test_fraction <= 1.0:
            raise SmallPoseError(f"--test-fraction must be in [0, 1], got {self.test_fraction}")
        if self.allow_train_in_test and self.test_fraction is None:
            raise SmallPoseError("--allow-train-in-test needs --test-fraction (it widens the hash split)")

    def to_dict(self) -> dict:
        mode = "source" if self.test_fraction is None else "hash"
        return {
            "mode": mode,
            "test_fraction": self.test_fraction,
            "seed": self.seed if mode == "hash" else None,
            "allow_train_in_test": self.allow_train_in_test,
            "group": "video (source, video_id) for video sources, else the image",
        }


def group_keys(source: pd.Series, source_image_id: pd.Series, video_id: pd.Series) -> np.ndarray:
    """One key per image naming its group: the video where there is one, else the image."""
    src = source.to_numpy(dtype=object)
    vid = video_id.to_numpy(dtype=object, na_value=None)
    img = source_image_id.to_numpy(dtype=object, na_value="<NA>")
    return np.array(
        [
            natural_key(s, "video", v) if v is not None else natural_key(s, "image", i)
            for s, v, i in zip(src, vid, img)
        ],
        dtype=object,
    )


def unit_hash(keys: np.ndarray, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per key, a pure function of (seed, key)."""
    h = np.fromiter((hash53(natural_key(f"seed={seed}", k)) for k in keys), dtype=np.float64, count=len(keys))
    return h / float(1 << 53)


def assign_splits(images: pd.DataFrame, config: SplitConfig) -> tuple[np.ndarray, dict]:
    """Split per image (``images`` needs source, source_image_id, source_split, video_id).

    Returns the split array and counts worth recording in the manifest.
    """
    ss = images["source_split"].astype("string")
    bad = ss.isna() | ~ss.isin(SOURCE_SPLITS)
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        row = images.iloc[k]
        raise SmallPoseError(
            f"{row['source']}: image {row['source_image_id']}: source split {ss.iloc[k]!r} is not one of "
            f"{', '.join(SOURCE_SPLITS)} (override it with KIND:SPLIT=PATH)"
        )
    if len(images) == 0:
        return np.array([], dtype=object), {"groups": 0}
    keys = group_keys(images["source"], images["source_image_id"], images["video_id"])
    codes, uniq = pd.factorize(keys)
    is_train = (ss == "train").to_numpy(dtype=bool)
    group_train = np.bincount(codes, weights=is_train, minlength=len(uniq)) > 0
    in_train_group = group_train[codes]
    if config.test_fraction is None:
        to_test_group = ~group_train
    else:
        eligible = np.ones(len(uniq), bool) if config.allow_train_in_test else ~group_train
        to_test_group = eligible & (unit_hash(np.asarray(uniq), config.seed) < config.test_fraction)
    split = np.where(to_test_group[codes], "test", "train").astype(object)
    info = {
        "groups": int(len(uniq)),
        "groups_with_source_train": int(group_train.sum()),
        # val/test frames that follow their video into train (rule 1)
        "images_moved_to_train_with_their_video": int((in_train_group & ~is_train).sum()),
        "source_train_images_in_test": int((is_train & (split == "test")).sum()),
    }
    return split, info
