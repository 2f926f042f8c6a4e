"""Ground truth for the evaluator, from a SmallPose store or a COCO-format keypoints json.

Both paths end in one :class:`~smallpose.metrics.arrays.GroundTruth` plus a description
(``source``) that the metrics file records: where the ground truth came from and a
fingerprint, so a leaderboard row can be traced to the exact data it was scored on. A
store's fingerprint is its manifest's (a hash of the table bytes); a json's is its sha256.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from smallpose.metrics.arrays import GroundTruth

from smallpose.errors import InputError, SmallPoseError
from smallpose.store import open_store, sha256_file

#: SmallPose's small-area bound used by keypoint density (SPEC section 3)
S_SMALL = 128.0 * 96.0


@dataclass
class LoadedGroundTruth:
    gt: GroundTruth
    kind: str  # "store" | "coco-json"
    path: str
    split: str | None
    fingerprint: str

    @property
    def K(self) -> int:  # noqa: N802
        return self.gt.num_joints

    def describe(self) -> dict:
        return {"store": self.path, "kind": self.kind, "split": self.split, "fingerprint": self.fingerprint}


def load_groundtruth(path: str | os.PathLike, split: str | None = "test") -> LoadedGroundTruth:
    """A store directory (restricted to ``split``) or a COCO keypoints json (``split`` unused)."""
    p = Path(path)
    if p.is_dir():
        return _from_store(p, split)
    if p.is_file():
        return _from_coco_json(p)
    raise InputError(str(p), None, None, "no such ground truth (expected a store directory or a COCO json)")


def _from_store(path: Path, split: str | None) -> LoadedGroundTruth:
    store = open_store(path).split(split)
    ins = store.instances
    kd = ins.column("kd").to_numpy(zero_copy_only=False)
    gt = GroundTruth(
        image_ids=ins.column("image_id").to_numpy(),
        keypoints=store.keypoints(),
        bbox=store.bboxes(),
        area=ins.column("area").to_numpy(zero_copy_only=False),
        iscrowd=ins.column("iscrowd").to_numpy(zero_copy_only=False),
        num_keypoints=ins.column("num_keypoints").to_numpy(zero_copy_only=False),
        eval_image_ids=store.images.column("image_id").to_numpy(),
        bbox_area=ins.column("bbox_area").to_numpy(zero_copy_only=False),
        kd=np.asarray(kd, dtype=np.float64),  # nulls arrive as NaN
        head_box=store.head_boxes(),
        instance_ids=ins.column("instance_id").to_numpy(),
        extra={"source": np.asarray(ins.column("source").to_pylist(), dtype=object)},
    )
    return LoadedGroundTruth(gt, "store", str(path), split, store.fingerprint)


def keypoint_density(bbox_area: np.ndarray, n_annotated: np.ndarray, K: int) -> np.ndarray:
    """KD = 2 (1 - sigmoid(S / S_small * K / n)); NaN where no point is annotated (SPEC 3)."""
    n = np.asarray(n_annotated, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = bbox_area / S_SMALL * K / n
        kd = 2.0 * (1.0 - 1.0 / (1.0 + np.exp(-z)))
    return np.where(n > 0, kd, np.nan)


def _from_coco_json(path: Path) -> LoadedGroundTruth:
    name = str(path)
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(name, None, None, f"not valid JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise InputError(name, None, "annotations", "not a COCO keypoints file (no 'annotations' list)")
    cats = [c for c in data.get("categories", []) if isinstance(c, dict) and c.get("keypoints")]
    if not cats:
        raise InputError(name, None, "categories", "no category with a 'keypoints' list")
    cat = next((c for c in cats if c.get("id") == 1), cats[0])
    K = len(cat["keypoints"])
    images = data.get("images", [])
    anns = [a for a in data["annotations"] if isinstance(a, dict) and a.get("category_id") == cat["id"]]
    rows = []
    for i, a in enumerate(anns):
        try:
            kp = np.asarray(a["keypoints"], dtype=np.float64).reshape(K, 3)
            bbox = np.asarray(a["bbox"], dtype=np.float64).reshape(4)
            image_id = int(a["image_id"])
        except (KeyError, ValueError, TypeError) as e:
            fld = e.args[0] if isinstance(e, KeyError) else "keypoints/bbox/image_id"
            raise InputError(name, a.get("id", i), fld, f"bad or missing value ({e})") from None
        nk = int(a["num_keypoints"]) if "num_keypoints" in a else int((kp[:, 2] > 0).sum())
        # pycocotools reads 'area' as given (segmentation area for COCO); w*h where absent
        area = float(a["area"]) if "area" in a else float(bbox[2] * bbox[3])
        head = a.get("head_box", a.get("bbox_head"))
        head = np.asarray(head, dtype=np.float64).reshape(4) if head else np.full(4, np.nan)
        rows.append((image_id, kp, bbox, area, bool(a.get("iscrowd", 0)), nk, head, a.get("id", i + 1), a))
    G = len(rows)
    kps = np.stack([r[1] for r in rows]) if G else np.zeros((0, K, 3))
    bbox = np.stack([r[2] for r in rows]) if G else np.zeros((0, 4))
    bbox_area = np.array([float(r[8].get("bbox_area", r[2][2] * r[2][3])) for r in rows])
    n_ann = (kps[..., 2] > 0).sum(1) if G else np.zeros(0)
    kd_given = np.array([_float_or_nan(r[8].get("kd")) for r in rows])
    kd = np.where(np.isfinite(kd_given), kd_given, keypoint_density(bbox_area, n_ann, K)) if G else kd_given
    img_ids = [im["id"] for im in images if isinstance(im, dict) and "id" in im]
    if not img_ids and G:
        raise SmallPoseError(f"{name}: no 'images' list: the evaluated image set is unknown")
    gt = GroundTruth(
        image_ids=np.array([r[0] for r in rows], dtype=np.int64),
        keypoints=kps,
        bbox=bbox,
        area=np.array([r[3] for r in rows]),
        iscrowd=np.array([r[4] for r in rows], dtype=bool),
        num_keypoints=np.array([r[5] for r in rows], dtype=np.int64),
        eval_image_ids=np.asarray(img_ids, dtype=np.int64),
        bbox_area=bbox_area,
        kd=kd,
        head_box=np.stack([r[6] for r in rows]) if G else np.zeros((0, 4)),
        instance_ids=np.array([int(r[7]) for r in rows], dtype=np.int64),
    )
    return LoadedGroundTruth(gt, "coco-json", name, None, sha256_file(path))


def _float_or_nan(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f
