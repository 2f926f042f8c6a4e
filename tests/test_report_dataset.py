"""Dataset figures from a small hand-made store with synthetic images drawn in the test."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image, ImageDraw
from smallpose.reports.dataset_figures import write_dataset_figures
from smallpose.reports.plotting import SIDE_COLORS

from smallpose.skeleton import COCO17_NAMES, INDEX, NUM_KEYPOINTS
from smallpose.store import IMAGES_SCHEMA, INSTANCES_SCHEMA, open_store, write_store

# a standing figure in a unit box (x right, y down): name -> (u, v)
POSE = {
    "head_top": (0.5, 0.0), "nose": (0.5, 0.08), "left_eye": (0.55, 0.06), "right_eye": (0.45, 0.06),
    "left_ear": (0.6, 0.08), "right_ear": (0.4, 0.08), "head_bottom": (0.5, 0.14), "chest": (0.5, 0.22),
    "left_shoulder": (0.7, 0.2), "right_shoulder": (0.3, 0.2), "left_elbow": (0.8, 0.38),
    "right_elbow": (0.2, 0.38), "left_wrist": (0.85, 0.52), "right_wrist": (0.15, 0.52),
    "pelvis": (0.5, 0.5), "left_hip": (0.62, 0.52), "right_hip": (0.38, 0.52), "left_knee": (0.64, 0.75),
    "right_knee": (0.36, 0.75), "left_ankle": (0.65, 0.98), "right_ankle": (0.35, 0.98),
}  # fmt: skip


def _kd(area: float, k: int, n: int) -> float | None:
    return None if n == 0 else 2 * (1 - 1 / (1 + math.exp(-(area / (128 * 96)) * (k / n))))


def _instance(iid, image_id, source, box, names, k=17):
    x, y, w, h = box
    kps = np.zeros((NUM_KEYPOINTS, 3))
    for n in names:
        u, v = POSE[n]
        kps[INDEX[n]] = (x + u * w, y + v * h, 2)
    area = w * h
    bucket = "S" if area < 128 * 96 else "M" if area < 256 * 192 else "L"
    kd = _kd(area, k, len(names))
    kd_class = None
    if bucket == "S" and kd is not None:
        kd_class = "sparse" if kd < 0.35 else "moderate" if kd < 0.95 else "dense"
    return {
        "instance_id": iid, "image_id": image_id, "source": source, "source_ann_id": str(iid),
        "split": "test", "bbox": [float(v) for v in box], "bbox_area": area, "area": area,
        "source_area": None, "iscrowd": False, "keypoints": kps.tolist(), "num_keypoints": len(names),
        "source_num_keypoints": k, "size_bucket": bucket, "kd": kd, "kd_class": kd_class,
        "head_box": None, "track_id": None,
    }  # fmt: skip


ALL = list(POSE)
C17 = list(COCO17_NAMES)
COCO_FEW = ["nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder"]


def make_store(tmp_path, with_images=True):
    """Two coco images (drawn, on disk) and one mpii image (never on disk)."""
    img_dir = tmp_path / "images"
    img_dir.mkdir()
    boxes = {
        # S moderate (KD .93), S moderate (.89), M, S dense (.98)
        1: [
            (20, 30, 30, 60, C17),
            (80, 20, 20, 40, COCO_FEW),
            (300, 100, 90, 160, C17),
            (120, 200, 14, 30, C17),
        ],
        # L, M, S sparse (100x110 = 11000 < 12288 with 3 points: KD .013)
        2: [(40, 40, 240, 400, C17), (320, 60, 100, 180, C17[:10]), (500, 300, 100, 110, C17[:3])],
    }
    images, instances, iid = [], [], 0
    for image_id, inst in boxes.items():
        name = f"img{image_id}.png"
        if with_images:
            im = Image.new("RGB", (640, 480), (120, 120, 120))
            d = ImageDraw.Draw(im)
            for x, y, w, h, _ in inst:
                d.rectangle([x, y, x + w, y + h], fill=(170, 160, 150))
            im.save(img_dir / name)
        row = {"image_id": image_id, "source": "coco", "source_image_id": str(image_id), "split": "test",
               "file_name": name, "width": 640, "height": 480, "crowd_index": 0.1 * image_id,
               "num_instances": len(inst), "video_id": None, "frame_index": None}  # fmt: skip
        images.append(row)
        for x, y, w, h, names in inst:
            iid += 1
            instances.append(_instance(iid, image_id, "coco", (x, y, w, h), names))
    images.append({"image_id": 3, "source": "mpii", "source_image_id": "3", "split": "test",
                   "file_name": "missing.jpg", "width": 640, "height": 480, "crowd_index": 0.45,
                   "num_instances": 2, "video_id": None, "frame_index": None})  # fmt: skip
    instances.append(_instance(100, 3, "mpii", (10, 10, 25, 50), ALL[:8], k=16))
    instances.append(_instance(101, 3, "mpii", (100, 10, 150, 300), ALL, k=16))
    manifest = {
        "sources": [{"kind": "coco", "root": str(img_dir)}, {"kind": "mpii", "root": str(tmp_path / "nope")}]
    }
    out = write_store(
        tmp_path / "store",
        pa.Table.from_pylist(images, schema=IMAGES_SCHEMA),
        pa.Table.from_pylist(instances, schema=INSTANCES_SCHEMA),
        manifest,
    )
    return open_store(out)


def _color_pixels(png, hex_color, tol=40):
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    with Image.open(png) as im:
        px = np.asarray(im.convert("RGB"), dtype=float)
    return int((np.abs(px - rgb).max(axis=2) < tol).sum())


def test_store_helper_buckets(tmp_path):
    store = make_store(tmp_path)
    df = store.instances_df()
    # hand-checked: 30x60=1800 S, 90x160=14400 M, 240x400=96000 L
    got = dict(zip(df["instance_id"], df["size_bucket"]))
    assert got[1] == "S" and got[3] == "M" and got[5] == "L"
    assert set(df.loc[df["size_bucket"] == "S", "kd_class"]) == {"sparse", "moderate", "dense"}


def test_dataset_figures_with_images(tmp_path):
    store = make_store(tmp_path)
    notes: list[str] = []
    paths = write_dataset_figures(store, tmp_path / "figs", notes=notes)
    assert [p.name for p in paths] == ["box_area.png", "crowd_index.png", "kd_small.png", "samples.png"]
    assert notes == []
    for p in paths:
        with Image.open(p) as im:
            assert im.width > 400 and im.height > 250
            assert np.asarray(im.convert("L"), dtype=float).std() > 10
    # the grid draws left limbs blue and right limbs orange: both colours must be there
    assert _color_pixels(paths[-1], SIDE_COLORS["left"]) > 30
    assert _color_pixels(paths[-1], SIDE_COLORS["right"]) > 30


def test_dataset_figures_without_images(tmp_path, capsys):
    store = make_store(tmp_path, with_images=False)
    paths = write_dataset_figures(store, tmp_path / "figs")
    assert [p.name for p in paths] == ["box_area.png", "crowd_index.png", "kd_small.png"]
    assert "samples.png skipped: no image files found" in capsys.readouterr().err


def test_report_embeds_dataset_figures(tmp_path):
    from test_report import RUNS, write_runs

    from smallpose.cli import main

    store = make_store(tmp_path)
    metrics = write_runs(tmp_path / "m", runs=RUNS[:2])
    out = tmp_path / "out"
    assert main(["report", *map(str, metrics), "--out", str(out), "--store", str(store.path)]) == 0
    html = (out / "leaderboard.html").read_text()
    assert html.count('<img src="data:image/png;base64,') == 3 + 4
    assert (out / "figures" / "dataset" / "samples.png").is_file()
    assert "(figures/dataset/box_area.png)" in (out / "leaderboard.md").read_text()


@pytest.mark.parametrize("bad", ["nostore"])
def test_report_bad_store_one_line(tmp_path, capsys, bad):
    from test_report import RUNS, write_runs

    from smallpose.cli import main

    metrics = write_runs(tmp_path / "m", runs=RUNS[:1])
    assert (
        main(["report", str(metrics[0]), "--out", str(tmp_path / "o"), "--store", str(tmp_path / bad)]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a SmallPose store" in err
