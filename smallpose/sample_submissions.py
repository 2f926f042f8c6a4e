"""Sample submissions made from a store's ground truth, for the demo and for tests.

Each is ground truth perturbed in a known way (Gaussian noise scaled by the person's box
height, missed persons, false positives), so the scores it gets are predictable in
direction: more noise must score lower. They are labelled for what they are; they are not
model outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smallpose.skeleton import COCO17_INDEX
from smallpose.store import Store


@dataclass(frozen=True)
class Perturbation:
    name: str
    noise: float  # keypoint noise std as a fraction of the GT box height
    miss_rate: float = 0.0  # fraction of persons with no detection
    fp_rate: float = 0.0  # false positives per GT, placed at random in the image
    with_sigmas: bool = False  # attach keypoint_sigmas (the true noise std, in pixels)
    coco17: bool = False  # submit COCO's 17 points only, in COCO order (the paper's Setting A)

    @property
    def run_name(self) -> str:
        return f"{self.name}-coco17" if self.coco17 else self.name

    @property
    def setting(self) -> str:
        return "A" if self.coco17 else "B"


DEMO_PERTURBATIONS = (
    Perturbation("gt-noise-2pct", 0.02, with_sigmas=True),
    Perturbation("gt-noise-5pct-miss10", 0.05, miss_rate=0.10, fp_rate=0.05),
    Perturbation("gt-noise-5pct-miss10", 0.05, miss_rate=0.10, fp_rate=0.05, coco17=True),
    Perturbation("gt-noise-10pct-miss20", 0.10, miss_rate=0.20, fp_rate=0.10),
)


def perturbed_submission(store: Store, p: Perturbation, seed: int = 0) -> list[dict]:
    """A COCO-results list for every non-crowd annotated instance of ``store``.

    With ``p.coco17`` the records carry COCO's 17 points in COCO order, as a model trained on
    COCO would submit them (scored under the ``coco17`` protocol).
    """
    rng = np.random.default_rng(seed)
    ins = store.instances
    kps = store.keypoints()
    if p.coco17:
        kps = kps[:, COCO17_INDEX]
    boxes = store.bboxes()
    image_ids = np.asarray(ins["image_id"].to_numpy(), dtype=np.int64)
    keep = ~np.asarray(ins["iscrowd"].to_numpy(zero_copy_only=False), dtype=bool)
    keep &= np.asarray(ins["num_keypoints"].to_numpy(), dtype=np.int64) > 0
    keep &= rng.random(len(keep)) >= p.miss_rate
    idx = np.flatnonzero(keep)
    h = np.maximum(boxes[idx, 3], 1.0)
    std = (p.noise * h)[:, None]
    xy = kps[idx, :, :2]
    centre = boxes[idx, None, :2] + boxes[idx, None, 2:] / 2
    base = np.where(kps[idx, :, 2:3] > 0, xy, centre)  # unannotated points: guess the box centre
    noisy = base + rng.normal(size=xy.shape) * std[..., None]
    conf = np.clip(1.0 - p.noise * 5 + rng.normal(0, 0.05, size=(len(idx), kps.shape[1])), 0.05, 1.0)
    scores = np.clip(conf.mean(axis=1) + rng.normal(0, 0.02, len(idx)), 0.01, 1.0)
    out = []
    for j, i in enumerate(idx):
        rec = {
            "image_id": int(image_ids[i]),
            "category_id": 1,
            "keypoints": np.column_stack([noisy[j], conf[j]]).round(2).ravel().tolist(),
            "score": round(float(scores[j]), 4),
        }
        if p.with_sigmas:
            rec["keypoint_sigmas"] = [round(float(std[j, 0]), 3) + 0.001] * kps.shape[1]
        out.append(rec)
    out.extend(_false_positives(store, p, rng, n=int(round(p.fp_rate * len(idx)))))
    return out


def _false_positives(store: Store, p: Perturbation, rng: np.random.Generator, n: int) -> list[dict]:
    if n == 0:
        return []
    images = store.images
    ids = np.asarray(images["image_id"].to_numpy(), dtype=np.int64)
    w = np.maximum(np.asarray(images["width"].to_numpy(zero_copy_only=False), dtype=float), 64)
    hgt = np.maximum(np.asarray(images["height"].to_numpy(zero_copy_only=False), dtype=float), 64)
    pick = rng.integers(0, len(ids), n)
    out = []
    k = len(COCO17_INDEX) if p.coco17 else store.keypoints().shape[1]
    for i in pick:
        size = min(rng.uniform(20, 120), w[i] / 2, hgt[i])
        x0, y0 = rng.uniform(0, w[i] - size / 2), rng.uniform(0, hgt[i] - size)
        pts = np.column_stack(
            [x0 + rng.uniform(0, size / 2, k), y0 + rng.uniform(0, size, k), rng.uniform(0.05, 0.4, k)]
        )
        out.append(
            {
                "image_id": int(ids[i]),
                "category_id": 1,
                "keypoints": pts.round(2).ravel().tolist(),
                "score": round(float(rng.uniform(0.01, 0.3)), 4),
            }
        )
    return out


def write_submission(records: list[dict], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(records))
    return path
