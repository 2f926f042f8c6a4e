"""MPII: the official ``mpii_human_pose_v1_u12_1.mat`` (struct ``RELEASE``), via scipy's savemat.

The file carries the irregularities a loader of the real release has to take, so that
``scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)`` reads it back the way
the real file reads:

* one-person images: ``annorect`` is a 1x1 struct array, a bare struct once squeezed;
* people with a single annotated point: ``annopoints.point`` is a bare struct too;
* ``is_visible`` as 0/1 numbers, as '0'/'1' strings (a fifth of the images) and, rarely, empty;
* test images (``img_train == 0``) whose ``annorect`` has only ``scale`` and ``objpos``;
* points listed in no particular order (``id`` says which joint), absent joints omitted;
* coordinates 1-based (MATLAB), head rectangle ``x1, y1, x2, y2``, ``scale`` = height / 200 px.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from scipy.io import savemat

from smallpose.synth.common import increasing_ids, native
from smallpose.synth.scenes import Scene

FILE_NAME = "mpii_human_pose_v1_u12_1.mat"
_TRAIN_RECT = ("x1", "y1", "x2", "y2", "annopoints", "scale", "objpos")
_TEST_RECT = ("scale", "objpos")
_EMPTY = np.zeros((0, 0))


def _structs(records: list[dict], fields: tuple[str, ...]) -> np.ndarray:
    """A 1xN MATLAB struct array (numpy record array of objects) from dicts."""
    arr = np.empty((1, len(records)), dtype=[(f, object) for f in fields])
    for f in fields:
        col = np.empty(len(records), dtype=object)
        for j, r in enumerate(records):
            col[j] = r[f]
        arr[f][0] = col
    return arr


def _deterministic_header(data: bytes, seed: int) -> bytes:
    """savemat stamps the creation time in the 116-byte text header; fix it so bytes repeat."""
    text = f"MATLAB 5.0 MAT-file, Platform: posix, Created by: smallpose synth (seed {seed})"
    return text.encode("ascii").ljust(116, b" ") + data[116:]


def write(scene: Scene, root: Path, rng: np.random.Generator, seed: int) -> dict[int, str]:
    """Write ``root/mpii_human_pose_v1_u12_1.mat``; returns image index -> relative image path."""
    names = increasing_ids(rng, scene.n_images, 1_000_000, 60000)
    files = {i: f"images/{int(n):09d}.jpg" for i, n in enumerate(names)}
    xy, vis = native(scene, "mpii")
    xy1 = np.rint(xy) + 1.0  # MATLAB's 1-based pixels
    box, head = scene.fig.box, np.rint(scene.fig.head) + 1.0
    string_vis = rng.random(scene.n_images) < 0.2
    string_vis[:2] = (False, True)
    empty_vis = rng.random(vis.shape) < 0.02
    empty_vis[0, :] = False
    if scene.n_images > 2 and not scene.img_test[2]:  # at least one empty is_visible
        p = scene.img_offsets[2]
        empty_vis[p, np.flatnonzero(vis[p] > 0)[:1]] = True
    if scene.n_images > 1 and not scene.img_test[1]:  # at least one person with a one-point list
        p = scene.img_offsets[1]
        vis[p, np.flatnonzero(vis[p] > 0)[1:]] = 0
    annolist, single = [], []
    for i in range(scene.n_images):
        rows = range(scene.img_offsets[i], scene.img_offsets[i + 1])
        rects = []
        for p in rows:
            objpos = {
                "x": float(np.rint(box[p, 0] + box[p, 2] / 2) + 1),
                "y": float(np.rint(box[p, 1] + box[p, 3] / 2) + 1),
            }
            rect = {"scale": float(np.round(box[p, 3] / 200.0, 4)), "objpos": objpos}
            if not scene.img_test[i]:
                pts = []
                for k in rng.permutation(np.flatnonzero(vis[p] > 0)).tolist():
                    v = int(vis[p, k] == 2)
                    shown = _EMPTY if empty_vis[p, k] else (str(v) if string_vis[i] else v)
                    pts.append(
                        {"id": k, "x": float(xy1[p, k, 0]), "y": float(xy1[p, k, 1]), "is_visible": shown}
                    )
                hx, hy, hw, hh = head[p]
                point = _structs(pts, ("id", "x", "y", "is_visible"))
                rect.update({"x1": float(hx), "y1": float(hy), "x2": float(hx + hw), "y2": float(hy + hh),
                             "annopoints": {"point": point}})  # fmt: skip
            rects.append(rect)
        fields = _TEST_RECT if scene.img_test[i] else _TRAIN_RECT
        annolist.append({"image": {"name": files[i].split("/")[-1]}, "annorect": _structs(rects, fields),
                         "frame_sec": _EMPTY, "vididx": _EMPTY})  # fmt: skip
        n = len(rects)
        single.append(np.arange(1, n + 1, dtype=np.float64).reshape(-1, 1) if n <= 2 and not scene.img_test[i]
                      else _EMPTY)  # fmt: skip
    cells = np.empty((scene.n_images, 1), dtype=object)
    for i, s in enumerate(single):
        cells[i, 0] = s
    act = _structs([{"cat_name": _EMPTY, "act_name": _EMPTY, "act_id": -1}] * scene.n_images,
                   ("cat_name", "act_name", "act_id"))  # fmt: skip
    video_list = np.empty((1, 3), dtype=object)
    video_list[0, :] = ["synthVid000", "synthVid001", "synthVid002"]
    release = {
        "annolist": _structs(annolist, ("image", "annorect", "frame_sec", "vididx")),
        "img_train": (~scene.img_test).astype(np.uint8).reshape(1, -1),
        "version": "12",
        "single_person": cells,
        "act": act.T,
        "video_list": video_list,
    }
    buf = io.BytesIO()
    savemat(buf, {"RELEASE": release}, do_compression=False, oned_as="row")
    root.mkdir(parents=True, exist_ok=True)
    (root / FILE_NAME).write_bytes(_deterministic_header(buf.getvalue(), seed))
    return files
