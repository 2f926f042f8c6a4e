"""Helpers the five writers share: native keypoint subsets, ids, deterministic files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from smallpose.skeleton import INDEX, SOURCE_SKELETONS
from smallpose.synth.scenes import Scene


def native(scene: Scene, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, K, 2) coordinates and (N, K) COCO-convention visibility in the source's own order.

    Points the source does not annotate (PoseTrack's ear placeholders) come back with
    visibility 0, so every writer sees the same per-source subset of one body.
    """
    sk = SOURCE_SKELETONS[source]
    cols = np.array([INDEX[u] if u is not None else -1 for u in sk.unified])
    xy = scene.fig.xy[:, np.maximum(cols, 0)]
    vis = scene.fig.vis[:, np.maximum(cols, 0)].copy()
    vis[:, cols < 0] = 0
    return xy, vis


def increasing_ids(rng: np.random.Generator, n: int, start: int, max_gap: int) -> np.ndarray:
    """Unique, increasing, irregular ids (real datasets' ids are not 0..n-1)."""
    return start + np.cumsum(rng.integers(1, max_gap + 1, n))


def write_json(path: Path, obj: object) -> None:
    """Compact JSON, as the datasets ship it; dict order is insertion order, so bytes are stable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # json.dumps, not json.dump: only the one-shot path uses the C encoder (10x faster)
    path.write_text(json.dumps(obj, separators=(",", ":")), encoding="utf-8")


def r2(a: np.ndarray) -> np.ndarray:
    """Round to 2 decimals (and turn -0.0 into 0.0 so the text is stable)."""
    return np.round(a, 2) + 0.0
