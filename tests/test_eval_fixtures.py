"""Helpers for the eval tests (no tests here): a tiny SmallPose store built from hand-made tables,
its COCO-format twin and noisy predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from smallpose.skeleton import COCO17_INDEX, COCO17_NAMES
from smallpose.store import write_store

S_SMALL = 128.0 * 96.0


def people(rng: np.random.Generator, n_images: int = 12, per_image: int = 4) -> dict:
    """Random people of every size bucket; some crowd, some with no point, some with head boxes."""
    rows = []
    for img in range(n_images):
        for _ in range(int(rng.integers(0, per_image + 1))):
            h = float(rng.choice([40.0, 90.0, 150.0, 300.0]) * rng.uniform(0.8, 1.2))
            w = h * rng.uniform(0.3, 0.7)
            x, y = rng.uniform(0, 600), rng.uniform(0, 400)
            kp = np.zeros((21, 3))
            kp[:, 0] = x + rng.uniform(0, w, 21)
            kp[:, 1] = y + rng.uniform(0, h, 21)
            kp[:, 2] = rng.choice([0, 1, 2], 21, p=[0.3, 0.2, 0.5])
            if rng.random() < 0.1:
                kp[:, 2] = 0
            kp[kp[:, 2] == 0] = 0.0
            head = [x + w * 0.3, y, w * 0.4, h * 0.15] if rng.random() < 0.6 else None
            rows.append(dict(image=img, bbox=[x, y, w, h], kp=kp, crowd=bool(rng.random() < 0.05), head=head))
    return {"n_images": n_images, "rows": rows}


def build_store(path: Path, data: dict) -> Path:
    n_img, rows = data["n_images"], data["rows"]
    image_ids = [1000 + 7 * i for i in range(n_img)]
    images = pa.table({
        "image_id": image_ids, "source": ["coco"] * n_img, "source_image_id": [str(i) for i in range(n_img)],
        "split": ["test"] * n_img, "file_name": [f"{i}.jpg" for i in range(n_img)], "width": [800] * n_img,
        "height": [600] * n_img, "crowd_index": [None] * n_img,
        "num_instances": [sum(r["image"] == i for r in rows) for i in range(n_img)],
        "video_id": [None] * n_img, "frame_index": [None] * n_img,
    })  # fmt: skip
    n = len(rows)
    bbox_area = [r["bbox"][2] * r["bbox"][3] for r in rows]
    n_kp = [int((r["kp"][:, 2] > 0).sum()) for r in rows]
    kd = [2 * (1 - 1 / (1 + np.exp(-(a / S_SMALL) * 21 / k))) if k else None
          for a, k in zip(bbox_area, n_kp)]  # fmt: skip
    bucket = ["S" if a < S_SMALL else "M" if a < 256 * 192 else "L" for a in bbox_area]
    kd_class = [
        None if b != "S" or d is None else "sparse" if d < 0.35 else "moderate" if d < 0.95 else "dense"
        for b, d in zip(bucket, kd)
    ]
    instances = pa.table({
        "instance_id": list(range(1, n + 1)), "image_id": [image_ids[r["image"]] for r in rows],
        "source": ["coco"] * n, "source_ann_id": [str(i) for i in range(n)], "split": ["test"] * n,
        "bbox": [r["bbox"] for r in rows], "bbox_area": bbox_area, "area": bbox_area,
        "source_area": [None] * n,
        "iscrowd": [r["crowd"] for r in rows], "keypoints": [r["kp"].tolist() for r in rows],
        "num_keypoints": n_kp, "source_num_keypoints": [21] * n, "size_bucket": bucket, "kd": kd,
        "kd_class": kd_class, "head_box": [r["head"] for r in rows], "track_id": [None] * n,
    })  # fmt: skip
    return write_store(path, images, instances, {"build": "test"})


def coco_json(path: Path, data: dict) -> Path:
    """The store's COCO twin: 17 COCO points, area = bbox area, num_keypoints recounted on them."""
    image_ids = [1000 + 7 * i for i in range(data["n_images"])]
    anns = []
    for i, r in enumerate(data["rows"]):
        kp = r["kp"][COCO17_INDEX]
        anns.append({
            "id": i + 1, "image_id": image_ids[r["image"]], "category_id": 1, "bbox": r["bbox"],
            "area": r["bbox"][2] * r["bbox"][3], "iscrowd": int(r["crowd"]), "keypoints": kp.ravel().tolist(),
            "num_keypoints": int((kp[:, 2] > 0).sum()),
        })  # fmt: skip
    doc = {
        "images": [{"id": i, "width": 800, "height": 600, "file_name": f"{i}.jpg"} for i in image_ids],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17_NAMES), "skeleton": []}],
    }
    path.write_text(json.dumps(doc))
    return path


def predictions(rng: np.random.Generator, data: dict, k: int = 21, noise: float = 0.06, sigmas: bool = False):
    """Noisy copies of most people, a few misses and false positives, random scores."""
    image_ids = [1000 + 7 * i for i in range(data["n_images"])]
    out = []
    for r in data["rows"]:
        if rng.random() < 0.15:
            continue
        h = r["bbox"][3]
        kp = r["kp"].copy()
        kp[:, 0] = np.where(kp[:, 2] > 0, kp[:, 0], r["bbox"][0] + r["bbox"][2] / 2)
        kp[:, 1] = np.where(kp[:, 2] > 0, kp[:, 1], r["bbox"][1] + h / 2)
        kp[:, :2] += rng.normal(0, noise * h, (21, 2))
        kp[:, 2] = rng.uniform(0.1, 1, 21)
        if k == 17:
            kp = kp[COCO17_INDEX]
        rec = {"image_id": image_ids[r["image"]], "category_id": 1, "keypoints": kp.ravel().tolist(),
               "score": float(rng.uniform(0.05, 1))}  # fmt: skip
        if sigmas:
            rec["keypoint_sigmas"] = [noise * h * float(rng.uniform(0.7, 1.4)) for _ in range(k)]
        out.append(rec)
    for _ in range(5):  # false positives
        x, y = rng.uniform(0, 600, 2)
        kp = np.column_stack([x + rng.uniform(0, 40, k), y + rng.uniform(0, 90, k), rng.uniform(0, 1, k)])
        rec = {"image_id": int(rng.choice(image_ids)), "category_id": 1, "keypoints": kp.ravel().tolist(),
               "score": float(rng.uniform(0, 0.5))}  # fmt: skip
        if sigmas:
            rec["keypoint_sigmas"] = [5.0] * k
        out.append(rec)
    return out
