"""Articulated 2D stick figures, generated for many people at once with numpy.

A figure is the 21-point unified skeleton built by forward kinematics from a few angles
(lean, limb angles, yaw, tilt), so every pose is plausible and every source's subset of
points is cut from the same body. People are placed so that their *box* area lands in a
requested size bucket: the box (visible body plus a margin) is computed in body units
first and the figure is then scaled to the target area, which is what lets the corpus hit
the paper's 56:36:8 S:M:L mix by construction rather than by luck.

Video tracks are the same machinery with a frame axis: angles swing sinusoidally (a
walking cycle) and the figure slides linearly between two positions that keep the box
inside the frame, so track ids and smooth motion come for free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smallpose.skeleton import INDEX, NUM_KEYPOINTS

#: box-area buckets of SPEC section 3 and the paper's overall S:M:L mix
BUCKET_EDGES = (128 * 96, 256 * 192)
BUCKET_MIX = (0.556, 0.364, 0.080)
#: log-uniform target-area range inside each bucket (S starts near a 20 px tall person)
_AREA_RANGES = ((160.0, 128 * 96), (128 * 96, 256 * 192), (256 * 192, 3 * 256 * 192))

HEAD = np.array([INDEX[n] for n in ("nose", "head_top", "left_eye", "right_eye", "left_ear", "right_ear",
                                    "head_bottom")])  # fmt: skip
FACE = np.array([INDEX[n] for n in ("nose", "left_eye", "right_eye")])
SHOULDERS_CHEST = np.array([INDEX[n] for n in ("chest", "left_shoulder", "right_shoulder")])
LOWER_LEGS = np.array([INDEX[n] for n in ("left_knee", "right_knee", "left_ankle", "right_ankle")])

#: visibility modes; what each hides is in :func:`_apply_modes`
MODES = ("full", "bottom_cut", "side_cut", "upper_occluded", "head", "head_shoulders", "sparse", "unlabeled")
#: default mode weights for (S, M, L) people; head-only close-ups are not drawn as L
DEFAULT_MODE_WEIGHTS = {
    0: (0.50, 0.10, 0.05, 0.07, 0.09, 0.09, 0.10, 0.0),
    1: (0.60, 0.12, 0.06, 0.07, 0.03, 0.04, 0.08, 0.0),
    2: (0.68, 0.14, 0.08, 0.05, 0.0, 0.0, 0.05, 0.0),
}


@dataclass
class Figures:
    """People in pixels, one row per (track, frame), tracks consecutive.

    ``vis`` is the annotation state in COCO's convention (0 not annotated, 1 occluded,
    2 visible); ``drawn`` says whether the point is painted when rendering (False for
    body parts hidden by an occluder); ``box`` and ``head`` are (x, y, w, h).
    """

    track: np.ndarray  # (N,) track index
    frame: np.ndarray  # (N,) frame index within the track
    xy: np.ndarray  # (N, 21, 2)
    vis: np.ndarray  # (N, 21) int8
    drawn: np.ndarray  # (N, 21) bool
    box: np.ndarray  # (N, 4)
    head: np.ndarray  # (N, 4)
    mode: np.ndarray  # (N,) index into MODES
    scale: np.ndarray  # (N,) pixels per body unit (about the standing height)


def stratified_buckets(rng: np.random.Generator, n: int, mix=BUCKET_MIX) -> np.ndarray:
    """Bucket labels 0/1/2 in exact proportions (largest remainder), shuffled."""
    raw = np.asarray(mix, dtype=np.float64) * n
    counts = np.floor(raw).astype(np.int64)
    short = n - counts.sum()
    if short > 0:
        counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    labels = np.repeat(np.arange(3), counts)
    return rng.permutation(labels)


def target_areas(rng: np.random.Generator, buckets: np.ndarray) -> np.ndarray:
    lo = np.array([r[0] for r in _AREA_RANGES])[buckets]
    hi = np.array([r[1] for r in _AREA_RANGES])[buckets]
    return np.exp(rng.uniform(np.log(lo), np.log(hi) - 1e-9))


def _sample_params(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    u, nrm = rng.uniform, rng.normal
    lying = rng.random(n) < 0.02
    return {
        "yaw": u(-np.pi, np.pi, n),
        "lean": nrm(0, 0.10, n),
        "neck_tilt": nrm(0, 0.12, n),
        "head_tilt": nrm(0, 0.15, n),
        "tilt": np.where(lying, rng.choice([-1.4, 1.4], n) + nrm(0, 0.1, n), nrm(0, 0.05, n)),
        "aspect": u(0.85, 1.18, n),
        "torso": u(0.26, 0.31, n),
        "head_len": u(0.11, 0.14, n),
        "shoulder_w": u(0.08, 0.12, n),
        "hip_w": u(0.05, 0.08, n),
        "ua": nrm(0.25, 0.45, (n, 2)),  # upper-arm angle from hanging, outward positive (l, r)
        "fa": nrm(0.35, 0.55, (n, 2)),  # elbow bend
        "th": nrm(0.05, 0.18, (n, 2)),  # thigh
        "sh": nrm(-0.05, 0.25, (n, 2)),  # knee bend
        "swing": u(0.0, 0.45, n),  # walking amplitude (video)
        "omega": u(0.25, 0.6, n),  # walking cycle per frame
        "phase": u(0, 2 * np.pi, n),
    }


def _down(ang: np.ndarray, length: np.ndarray | float) -> np.ndarray:
    return np.stack([np.sin(ang), np.cos(ang)], axis=-1) * np.asarray(length)[..., None]


def articulate(q: dict[str, np.ndarray], t: np.ndarray) -> np.ndarray:
    """(n, 21, 2) body-unit coordinates, pelvis at the origin, y down, height about 1."""
    n = len(t)
    P = np.zeros((n, NUM_KEYPOINTS, 2))
    cy, sy = np.cos(q["yaw"]), np.sin(q["yaw"])
    swing = q["swing"] * np.sin(q["omega"] * t + q["phase"]) * np.abs(sy)
    lean = q["lean"]
    chest = _down(lean + np.pi, q["torso"])
    head_bottom = chest + _down(lean + q["neck_tilt"] + np.pi, 0.055)
    hang = lean + q["neck_tilt"] + q["head_tilt"] + np.pi
    hl = q["head_len"]
    head_top = head_bottom + _down(hang, hl)
    side = np.stack([cy, np.zeros(n)], axis=-1)  # +x is the person's left when facing the camera
    nose = head_bottom + _down(hang, 0.5 * hl) + np.stack([0.3 * hl * sy, np.zeros(n)], -1)
    eye_up = _down(hang, 0.17 * hl)
    centre = 0.5 * (head_bottom + head_top)
    shoulder = np.stack([q["shoulder_w"] * cy, 0.02 * np.ones(n)], axis=-1)
    hip = np.stack([q["hip_w"] * cy, np.zeros(n)], axis=-1)
    put = {
        "pelvis": np.zeros((n, 2)), "chest": chest, "head_bottom": head_bottom, "head_top": head_top,
        "nose": nose, "left_eye": nose + eye_up + 0.22 * hl[:, None] * side,
        "right_eye": nose + eye_up - 0.22 * hl[:, None] * side,
        "left_ear": centre + 0.42 * hl[:, None] * side - np.stack([0.2 * hl * sy, np.zeros(n)], -1),
        "right_ear": centre - 0.42 * hl[:, None] * side - np.stack([0.2 * hl * sy, np.zeros(n)], -1),
        "left_shoulder": chest + shoulder,
        "right_shoulder": chest + np.stack([-q["shoulder_w"] * cy, 0.02 * np.ones(n)], axis=-1),
        "left_hip": hip, "right_hip": -hip,
    }  # fmt: skip
    for k, (s, sign) in enumerate((("left", 1.0), ("right", -1.0))):
        arm = sign * (q["ua"][:, k] - (swing if k == 0 else -swing))
        put[f"{s}_elbow"] = put[f"{s}_shoulder"] + _down(arm, 0.17)
        put[f"{s}_wrist"] = put[f"{s}_elbow"] + _down(arm + sign * q["fa"][:, k], 0.15)
        leg = sign * q["th"][:, k] + (swing if k == 0 else -swing)
        put[f"{s}_knee"] = put[f"{s}_hip"] + _down(leg, 0.245)
        put[f"{s}_ankle"] = put[f"{s}_knee"] + _down(leg + sign * q["sh"][:, k], 0.24)
    for name, v in put.items():
        P[:, INDEX[name]] = v
    P[..., 0] *= q["aspect"][:, None]
    c, s = np.cos(q["tilt"])[:, None], np.sin(q["tilt"])[:, None]
    x, y = P[..., 0].copy(), P[..., 1].copy()
    P[..., 0], P[..., 1] = c * x - s * y, s * x + c * y
    return P


def _apply_modes(rng, P, mode, trk, n_tracks):
    """Annotation state and hidden parts per mode; cut lines are per track, in body units."""
    n = len(P)
    vis = np.full((n, NUM_KEYPOINTS), 2, dtype=np.int8)
    region = np.ones((n, NUM_KEYPOINTS), dtype=bool)  # inside the picture and not hidden
    drawn = np.ones((n, NUM_KEYPOINTS), dtype=bool)
    occ = rng.random((n_tracks, NUM_KEYPOINTS)) < rng.uniform(0.03, 0.2, (n_tracks, 1))
    vis[occ[trk]] = 1
    m = mode
    # cut lines: bottom between hips and ankles, side between the body's side and the pelvis
    cut_y = rng.uniform(0.05, 0.35, n_tracks)[trk]
    cut_side = rng.choice([-1.0, 1.0], n_tracks)[trk]
    cut_x = cut_side * rng.uniform(0.0, 0.08, n_tracks)[trk]
    y, x = P[..., 1], P[..., 0]
    region &= ~((m == 1)[:, None] & (y > cut_y[:, None]))
    region &= ~((m == 2)[:, None] & (cut_side[:, None] * (x - cut_x[:, None]) > 0))
    hidden = np.zeros_like(region)
    hidden[:, LOWER_LEGS] |= (m == 3)[:, None]
    keep_head = np.zeros(NUM_KEYPOINTS, dtype=bool)
    keep_head[HEAD] = True
    hidden |= (m == 4)[:, None] & ~keep_head
    keep_hs = keep_head.copy()
    keep_hs[SHOULDERS_CHEST] = True
    hidden |= (m == 5)[:, None] & ~keep_hs
    region &= ~hidden
    drawn &= ~hidden
    vis[~region] = 0
    drop_p = np.where(m == 6, rng.uniform(0.35, 0.7, n_tracks)[trk], 0.02)
    vis[rng.random((n, NUM_KEYPOINTS)) < drop_p[:, None]] = 0
    vis[m == 7] = 0  # unlabeled people (COCO's num_keypoints 0)
    return vis, region, drawn, cut_y, cut_x, cut_side


def make_figures(
    rng: np.random.Generator,
    n_frames: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    buckets: np.ndarray,
    mode_weights: dict[int, tuple[float, ...]] | None = None,
    force_mode: np.ndarray | None = None,
) -> Figures:
    """People for ``len(n_frames)`` tracks; track i lasts n_frames[i] frames in a W x H image."""
    n_tracks = len(n_frames)
    trk = np.repeat(np.arange(n_tracks), n_frames)
    start = np.concatenate([[0], np.cumsum(n_frames)[:-1]]).astype(np.int64)
    t = (np.arange(len(trk)) - start[trk]).astype(np.float64)
    weights = mode_weights or DEFAULT_MODE_WEIGHTS
    mode_t = np.empty(n_tracks, dtype=np.int64)
    for b in range(3):
        sel = np.flatnonzero(buckets == b)
        w = np.asarray(weights[b], dtype=np.float64)
        mode_t[sel] = rng.choice(len(MODES), len(sel), p=w / w.sum())
    if force_mode is not None:
        mode_t = np.where(force_mode >= 0, force_mode, mode_t)
    q = {k: v[trk] for k, v in _sample_params(rng, n_tracks).items()}
    P = articulate(q, t)
    mode = mode_t[trk]
    vis, region, drawn, cut_y, cut_x, cut_side = _apply_modes(rng, P, mode, trk, n_tracks)

    # box in body units: extent of the visible region plus a margin; a cut edge is the image edge
    margin = 0.045
    px = np.where(region, P[..., 0], np.nan)
    py = np.where(region, P[..., 1], np.nan)
    x0, x1 = np.nanmin(px, 1) - margin, np.nanmax(px, 1) + margin
    y0, y1 = np.nanmin(py, 1) - margin, np.nanmax(py, 1) + margin
    y1 = np.where(mode == 1, cut_y, y1)
    x1 = np.where((mode == 2) & (cut_side > 0), cut_x, x1)
    x0 = np.where((mode == 2) & (cut_side < 0), cut_x, x0)
    area_n = (x1 - x0) * (y1 - y0)
    target = target_areas(rng, buckets)
    s = np.sqrt(target / (np.bincount(trk, area_n, n_tracks) / n_frames))
    bx0 = np.minimum.reduceat(x0, start)
    bx1 = np.maximum.reduceat(x1, start)
    by0 = np.minimum.reduceat(y0, start)
    by1 = np.maximum.reduceat(y1, start)
    s = np.minimum(s, 0.98 * np.minimum(width / (bx1 - bx0), height / (by1 - by0)))
    lo_x, hi_x = -bx0 * s, width - bx1 * s
    lo_y, hi_y = -by0 * s, height - by1 * s
    # walk: start anywhere the whole track's box fits, move a few percent of a body per frame
    span = (n_frames - 1) * s
    ax = rng.uniform(lo_x, hi_x, (2, n_tracks))
    ay = rng.uniform(lo_y, hi_y, (2, n_tracks))
    ax[1] = np.clip(ax[0] + rng.uniform(-0.04, 0.04, n_tracks) * span, lo_x, hi_x)
    ay[1] = np.clip(ay[0] + rng.uniform(-0.01, 0.01, n_tracks) * span, lo_y, hi_y)
    bottom, side = mode_t == 1, mode_t == 2
    ay[:, bottom] = hi_y[bottom]
    right = side & (cut_side[start] > 0)
    left = side & (cut_side[start] < 0)
    ax[:, right] = hi_x[right]
    ax[:, left] = lo_x[left]
    frac = t / np.maximum(n_frames[trk] - 1, 1)
    anc_x = ax[0][trk] + (ax[1] - ax[0])[trk] * frac
    anc_y = ay[0][trk] + (ay[1] - ay[0])[trk] * frac
    sp = s[trk]
    xy = np.stack([anc_x[:, None] + sp[:, None] * P[..., 0], anc_y[:, None] + sp[:, None] * P[..., 1]], -1)
    W, H = width[trk].astype(np.float64), height[trk].astype(np.float64)
    bx = np.clip(anc_x + sp * x0, 0, W)
    by = np.clip(anc_y + sp * y0, 0, H)
    bw = np.clip(anc_x + sp * x1, 0, W) - bx
    bh = np.clip(anc_y + sp * y1, 0, H) - by
    box = np.stack([bx, by, bw, bh], -1)
    # a point can sit just outside the frame only through rounding of a cut; never annotate it
    outside = (
        (xy[..., 0] < 0) | (xy[..., 0] > W[:, None] - 1) | (xy[..., 1] < 0) | (xy[..., 1] > H[:, None] - 1)
    )
    vis[outside] = 0
    top, bot = xy[:, INDEX["head_top"]], xy[:, INDEX["head_bottom"]]
    hlen = np.maximum(np.hypot(*(top - bot).T), 1.0)
    cx, cyy = (top + bot).T / 2
    head = np.stack([cx - 0.4 * hlen, cyy - 0.5 * hlen, 0.8 * hlen, hlen], -1)
    return Figures(trk, t.astype(np.int64), xy, vis, drawn, box, head, mode, sp)
