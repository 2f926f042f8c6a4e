"""What each source's corpus holds at each scale: images, splits, people per image, videos.

A :class:`Scene` is one source's images and people in pixels, before any native format:
the writers only re-encode it. Counts at ``full`` follow the paper's Table 1 (about 78.6k
images and 770k instances, test about 13% of images); ``small`` is the demo's few hundred
images; ``tiny`` is a test fixture that still holds every irregularity the writers emit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smallpose.synth.figures import DEFAULT_MODE_WEIGHTS, MODES, Figures, make_figures, stratified_buckets

SCALES = ("tiny", "small", "full")

#: per scale: still-image sources (train images, test images); video sources (train videos,
#: test videos, frames per train video, frames per test video); HiEve's layout-(a) frames
PLANS: dict[str, dict[str, tuple[int, ...]]] = {
    "tiny": {"coco": (3, 1), "mpii": (3, 1), "aic": (2, 1), "hieve": (1, 1, 3, 3), "hieve_a": (1,),
             "posetrack": (1, 1, 3, 3)},
    "small": {"coco": (100, 16), "mpii": (34, 6), "aic": (66, 10), "hieve": (3, 1, 8, 8), "hieve_a": (2,),
              "posetrack": (3, 1, 8, 8)},
    "full": {"coco": (24700, 3700), "mpii": (7220, 1080), "aic": (19000, 2000),
             "hieve": (19, 13, 400, 180), "hieve_a": (10,), "posetrack": (300, 45, 30, 30)},
}  # fmt: skip

_SIZES = {
    "coco": [(640, 480), (640, 427), (480, 640), (640, 360), (612, 612), (500, 375), (427, 640)],
    "mpii": [(1280, 720), (1280, 720), (1280, 720), (720, 1280), (1920, 1080)],
    "aic": [(800, 600), (1080, 720), (640, 960), (1000, 750), (720, 1080), (960, 640)],
    "hieve": [(1920, 1080), (1920, 1080), (1280, 720)],
    "posetrack": [(1280, 720), (1920, 1080), (1280, 720)],
}


@dataclass
class Scene:
    """One source: images (video frames included) and the people on them, image-sorted."""

    source: str
    img_w: np.ndarray
    img_h: np.ndarray
    img_test: np.ndarray  # bool: in the source's own test/val split
    img_video: np.ndarray  # video index, -1 for still images
    img_frame: np.ndarray  # frame index in its video, 0 for still images
    p_img: np.ndarray  # (N,) image of each person, non-decreasing
    p_track: np.ndarray  # (N,) track id inside its video, or position inside its image
    fig: Figures
    img_offsets: np.ndarray  # (M+1,) people of image i are rows offsets[i]:offsets[i+1]
    img_crowd: np.ndarray | None = None  # (M, 4) COCO crowd region per image, NaN where none

    @property
    def n_images(self) -> int:
        return len(self.img_w)


def _sizes(rng, source: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    choices = np.array(_SIZES[source])
    pick = choices[rng.integers(0, len(choices), n)]
    return pick[:, 0].astype(np.int64), pick[:, 1].astype(np.int64)


def _people_per_image(rng, source: str, n: int, tiny: bool) -> np.ndarray:
    if source == "coco":
        k = 1 + rng.poisson(3.0, n)
    elif source == "mpii":
        k = rng.geometric(0.6, n)
    else:  # aic: mostly a handful, some crowds above COCO's maxDets of 20
        crowd = rng.random(n) < 0.12
        k = np.where(crowd, rng.integers(21, 33, n), 1 + rng.poisson(5.0, n))
        if tiny:
            k[0] = 23
    k = np.minimum(k, 40)
    if source == "mpii":
        k[0] = 1  # a single-person image: a bare struct once squeezed
    return k.astype(np.int64)


def _finish(source, w, h, test, video, frame, p_img, p_track, fig) -> Scene:
    order = np.lexsort((p_track, p_img))
    sel = {k: getattr(fig, k)[order] for k in fig.__dataclass_fields__}
    fig = Figures(**sel)
    p_img, p_track = p_img[order], p_track[order]
    offsets = np.searchsorted(p_img, np.arange(len(w) + 1))
    return Scene(source, w, h, test, video, frame, p_img, p_track, fig, offsets)


def still_scene(rng: np.random.Generator, source: str, scale: str) -> Scene:
    """COCO, MPII, AIC: independent images, train first then test."""
    n_train, n_test = PLANS[scale][source]
    n = n_train + n_test
    w, h = _sizes(rng, source, n)
    test = np.arange(n) >= n_train
    k = _people_per_image(rng, source, n, scale == "tiny")
    p_img = np.repeat(np.arange(n), k)
    p_track = np.arange(len(p_img)) - np.repeat(np.cumsum(k) - k, k)
    buckets = stratified_buckets(rng, len(p_img))
    force = np.full(len(p_img), -1)
    weights = None
    if source == "coco":
        weights = dict(DEFAULT_MODE_WEIGHTS)
        weights[0] = weights[0][:-1] + (0.04,)  # COCO keeps some unlabeled small people
        small = np.flatnonzero(buckets == 0)
        if len(small):
            force[small[0]] = MODES.index("unlabeled")
    elif source == "mpii":  # MPII always has a head rectangle: no cut through the head
        side = MODES.index("side_cut")
        weights = {
            b: tuple(0.0 if m == side else x for m, x in enumerate(w))
            for b, w in DEFAULT_MODE_WEIGHTS.items()
        }
    fig = make_figures(rng, np.ones(len(p_img), np.int64), w[p_img], h[p_img], buckets, weights, force)
    out = _finish(source, w, h, test, np.full(n, -1), np.zeros(n, np.int64), p_img, p_track, fig)
    if source == "coco":  # a few crowd regions (iscrowd 1), the first image always has one
        has = rng.random(n) < 0.02
        has[0] = True
        cw, ch = w * rng.uniform(0.3, 0.7, n), h * rng.uniform(0.15, 0.4, n)
        cx, cy = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
        out.img_crowd = np.where(has[:, None], np.stack([cx, cy, cw, ch], -1), np.nan)
    return out


def video_scene(rng: np.random.Generator, source: str, scale: str) -> Scene:
    """HiEve, PoseTrack: videos of smoothly moving tracks, whole videos in one split.

    For HiEve the last ``hieve_a`` frames of the first train and first test sequence are
    extra frames that the writer emits in the per-frame layout (a).
    """
    n_tr, n_te, f_tr, f_te = PLANS[scale][source]
    n_vid = n_tr + n_te
    frames = np.where(np.arange(n_vid) < n_tr, f_tr, f_te).astype(np.int64)
    if source == "hieve":
        extra = PLANS[scale]["hieve_a"][0]
        frames[0] += extra
        if n_te:
            frames[n_tr] += extra
    vw, vh = _sizes(rng, source, n_vid)
    if source == "hieve":
        tracks = rng.integers(15, 45, n_vid)
        tracks[0] = max(tracks[0], 24)  # crowded: more than COCO's maxDets
    else:
        tracks = rng.integers(8, 31, n_vid)
    trk_vid = np.repeat(np.arange(n_vid), tracks)
    trk_id = np.arange(len(trk_vid)) - np.repeat(np.cumsum(tracks) - tracks, tracks)
    buckets = stratified_buckets(rng, len(trk_vid))
    fig = make_figures(rng, frames[trk_vid], vw[trk_vid], vh[trk_vid], buckets)
    first_img = np.concatenate([[0], np.cumsum(frames)[:-1]])
    vid_of_person = trk_vid[fig.track]
    p_img = first_img[vid_of_person] + fig.frame
    p_track = trk_id[fig.track]
    img_video = np.repeat(np.arange(n_vid), frames)
    img_frame = np.arange(len(img_video)) - first_img[img_video]
    w, h = vw[img_video], vh[img_video]
    test = img_video >= n_tr
    return _finish(source, w, h, test, img_video, img_frame, p_img, p_track, fig)


def scene(rng: np.random.Generator, source: str, scale: str) -> Scene:
    if source in ("hieve", "posetrack"):
        return video_scene(rng, source, scale)
    return still_scene(rng, source, scale)
