"""COCO 2017 person keypoints: ``annotations/person_keypoints_{train,val}2017.json``.

Same keys, key order and types as the real files (see fixtures/coco/test_coco.json):
integer keypoints with v in {0, 1, 2}, a polygon ``segmentation`` whose area is the
``area`` (smaller than the box, as COCO's segmentation area is), a few ``iscrowd: 1``
regions with an uncompressed RLE and no keypoints, and some people with
``num_keypoints: 0``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smallpose.skeleton import COCO17_NAMES, COCO_SKELETON_1BASED
from smallpose.synth.common import increasing_ids, native, r2, write_json
from smallpose.synth.scenes import Scene

_LICENSE_NAMES = (
    ("by-nc-sa", "Attribution-NonCommercial-ShareAlike License"),
    ("by-nc", "Attribution-NonCommercial License"),
    ("by-nc-nd", "Attribution-NonCommercial-NoDerivs License"),
    ("by", "Attribution License"),
    ("by-sa", "Attribution-ShareAlike License"),
    ("by-nd", "Attribution-NoDerivs License"),
)
LICENSES = [
    {"url": f"http://creativecommons.org/licenses/{tag}/2.0/", "id": i + 1, "name": name}
    for i, (tag, name) in enumerate(_LICENSE_NAMES)
] + [
    {"url": "http://flickr.com/commons/usage/", "id": 7, "name": "No known copyright restrictions"},
    {"url": "http://www.usa.gov/copyright.shtml", "id": 8, "name": "United States Government Work"},
]
CATEGORIES = [{"supercategory": "person", "id": 1, "name": "person", "keypoints": list(COCO17_NAMES),
               "skeleton": COCO_SKELETON_1BASED}]  # fmt: skip
SPLITS = (("train2017", False), ("val2017", True))


def image_file(split: str, image_id: int) -> str:
    """Path of an image relative to the COCO root (``<split>/<12-digit id>.jpg``)."""
    return f"{split}/{image_id:012d}.jpg"


def _polygons(rng: np.random.Generator, box: np.ndarray, k: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A jittered k-gon inscribed in each box and its shoelace area (a segmentation stand-in)."""
    n = len(box)
    ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
    rad = rng.uniform(0.55, 1.0, (n, k))
    cx, cy = box[:, 0] + box[:, 2] / 2, box[:, 1] + box[:, 3] / 2
    px = r2(cx[:, None] + rad * np.cos(ang) * box[:, 2:3] / 2)
    py = r2(cy[:, None] + rad * np.sin(ang) * box[:, 3:4] / 2)
    area = 0.5 * np.abs(np.sum(px * np.roll(py, -1, 1) - np.roll(px, -1, 1) * py, axis=1))
    return np.stack([px, py], -1).reshape(n, 2 * k), np.round(area, 4)


def _crowd_rle(box: np.ndarray, w: int, h: int) -> tuple[dict, float, list[float]]:
    """An elliptic crowd mask as COCO's uncompressed RLE (column-major run lengths).

    Each image column crosses the ellipse in one run [y0, y1), so the runs are computed
    per column instead of from a full-size mask.
    """
    x, y, bw, bh = box
    cols = np.arange(w) + 0.5
    u = (cols - (x + bw / 2)) / (bw / 2)
    half = np.where(np.abs(u) < 1, (bh / 2) * np.sqrt(np.clip(1 - u * u, 0, 1)), 0.0)
    cy = y + bh / 2
    y0 = np.clip(np.ceil(cy - half - 0.5), 0, h).astype(np.int64)  # pixel centres inside the ellipse
    y1 = np.clip(np.floor(cy + half - 0.5) + 1, 0, h).astype(np.int64)
    ones = np.where(np.abs(u) <= 1, np.maximum(y1 - y0, 0), 0)
    on = np.flatnonzero(ones > 0)
    if len(on) == 0:
        raise ValueError("empty crowd region")
    y0, ones = y0[on], ones[on]
    start = on * h + y0  # flat (column-major) index of each run
    zeros = np.diff(np.concatenate([[0], start])) - np.concatenate([[0], ones[:-1]])
    counts = np.stack([zeros, ones], 1).ravel().tolist()
    counts.append(int(w * h - (start[-1] + ones[-1])))
    ymin, ymax = int(y0.min()), int((y0 + ones).max())
    bbox = [float(on[0]), float(ymin), float(on[-1] + 1 - on[0]), float(ymax - ymin)]
    return {"counts": counts, "size": [h, w]}, float(ones.sum()), bbox


def write(scene: Scene, root: Path, rng: np.random.Generator) -> dict[int, str]:
    """Write both splits under ``root``; returns image index -> path relative to ``root``."""
    img_ids = increasing_ids(rng, scene.n_images, 0, 40)
    ann_ids = increasing_ids(rng, len(scene.p_img) + scene.n_images, 180000, 12)
    xy, vis = native(scene, "coco")
    kp = np.concatenate([np.rint(xy).astype(np.int64) * (vis[..., None] > 0), vis[..., None]], -1)
    kp = kp.reshape(len(kp), -1).tolist()
    nkp = (vis > 0).sum(1).tolist()
    box = r2(scene.fig.box)
    seg, area = _polygons(rng, box)
    seg, area, box_l = seg.tolist(), area.tolist(), box.tolist()
    license_ = rng.integers(1, 9, scene.n_images).tolist()
    captured = rng.integers(1_350_000_000, 1_390_000_000, scene.n_images)
    files: dict[int, str] = {}
    next_ann = 0
    for split, is_test in SPLITS:
        images, anns = [], []
        for i in np.flatnonzero(scene.img_test == is_test).tolist():
            iid = int(img_ids[i])
            files[i] = image_file(split, iid)
            stamp = np.datetime64(int(captured[i]), "s").astype(str).replace("T", " ")
            images.append({
                "license": license_[i], "file_name": f"{iid:012d}.jpg",
                "coco_url": f"http://images.cocodataset.org/{files[i]}",
                "height": int(scene.img_h[i]), "width": int(scene.img_w[i]), "date_captured": stamp,
                "flickr_url": f"http://farm{1 + iid % 9}.staticflickr.com/{iid % 9000}/{iid}_synth_z.jpg",
                "id": iid,
            })  # fmt: skip
            for p in range(scene.img_offsets[i], scene.img_offsets[i + 1]):
                anns.append({
                    "segmentation": [seg[p]], "num_keypoints": nkp[p], "area": area[p], "iscrowd": 0,
                    "keypoints": kp[p], "image_id": iid, "bbox": box_l[p], "category_id": 1,
                    "id": int(ann_ids[next_ann]),
                })  # fmt: skip
                next_ann += 1
            if scene.img_crowd is not None and not np.isnan(scene.img_crowd[i, 0]):
                rle, carea, cbox = _crowd_rle(scene.img_crowd[i], int(scene.img_w[i]), int(scene.img_h[i]))
                anns.append({
                    "segmentation": rle, "num_keypoints": 0, "area": carea, "iscrowd": 1,
                    "keypoints": [0] * 51, "image_id": iid, "bbox": cbox, "category_id": 1,
                    "id": int(ann_ids[next_ann]),
                })  # fmt: skip
                next_ann += 1
        info = {"description": "SmallPose synthetic COCO-format person keypoints", "url": "",
                "version": "1.0", "year": 2017, "contributor": "smallpose synth",
                "date_created": "2017/09/01"}  # fmt: skip
        doc = {"info": info, "licenses": LICENSES, "images": images, "annotations": anns,
               "categories": CATEGORIES}  # fmt: skip
        write_json(root / "annotations" / f"person_keypoints_{split}.json", doc)
    return files
