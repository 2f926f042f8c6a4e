"""AI Challenger: ``keypoint_{train,validation}_annotations_*.json``, native lists.

One entry per image: ``{url, image_id (sha1 stem), keypoint_annotations {humanN: [x, y, v] * 14},
human_annotations {humanN: [x1, y1, x2, y2]}}``, integer pixels, v 1 visible / 2 occluded /
3 not labelled at (0, 0), human keys in no sorted order (as in the real files).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from smallpose.synth.common import native, write_json
from smallpose.synth.scenes import Scene

FILES = (("keypoint_train_annotations_20170909.json", False, "train"),
         ("keypoint_validation_annotations_20170911.json", True, "validation"))  # fmt: skip


def write(scene: Scene, root: Path, rng: np.random.Generator, seed: int) -> dict[int, str]:
    """Write both files under ``root``; images go to ``<images dir>/<image_id>.jpg``."""
    xy, vis = native(scene, "aic")
    code = np.choose(vis, [3, 2, 1]).astype(np.int64)  # COCO 0/1/2 -> AIC 3/2/1
    pts = np.where(vis[..., None] > 0, np.rint(xy), 0).astype(np.int64)
    kp = np.concatenate([pts, code[..., None]], -1).reshape(len(pts), -1).tolist()
    b = scene.fig.box
    x1, y1 = np.floor(b[:, 0]), np.floor(b[:, 1])
    x2, y2 = (
        np.minimum(np.ceil(b[:, 0] + b[:, 2]), scene.img_w[scene.p_img]),
        np.minimum(np.ceil(b[:, 1] + b[:, 3]), scene.img_h[scene.p_img]),
    )
    boxes = np.stack([x1, y1, x2, y2], -1).astype(np.int64).tolist()
    files: dict[int, str] = {}
    for name, is_test, img_dir in FILES:
        entries = []
        for i in np.flatnonzero(scene.img_test == is_test).tolist():
            image_id = hashlib.sha1(f"smallpose-synth-aic-{seed}-{i}".encode()).hexdigest()
            files[i] = f"{img_dir}/{image_id}.jpg"
            rows = list(range(scene.img_offsets[i], scene.img_offsets[i + 1]))
            order = rng.permutation(len(rows)).tolist()
            entries.append(
                {
                    "url": f"http://www.example.com/aic/{image_id[:8]}.jpg",
                    "image_id": image_id,
                    "keypoint_annotations": {f"human{j + 1}": kp[rows[j]] for j in order},
                    "human_annotations": {f"human{j + 1}": boxes[rows[j]] for j in order},
                }
            )
        write_json(root / name, entries)
    return files
