"""HiEve (Human in Events): both annotation layouts in use, under one source root.

Layout on disk (``hieve/``)::

    annotations/train/<seq>.json                 layout (b), sequences 1-19
    annotations/test/<seq>.json                  layout (b), sequences 20-32
    annotations/frames/<split>/<seq>/<frame>.json  layout (a), a few extra frames of some sequences
    images/<seq>/<frame>.jpg                     every frame, <frame> = 6 digits

Layout (b) is PoseTrack17's ``annolist``: every scalar a 1-element list, absent joints
omitted, ``x1..y2`` the person box, ``track_id``; ``image.name`` is the frame's file name
inside ``images/<seq>/``. It has no occlusion flag (``score`` is 1 for every annotated joint).
Layout (a) is one object per frame, every value a string, each part ``"x,y,flag"`` with
flag 0 visible, 1 occluded, -1 not annotated (written as ``"0,0,-1"``). Part ids and
names follow fixtures/README.md (0 nose, 1 chest, 2 r_shoulder, ...). The layout-(a)
frames are not repeated in the sequence files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smallpose.synth.common import native, write_json
from smallpose.synth.scenes import PLANS, Scene

#: layout (a) part names, in HiEve's 0-based part order
PART_NAMES = (
    "Nose", "Chest", "Right Shoulder", "Right Elbow", "Right Wrist", "Left Shoulder", "Left Elbow",
    "Left Wrist", "Right Hip", "Right Knee", "Right Ankle", "Left Hip", "Left Knee", "Left Ankle",
)  # fmt: skip
TEST_FIRST_SEQ = 20


def seq_numbers(scene: Scene) -> np.ndarray:
    """HiEve sequence number of each video: train from 1, test from 20."""
    n_vid = int(scene.img_video.max()) + 1
    test = np.array([scene.img_test[scene.img_video == v][0] for v in range(n_vid)])
    n_tr = int((~test).sum())
    return np.where(test, TEST_FIRST_SEQ + np.arange(n_vid) - n_tr, 1 + np.arange(n_vid))


_POINT = '{"id":[%d],"x":[%d],"y":[%d],"score":[1]}'


def _point_values(vis: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Owner row and flat (id, x, y) integers of every annotated point, in row order.

    The text is then made with one ``%`` per person on a cached template, so no Python
    code runs per point (3M points at full scale).
    """
    p, k = np.nonzero(vis > 0)
    x = np.rint(xy[p, k, 0]).astype(np.int64)
    y = np.rint(xy[p, k, 1]).astype(np.int64)
    return p, np.stack([k, x, y], 1).ravel().tolist()


def write(scene: Scene, root: Path, scale: str) -> dict[int, str]:
    """Write every sequence (and the layout-(a) frames); returns image index -> relative path."""
    xy, vis = native(scene, "hieve")
    seqs = seq_numbers(scene)
    n_a = PLANS[scale]["hieve_a"][0]
    b = scene.fig.box
    W, H = scene.img_w[scene.p_img], scene.img_h[scene.p_img]
    x1, y1 = np.floor(b[:, 0]).astype(np.int64), np.floor(b[:, 1]).astype(np.int64)
    x2 = np.minimum(np.ceil(b[:, 0] + b[:, 2]), W).astype(np.int64)
    y2 = np.minimum(np.ceil(b[:, 1] + b[:, 3]), H).astype(np.int64)
    x1, y1, x2, y2 = x1.tolist(), y1.tolist(), x2.tolist(), y2.tolist()
    owner, vals = _point_values(vis, xy)
    first = np.searchsorted(owner, np.arange(len(vis) + 1)).tolist()
    templates: dict[int, str] = {}
    files: dict[int, str] = {}
    a_frames: set[int] = set()
    for v, seq in enumerate(seqs.tolist()):
        imgs = np.flatnonzero(scene.img_video == v)
        if v == 0 or seq == TEST_FIRST_SEQ:
            a_frames.update(imgs[len(imgs) - n_a :].tolist())
    for v, seq in enumerate(seqs.tolist()):
        imgs = np.flatnonzero(scene.img_video == v)
        split = "test" if seq >= TEST_FIRST_SEQ else "train"
        frames = []
        for i in imgs.tolist():
            name = f"{int(scene.img_frame[i]):06d}.jpg"
            files[i] = f"images/{seq}/{name}"
            rows = range(scene.img_offsets[i], scene.img_offsets[i + 1])
            if i in a_frames:
                _write_frame_a(scene, root / "annotations" / "frames" / split / str(seq), i, rows, xy, vis,
                               (x1, y1, x2, y2))  # fmt: skip
                continue
            rects = []
            for p in rows:
                a, b = first[p], first[p + 1]
                if a == b:
                    continue  # nobody annotates a person with no visible joint
                if b - a not in templates:
                    templates[b - a] = ",".join([_POINT] * (b - a))
                pts = templates[b - a] % tuple(vals[3 * a : 3 * b])
                rects.append(
                    f'{{"x1":[{x1[p]}],"y1":[{y1[p]}],"x2":[{x2[p]}],"y2":[{y2[p]}],'
                    f'"track_id":[{int(scene.p_track[p])}],"annopoints":[{{"point":[{pts}]}}]}}'
                )
            frames.append(f'{{"image":[{{"name":"{name}"}}],"annorect":[{",".join(rects)}]}}')
        path = root / "annotations" / split / f"{seq}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"annolist":[' + ",".join(frames) + "]}", encoding="utf-8")
    return files


def _write_frame_a(scene: Scene, folder: Path, i: int, rows: range, xy, vis, box) -> None:
    x1, y1, x2, y2 = box
    objects = []
    for p in rows:
        if not (vis[p] > 0).any():
            continue
        bnd = {"xmin": str(x1[p]), "ymin": str(y1[p]), "xmax": str(x2[p]), "ymax": str(y2[p])}
        for k, part in enumerate(PART_NAMES):
            if vis[p, k] == 0:
                bnd[part] = "0,0,-1"
            else:
                flag = 0 if vis[p, k] == 2 else 1
                bnd[part] = f"{int(np.rint(xy[p, k, 0]))},{int(np.rint(xy[p, k, 1]))},{flag}"
        objects.append({"name": f"P-{int(scene.p_track[p]) + 1}", "bndbox": bnd})
    frame = int(scene.img_frame[i])
    doc = {"annotation": {"filename": f"{frame:06d}.jpg",
                          "size": {"width": str(int(scene.img_w[i])), "height": str(int(scene.img_h[i]))},
                          "object": objects}}  # fmt: skip
    write_json(folder / f"{frame:06d}.json", doc)
