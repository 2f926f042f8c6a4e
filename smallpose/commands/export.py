"""`smallpose export`: a store split as COCO keypoint ground truth.

So pycocotools' ``COCO``/``COCOeval``, mmpose's ``CocoDataset`` and any hand-rolled script
can use the store as it is. Ids are the store's stable 53-bit ids (exact in JSON readers
that parse numbers as doubles); the store's extra fields (source, kd, size bucket, ...) ride
along on each record, which COCO readers ignore.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from smallpose.atomic import atomic_open

HELP = "write a store split as COCO-format keypoint ground truth (pycocotools / mmpose)"
EXAMPLE = "smallpose export smallpose_store --split test --out gt.json --keypoints coco17"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("store", metavar="STORE", help="a store directory written by `smallpose build`")
    p.add_argument("--split", default="test", help="split to export (default test); 'all' for every split")
    p.add_argument("--out", required=True, metavar="JSON", help="output file (written atomically)")
    p.add_argument(
        "--keypoints",
        choices=("full", "coco17"),
        default="full",
        help="full: the 21-point skeleton; coco17: COCO's 17 points in COCO order (default full)",
    )
    p.add_argument(
        "--area",
        choices=("bbox", "source"),
        default="bbox",
        help="annotation area (the OKS scale): bbox = w*h, the benchmark's; source = the source's own "
        "(COCO segmentation area), falling back to w*h where a source has none (default bbox)",
    )
    p.add_argument(
        "--prefix-source",
        action="store_true",
        help="write file_name as <source>/<file_name>, for one image folder holding every source",
    )


def to_coco(store: Any, keypoints: str = "full", area: str = "bbox", prefix_source: bool = False) -> dict:
    """The COCO dict for a (split-restricted) store; vectorised apart from the final records."""
    import numpy as np

    from smallpose import __version__
    from smallpose.skeleton import (
        COCO17_INDEX,
        COCO17_NAMES,
        COCO_SKELETON_1BASED,
        KEYPOINT_NAMES,
        SKELETON_EDGES,
    )

    im = store.images_df()
    ins = store.instances_df()
    kp = store.keypoints()
    box = store.bboxes()
    if keypoints == "coco17":
        kp, names, skeleton = kp[:, COCO17_INDEX], list(COCO17_NAMES), [list(e) for e in COCO_SKELETON_1BASED]
    else:
        names, skeleton = list(KEYPOINT_NAMES), [[a + 1, b + 1] for a, b in SKELETON_EDGES]
    num_kp = (kp[:, :, 2] > 0).sum(axis=1)
    ar = ins["bbox_area"].to_numpy(float)
    if area == "source":
        src = ins["source_area"].to_numpy(float)
        ar = np.where(np.isfinite(src), src, ar)
    files = im["file_name"].astype(str)
    if prefix_source:
        files = im["source"].astype(str) + "/" + files
    images = [
        {"id": int(i), "file_name": f, "width": int(w), "height": int(h), "source": s, "split": sp}
        for i, f, w, h, s, sp in zip(
            im["image_id"], files, im["width"], im["height"], im["source"], im["split"]
        )
    ]
    kd = ins["kd"].to_numpy(float)
    anns = [
        {
            "id": int(aid), "image_id": int(iid), "category_id": 1, "bbox": b.tolist(), "area": float(a),
            "iscrowd": int(c), "keypoints": k.ravel().tolist(), "num_keypoints": int(n),
            "source": s, "size_bucket": sb, "kd": None if not np.isfinite(d) else float(d),
        }
        for aid, iid, b, a, c, k, n, s, sb, d in zip(
            ins["instance_id"], ins["image_id"], box, ar, ins["iscrowd"], kp, num_kp, ins["source"],
            ins["size_bucket"], kd,
        )
    ]  # fmt: skip
    return {
        "info": {
            "description": "SmallPose ground truth exported from a SmallPose store",
            "version": str(__version__),
            "store_fingerprint": store.fingerprint,
            "keypoints": keypoints,
            "area": area,
        },
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": 1, "name": "person", "supercategory": "person", "keypoints": names, "skeleton": skeleton}
        ],
    }


def run(args: argparse.Namespace) -> int:
    from smallpose.store import open_store

    store = open_store(args.store)
    if args.split != "all":
        store = store.split(args.split)
    coco = to_coco(store, args.keypoints, args.area, args.prefix_source)
    out = Path(args.out)
    with atomic_open(out) as f:
        json.dump(coco, f, separators=(",", ":"))
    print(f"wrote {out}: {len(coco['images'])} images, {len(coco['annotations'])} annotations ({args.split})")
    return 0
