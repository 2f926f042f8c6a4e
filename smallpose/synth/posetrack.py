"""PoseTrack18: one COCO-like json per video, ``annotations/{train,val}/<vid>_mpii_{train,test}.json``.

Keys and key order as the real files (fixtures/posetrack18/annotations/val/*.json):
``images`` list every frame (``is_labeled`` false for a frame without annotations),
``annotations`` carry ``bbox``, ``bbox_head``, 17x3 ``keypoints`` in PoseTrack order (nose,
head_bottom, head_top, ear placeholders always 0, COCO's shoulders..ankles), v only 0/1,
``track_id`` and ``iscrowd: false``. A whole video sits in one split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smallpose.skeleton import COCO_SKELETON_1BASED, SOURCE_SKELETONS
from smallpose.synth.common import native, r2, write_json
from smallpose.synth.scenes import Scene

CATEGORIES = [
    {
        "supercategory": "person",
        "id": 1,
        "name": "person",
        "keypoints": list(SOURCE_SKELETONS["posetrack"].native),
        "skeleton": COCO_SKELETON_1BASED,
    }
]


def write(scene: Scene, root: Path, rng: np.random.Generator) -> dict[int, str]:
    """Write one json per video under ``root/annotations``; returns image index -> relative path."""
    n_vid = int(scene.img_video.max()) + 1
    vid_nums = np.sort(rng.choice(np.arange(1, 25000), n_vid, replace=False))
    xy, vis = native(scene, "posetrack")
    kp = np.concatenate([np.where(vis[..., None] > 0, r2(xy), 0.0), np.zeros_like(xy[..., :1])], -1)
    kp = kp.astype(object)
    kp[..., 2] = (vis > 0).astype(np.int64).astype(object)  # v stays an integer in the text
    kp[vis == 0, :2] = 0
    kp = kp.reshape(len(kp), -1).tolist()
    nkp = (vis > 0).sum(1).tolist()
    box = r2(scene.fig.box).tolist()
    head = np.rint(scene.fig.head).astype(np.int64).tolist()
    files: dict[int, str] = {}
    for v in range(n_vid):
        imgs = np.flatnonzero(scene.img_video == v)
        test = bool(scene.img_test[imgs[0]])
        split, tag = ("val", "test") if test else ("train", "train")
        vid = f"{int(vid_nums[v]):06d}"
        folder = f"{vid}_mpii_{tag}"
        images, anns = [], []
        for i in imgs.tolist():
            f = int(scene.img_frame[i])
            labeled = not (test and f == len(imgs) - 1)  # val videos end on an unlabeled frame
            image_id = 10_000_000_000 + int(vid_nums[v]) * 10_000 + f
            files[i] = f"images/{split}/{folder}/{f:06d}.jpg"
            ign_x, ign_y = [], []
            if rng.random() < 0.1:  # an ignore region somewhere in the frame
                w, h = int(scene.img_w[i]), int(scene.img_h[i])
                x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
                ign_x, ign_y = [[x0, x0 + 50, x0 + 55, x0 + 5]], [[y0, y0 + 3, y0 + 50, y0 + 45]]
            images.append({
                "has_no_densepose": True, "is_labeled": labeled, "file_name": files[i],
                "nframes": len(imgs), "frame_id": image_id, "vid_id": vid, "ignore_regions_y": ign_y,
                "ignore_regions_x": ign_x, "id": image_id, "width": int(scene.img_w[i]),
                "height": int(scene.img_h[i]), "mask_file": f"mask/{split}/{folder}/{f:06d}.jpg",
            })  # fmt: skip
            if not labeled:
                continue
            for k, p in enumerate(range(scene.img_offsets[i], scene.img_offsets[i + 1])):
                if nkp[p] == 0:
                    continue
                anns.append({
                    "bbox_head": head[p], "keypoints": kp[p], "track_id": int(scene.p_track[p]),
                    "image_id": image_id, "bbox": box[p], "scores": [], "category_id": 1,
                    "id": image_id * 100 + k, "iscrowd": False, "num_keypoints": nkp[p],
                })  # fmt: skip
        doc = {"categories": CATEGORIES, "images": images, "annotations": anns}
        write_json(root / "annotations" / split / f"{folder}.json", doc)
    return files
