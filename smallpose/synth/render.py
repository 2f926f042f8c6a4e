"""JPEG pixels for a synthetic corpus: a textured background and articulated figures.

The images exist so that training, sample grids and the demo have something to look at
that agrees with the annotations: each person is painted from the same 21 points the
annotations were cut from (limbs as thick lines, torso as a polygon, head as an ellipse),
parts hidden by an occluder are left out, nearer people (lower box edge) are painted last.
Everything comes from a seeded generator and PIL's encoder is deterministic, so the same
seed gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from smallpose.progress import Progress
from smallpose.skeleton import INDEX, SKELETON_EDGES
from smallpose.synth.scenes import Scene

_TORSO = [INDEX[n] for n in ("left_shoulder", "right_shoulder", "right_hip", "left_hip")]
_TOP, _BOTTOM = INDEX["head_top"], INDEX["head_bottom"]


def background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """Noise and a gradient at 1/8 resolution, upsampled, plus a few flat shapes."""
    lw, lh = max(w // 8, 2), max(h // 8, 2)
    c0, c1 = rng.uniform(40, 215, 3), rng.uniform(40, 215, 3)
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:lh, 0:lw]
    t = np.cos(ang) * xx / lw + np.sin(ang) * yy / lh
    t = (t - t.min()) / max(np.ptp(t), 1e-9)
    low = c0 * (1 - t[..., None]) + c1 * t[..., None] + rng.normal(0, 14, (lh, lw, 3))
    img = Image.fromarray(np.clip(low, 0, 255).astype(np.uint8)).resize((w, h), Image.BILINEAR)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        x1, y1 = x0 + rng.uniform(0.05, 0.4) * w, y0 + rng.uniform(0.05, 0.4) * h
        fill = tuple(int(c) for c in rng.uniform(30, 225, 3))
        (draw.rectangle if rng.random() < 0.6 else draw.ellipse)([x0, y0, x1, y1], fill=fill)
    return img


def _colours(scene: Scene, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Clothes and skin colour per person, constant along a video track."""
    vid = scene.img_video[scene.p_img]
    key = np.where(vid >= 0, vid * 100_000 + scene.p_track, -1 - np.arange(len(vid)))
    _, inv = np.unique(key, return_inverse=True)
    n = int(inv.max()) + 1 if len(inv) else 0
    cloth = rng.uniform(20, 235, (n, 3)).astype(int)[inv]
    skin = rng.uniform([150, 100, 70], [240, 190, 160], (n, 3)).astype(int)[inv]
    return cloth, skin


def draw_people(img: Image.Image, scene: Scene, rows: range, colours: tuple[np.ndarray, np.ndarray]) -> None:
    fig = scene.fig
    draw = ImageDraw.Draw(img)
    rows = sorted(rows, key=lambda p: fig.box[p, 1] + fig.box[p, 3])
    for p in rows:
        xy, shown, s = fig.xy[p], fig.drawn[p], fig.scale[p]
        cloth, skin = tuple(colours[0][p].tolist()), tuple(colours[1][p].tolist())
        width = max(1, int(round(0.045 * s)))
        if shown[_TORSO].all():
            draw.polygon([tuple(xy[k]) for k in _TORSO], fill=cloth)
        for a, b in SKELETON_EDGES:
            if shown[a] and shown[b]:
                draw.line([tuple(xy[a]), tuple(xy[b])], fill=cloth, width=width)
        for k in np.flatnonzero(shown):
            r = width / 2
            draw.ellipse([xy[k, 0] - r, xy[k, 1] - r, xy[k, 0] + r, xy[k, 1] + r], fill=cloth)
        if shown[_TOP] and shown[_BOTTOM]:
            c = (xy[_TOP] + xy[_BOTTOM]) / 2
            hl = max(float(np.hypot(*(xy[_TOP] - xy[_BOTTOM]))), 1.0)
            draw.ellipse([c[0] - 0.38 * hl, c[1] - 0.5 * hl, c[0] + 0.38 * hl, c[1] + 0.5 * hl], fill=skin)


def _draw_crowd(img: Image.Image, box: np.ndarray, rng: np.random.Generator) -> None:
    """A crowd region: many small, unannotated blobs (COCO's iscrowd areas look like this)."""
    draw = ImageDraw.Draw(img)
    x, y, w, h = box
    for _ in range(40):
        cx, cy = rng.uniform(x + 0.1 * w, x + 0.9 * w), rng.uniform(y + 0.1 * h, y + 0.9 * h)
        r = rng.uniform(0.02, 0.05) * h + 1
        col = tuple(int(c) for c in rng.uniform(20, 235, 3))
        draw.rectangle([cx - r * 0.6, cy, cx + r * 0.6, cy + 3 * r], fill=col)
        draw.ellipse([cx - r * 0.5, cy - r, cx + r * 0.5, cy], fill=(200, 160, 130))


def render(scene: Scene, root: Path, files: dict[int, str], rng: np.random.Generator) -> None:
    """Write one JPEG per image of ``scene`` at ``root / files[i]`` (video backgrounds are shared)."""
    bg_cache: dict[int, Image.Image] = {}
    colours = _colours(scene, rng)
    bar = Progress(f"render {scene.source}", scene.n_images)
    for i in range(scene.n_images):
        w, h, vid = int(scene.img_w[i]), int(scene.img_h[i]), int(scene.img_video[i])
        if vid >= 0:
            if vid not in bg_cache:
                bg_cache = {vid: background(rng, w, h)}
            img = bg_cache[vid].copy()
        else:
            img = background(rng, w, h)
        if scene.img_crowd is not None and not np.isnan(scene.img_crowd[i, 0]):
            _draw_crowd(img, scene.img_crowd[i], rng)
        draw_people(img, scene, range(scene.img_offsets[i], scene.img_offsets[i + 1]), colours)
        path = root / files[i]
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, "JPEG", quality=85)
        bar.update()
