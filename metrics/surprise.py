"""Surprise: how likely the ground truth is under the predicted keypoint distributions.

From *Tiny People Pose* (section 4.2): the negative log-likelihood of the ground-truth
keypoint under the model's predicted distribution. Accuracy metrics (AP, PCKh) reward a
good mean only; surprise also rewards a model that knows when it is unsure, which is what
matters for people a few dozen pixels tall.

Coordinates are normalised by the ground-truth box height ``h`` so that people of every
size count alike. For a ground-truth point ``y`` (pixels), predicted mean ``mu`` and
covariance ``S`` (pixels^2), the residual ``r = (y - mu) / h`` has covariance ``S / h^2``:

    NLL = 1/2 r^T (S/h^2)^-1 r + log(2 pi) + 1/2 log det(S/h^2)
        = 1/2 d^T S^-1 d + log(2 pi) + 1/2 log det S - 2 log h,       d = y - mu (pixels)

isotropic (``S = s^2 I``): ``NLL = |d|^2 / (2 s^2) + log(2 pi s^2 / h^2)``.

A pair's surprise is the mean NLL over its annotated ground-truth points (v > 0) among the
protocol's keypoints; a bucket's surprise is the mean over its matched pairs (each person
weighs the same, as in AP). Predictions without uncertainty get, per keypoint type ``k``,
an isotropic Gaussian with a constant variance ``v_k`` per coordinate in normalised units,
read from a calibration file or, flagged as ``fitted-on-eval``, fitted by maximum
likelihood on the evaluated pairs themselves: ``v_k = mean(|r|^2) / 2`` over the annotated
points of type ``k`` (zero-mean: the prediction is the mean, as the paper assumes).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from smallpose.atomic import write_text_atomic
from smallpose.errors import InputError
from smallpose.skeleton import COCO17_INDEX, NUM_KEYPOINTS

CALIBRATION_KEY = "keypoint_variances"
#: smallest variance allowed (normalised units): a fitted zero would give an infinite log-likelihood
MIN_VARIANCE = 1e-10
LOG_2PI = math.log(2.0 * math.pi)


def point_nll(
    gt_xy: np.ndarray,
    pred_xy: np.ndarray,
    h: np.ndarray,
    sigmas: np.ndarray | None = None,
    covs: np.ndarray | None = None,
    variances: np.ndarray | None = None,
) -> np.ndarray:
    """NLL of each ground-truth point, (P, K), in box-height-normalised coordinates.

    Exactly one uncertainty source: ``sigmas`` (P, K) pixels, ``covs`` (P, K, 3) as
    (sxx, sxy, syy) pixels^2, or ``variances`` (K,) normalised units per coordinate.
    """
    d = np.asarray(gt_xy, np.float64) - np.asarray(pred_xy, np.float64)  # (P, K, 2) pixels
    h = np.asarray(h, np.float64)[:, None]
    if covs is not None:
        sxx, sxy, syy = covs[..., 0], covs[..., 1], covs[..., 2]
        det = sxx * syy - sxy * sxy
        dx, dy = d[..., 0], d[..., 1]
        maha = (syy * dx * dx - 2.0 * sxy * dx * dy + sxx * dy * dy) / det
        return 0.5 * maha + LOG_2PI + 0.5 * np.log(det) - 2.0 * np.log(h)
    if sigmas is not None:
        s2 = np.asarray(sigmas, np.float64) ** 2
        return (d**2).sum(-1) / (2.0 * s2) + np.log(2.0 * math.pi * s2 / h**2)
    if variances is None:
        raise ValueError("point_nll needs sigmas, covs or variances")
    v = np.maximum(np.asarray(variances, np.float64), MIN_VARIANCE)[None, :]
    r2 = (d**2).sum(-1) / h**2
    return r2 / (2.0 * v) + np.log(2.0 * math.pi * v)


def fit_variances(gt_kp: np.ndarray, pred_xy: np.ndarray, h: np.ndarray, kpt_mask: np.ndarray) -> np.ndarray:
    """ML per-keypoint isotropic variance (normalised units, per coordinate); NaN where unseen."""
    vis = (gt_kp[..., 2] > 0) & kpt_mask[None, :]
    r2 = (((gt_kp[..., :2] - pred_xy) / np.asarray(h, np.float64)[:, None, None]) ** 2).sum(-1)
    n = vis.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(vis, r2, 0.0).sum(0) / (2.0 * n)
    return np.where(n > 0, np.maximum(v, MIN_VARIANCE), np.nan)


def pair_surprise(
    gt_kp: np.ndarray,
    pred_xy: np.ndarray,
    h: np.ndarray,
    kpt_mask: np.ndarray,
    sigmas: np.ndarray | None = None,
    covs: np.ndarray | None = None,
    variances: np.ndarray | None = None,
) -> np.ndarray:
    """Mean NLL over each pair's annotated points of the protocol's keypoints, (P,); NaN if none."""
    nll = point_nll(gt_kp[..., :2], pred_xy, h, sigmas, covs, variances)
    vis = (gt_kp[..., 2] > 0) & kpt_mask[None, :]
    n = vis.sum(1)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, np.where(vis, nll, 0.0).sum(1) / np.maximum(n, 1), np.nan)


def load_calibration(path: str | os.PathLike) -> np.ndarray:
    """Read ``{"keypoint_variances": [v] * K}`` (K = 21, or 17 in COCO order) as 21 variances.

    Variances are per coordinate, in units of the ground-truth box height squared: a point
    typically off by 5 % of the person's height has a variance of about 0.05^2.
    A 17-entry file fills COCO's slots; the other four stay NaN (unused under coco17).
    """
    name = str(path)
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(name, None, None, "no such calibration file") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(name, None, None, f"not a readable JSON calibration file: {e}") from None
    if not isinstance(data, dict) or CALIBRATION_KEY not in data:
        raise InputError(name, None, CALIBRATION_KEY, 'missing; expected {"keypoint_variances": [v] * K}')
    vals = data[CALIBRATION_KEY]
    if type(vals) is not list or len(vals) not in (NUM_KEYPOINTS, 17):
        n = len(vals) if type(vals) is list else type(vals).__name__
        raise InputError(name, None, CALIBRATION_KEY, f"expected a list of 21 or 17 numbers, got {n}")
    for j, v in enumerate(vals):
        if v is not None and (type(v) not in (int, float) or not math.isfinite(v) or v <= 0):
            raise InputError(
                name, j, CALIBRATION_KEY, f"variance must be a positive finite number, got {v!r}"
            )
    arr = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
    if len(arr) == NUM_KEYPOINTS:
        return arr
    out = np.full(NUM_KEYPOINTS, np.nan)
    out[COCO17_INDEX] = arr
    return out


def write_calibration(path: str | os.PathLike, variances: np.ndarray, note: str = "") -> None:
    """Write variances (NaN -> null) so a later ``eval --calibration`` can use them."""
    vals = [None if not np.isfinite(v) else float(v) for v in variances]
    doc = {CALIBRATION_KEY: vals, "units": "box-height-normalised, per coordinate"}
    if note:
        doc["note"] = note
    write_text_atomic(path, json.dumps(doc, indent=1) + "\n")
