"""Score a submission: the evaluator's front door (``smallpose eval`` and the Python API).

``evaluate(gt, preds)`` loads and validates both sides, matches once with the COCO-exact
engine (:mod:`smallpose.metrics.cocoeval`), and derives everything else from that one
matching: the AP/AR table, surprise, PCKh, the L2 error, bootstrap intervals (re-weighted
accumulations of the same matching), plus the KD curve and per-keypoint AP (extra
matchings with other buckets / keypoint selections). The result renders as the paper's
table and as the metrics file (``smallpose-metrics/1``) that ``report`` reads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from smallpose.metrics import bootstrap as boot
from smallpose.metrics.arrays import Detections, keypoint_extent_boxes
from smallpose.metrics.cocoeval import MatchResult, accumulate, match, matched_pairs, summarize
from smallpose.metrics.errors_l2 import pair_l2
from smallpose.metrics.groundtruth import LoadedGroundTruth, load_groundtruth
from smallpose.metrics.kd_curve import accumulate_fast, kd_curve, per_keypoint_ap
from smallpose.metrics.metrics_file import METRIC_KEYS, SCHEMA, clean
from smallpose.metrics.params import Params
from smallpose.metrics.pckh import head_size, pckh
from smallpose.metrics.submission import MAX_BYTES, Submission, load_submission
from smallpose.metrics.surprise import fit_variances, load_calibration, pair_surprise
from smallpose.metrics.warmup import warm_up_in_background

from smallpose.errors import SmallPoseError
from smallpose.skeleton import COCO17_INDEX, COCO17_NAMES, KEYPOINT_NAMES, NUM_KEYPOINTS

PROTOCOLS = ("smallpose", "coco", "coco17")
COCO_KEYS = ("AP", "AP50", "AP75", "AP_M", "AP_L", "AR", "AR50", "AR75", "AR_M", "AR_L")
#: the paper's table: (column title, metric key)
TABLE = (
    ("AP", "AP"), ("AP^S", "AP_S"), ("AP^M", "AP_M"), ("AP^L", "AP_L"), ("AP^S_Sp", "AP_S_sparse"),
    ("AP^S_Mo", "AP_S_moderate"), ("AP^S_De", "AP_S_dense"), ("AR", "AR"), ("surprise", "surprise"),
)  # fmt: skip


@dataclass
class Scored:
    """One submission matched against the ground truth (what bootstrap and compare reuse)."""

    gt: LoadedGroundTruth
    sub: Submission
    dt: Detections
    params: Params
    protocol: str
    result: MatchResult

    def stats(self, weights: np.ndarray | None = None) -> dict[str, float]:
        # unweighted: the compiled accumulation (same numbers to the bit, a fraction of the time)
        acc = (
            accumulate_fast(self.result)
            if weights is None
            else accumulate(self.result, image_weights=weights)
        )
        return summarize(acc["precision"], acc["recall"], self.params)


@dataclass
class EvaluationResult:
    metrics: dict[str, float | None]
    document: dict[str, Any]
    scored: Scored
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return format_table(self.document)

    def to_json(self) -> dict[str, Any]:
        return self.document


def protocol_params(protocol: str | None, gt_k: int, sub_k: int, max_dets: int) -> tuple[str, Params]:
    """The protocol to use for this ground truth / submission pair, and its Params."""
    if gt_k not in (17, NUM_KEYPOINTS):
        raise SmallPoseError(f"ground truth has {gt_k} keypoints per person; the evaluator scores 17 or 21")
    if protocol is None:
        protocol = "coco" if gt_k == 17 else ("smallpose" if sub_k == NUM_KEYPOINTS else "coco17")
    if protocol not in PROTOCOLS:
        raise SmallPoseError(f"unknown protocol {protocol!r} (choose {', '.join(PROTOCOLS)})")
    if gt_k == 17 and protocol != "coco":
        raise SmallPoseError(
            f"a 17-keypoint (COCO) ground truth is scored with protocol coco, not {protocol}"
        )
    if protocol == "smallpose" and sub_k != NUM_KEYPOINTS:
        raise SmallPoseError(
            "a 17-keypoint submission is scored with protocol coco17 (Setting A), not smallpose"
        )
    if protocol == "coco":
        p = Params.coco(max_dets)
        if gt_k == NUM_KEYPOINTS:  # COCO's parameters on the COCO points of a 21-point store
            p = replace(p, keypoint_index=COCO17_INDEX.copy(), recount_keypoints=True)
        return protocol, p
    return protocol, (Params.smallpose if protocol == "smallpose" else Params.coco17)(max_dets)


def detections_for(sub: Submission, gt_k: int, params: Params) -> Detections:
    """Detections in the ground truth's keypoint layout.

    Box and area (which decide the size bucket of an unmatched detection) are the extent of
    the submitted points *the protocol scores*, as pycocotools' loadRes computes them: a
    21-point submission under coco/coco17 then scores exactly as its 17-point COCO copy, and
    padding a 17-point row to 21 slots changes nothing.
    """
    scored = sub.keypoints
    if params.keypoint_index is not None and sub.K == NUM_KEYPOINTS:
        scored = sub.keypoints[:, params.keypoint_index]
    elif sub.K == NUM_KEYPOINTS and gt_k == 17:
        scored = sub.keypoints[:, COCO17_INDEX]
    bbox, area = keypoint_extent_boxes(scored)
    if sub.K == gt_k:
        kp, sig, cov = sub.keypoints, sub.sigmas, sub.covs
    elif gt_k == NUM_KEYPOINTS:
        kp, sig, cov = sub.to_unified()
    else:  # a 21-point submission on a COCO ground truth: its COCO points
        kp = sub.keypoints[:, COCO17_INDEX]
        sig = None if sub.sigmas is None else sub.sigmas[:, COCO17_INDEX]
        cov = None if sub.covs is None else sub.covs[:, COCO17_INDEX]
    return Detections(sub.image_ids, kp, sub.scores, sig, cov, sub.record_index, area, bbox)


def score(
    gt: str | os.PathLike | LoadedGroundTruth,
    preds: str | os.PathLike | list | Submission,
    protocol: str | None = None,
    split: str | None = "test",
    max_dets: int = 20,
    skip_invalid: bool = False,
    max_bytes: int = MAX_BYTES,
) -> Scored:
    """Load, validate and match once."""
    lgt = gt if isinstance(gt, LoadedGroundTruth) else load_groundtruth(gt, split)
    if isinstance(preds, Submission):
        sub = preds
    else:
        allowed = (NUM_KEYPOINTS, 17) if lgt.K == NUM_KEYPOINTS else (17, NUM_KEYPOINTS)
        sub = load_submission(
            preds, lgt.gt.eval_image_ids, skip_invalid=skip_invalid, max_bytes=max_bytes, allowed_k=allowed,
            on_parsed=warm_up_in_background,
        )  # fmt: skip
    name, params = protocol_params(protocol, lgt.K, sub.K, max_dets)
    dt = detections_for(sub, lgt.K, params)
    return Scored(lgt, sub, dt, params, name, match(lgt.gt, dt, params))


def evaluate(
    gt: str | os.PathLike | LoadedGroundTruth,
    preds: str | os.PathLike | list | Submission,
    protocol: str | None = None,
    split: str | None = "test",
    bootstrap: int = 0,
    seed: int = 0,
    calibration: str | os.PathLike | np.ndarray | None = None,
    max_dets: int = 20,
    skip_invalid: bool = False,
    name: str | None = None,
    run: dict[str, Any] | None = None,
    per_keypoint: bool = True,
    kd_bins: int = 10,
    max_bytes: int = MAX_BYTES,
) -> EvaluationResult:
    """Score ``preds`` against ``gt`` (paths or loaded objects); see the module docstring."""
    s = score(gt, preds, protocol, split, max_dets, skip_invalid, max_bytes)
    names = _keypoint_names(s)
    # per-keypoint AP and the KD curve are mostly compiled nogil matching: they run on a second
    # thread while this one does the rest; every part only reads the shared matching, so the
    # results are the same as one after the other
    with ThreadPoolExecutor(1) as pool:
        per_kp = (
            pool.submit(per_keypoint_ap, s.gt.gt, s.dt, s.params, names, s.result) if per_keypoint else None
        )
        kd = pool.submit(kd_curve, s.gt.gt, s.dt, s.params, kd_bins, s.result) if kd_bins else None
        doc, beyond = _document(s, names, bootstrap, seed, calibration, name, run)
        doc["kd_curve"] = kd.result() if kd is not None else []
        doc["per_keypoint"] = per_kp.result() if per_kp is not None else {}
    doc = clean(doc)
    return EvaluationResult(doc["metrics"], doc, s, {"variances": beyond.get("variances")})


def _document(
    s: Scored,
    names: list[str],
    bootstrap: int,
    seed: int,
    calibration: str | os.PathLike | np.ndarray | None,
    name: str | None,
    run: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The metrics document (without the KD curve and per-keypoint AP) and the beyond-AP block."""
    stats = s.stats()
    keys = COCO_KEYS if s.protocol == "coco" else [k for k in METRIC_KEYS if k in stats]
    metrics: dict[str, float | None] = {k: (stats[k] if stats[k] >= 0 else None) for k in keys}
    beyond = beyond_ap(s, calibration)
    metrics["surprise"] = beyond["surprise"]["by_bucket"].get("all")
    ci = {}
    if bootstrap > 0:
        raw = boot.bootstrap_ci(s.stats, list(keys), s.result.num_images, bootstrap, seed)
        ci = {k: v["ci"] for k, v in raw.items() if metrics.get(k) is not None}
    doc = {
        "schema": SCHEMA,
        "run": _run_block(name, run, s),
        "gt": s.gt.describe(),
        "submission": {
            "file": s.sub.path,
            "records": s.sub.num_records,
            "scored": len(s.sub.image_ids),
            "skipped": [x.to_dict() for x in s.sub.skipped],
            "uncertainty": _uncertainty_kind(s.sub),
        },  # fmt: skip
        "protocol": _protocol_block(s, names),
        "metrics": metrics,
        "ci": ci,
        "bootstrap": {"resamples": bootstrap, "seed": seed, "level": boot.LEVEL, "unit": "image"}
        if bootstrap
        else None,
        "kd_curve": None,  # this and the next: filled by the caller (computed on another thread)
        "per_keypoint": None,
        "surprise": beyond["surprise"],
        "surprise_source": beyond["surprise"]["source"],
        "l2_error": beyond["l2_error"],
        "pckh": beyond["pckh"],
        "counts": _counts(s),
        "stats": {k: (v if v >= 0 else None) for k, v in stats.items()},
    }
    return doc, beyond


# ---- beyond AP ------------------------------------------------------------------------------------
def keypoint_mask(params: Params, gt_k: int) -> np.ndarray:
    mask = np.zeros(gt_k, dtype=bool)
    mask[params.keypoint_index if params.keypoint_index is not None else slice(None)] = True
    return mask


def beyond_ap(s: Scored, calibration: str | os.PathLike | np.ndarray | None = None) -> dict[str, Any]:
    """Surprise and L2 error per bucket, and PCKh, on the pairs matched at OKS 0.5."""
    gt, dt, res = s.gt.gt, s.dt, s.result
    mask = keypoint_mask(s.params, gt.num_joints)
    variances = None
    if dt.covs is not None or dt.sigmas is not None:
        source = "predicted"
    elif calibration is not None:
        source = "calibration"
        variances = calibration if isinstance(calibration, np.ndarray) else load_calibration(calibration)
        if gt.num_joints == 17 and len(variances) == NUM_KEYPOINTS:
            variances = variances[COCO17_INDEX]
        if len(variances) != gt.num_joints:
            raise SmallPoseError(
                f"calibration has {len(variances)} variances; the ground truth has {gt.num_joints}"
            )
    else:
        source = "fitted-on-eval"
        d, g = matched_pairs(res, 0.5, "all")
        variances = fit_variances(gt.keypoints[g], dt.keypoints[d, :, :2], gt.bbox[g, 3], mask)
    # a pair's surprise and L2 depend on the pair only: compute them once over the pairs of all
    # buckets (mostly the same pairs), then average each bucket's own pairs in its order
    pairs = {}
    for bucket in s.params.bucket_names:
        d, g = matched_pairs(res, 0.5, bucket)
        ok = gt.bbox[g, 3] > 0  # a zero-height box cannot normalise
        d, g = d[ok], g[ok]
        if source == "calibration":
            need = (gt.keypoints[g, :, 2] > 0) & mask[None, :] & ~np.isfinite(variances)[None, :]
            if need.any():
                k = int(np.flatnonzero(need.any(0))[0])
                raise SmallPoseError(f"calibration has no variance for keypoint {_name(gt.num_joints, k)!r}")
        pairs[bucket] = d * len(gt) + g
    uniq, inverse = np.unique(np.concatenate(list(pairs.values())), return_inverse=True)
    d, g = uniq // len(gt), uniq % len(gt)
    h = gt.bbox[g, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        sp_all = pair_surprise(gt.keypoints[g], dt.keypoints[d, :, :2], h, mask,
                               None if dt.sigmas is None else dt.sigmas[d],
                               None if dt.covs is None else dt.covs[d], variances)  # fmt: skip
        le_all = pair_l2(gt.keypoints[g], dt.keypoints[d, :, :2], h, mask)
    surprise, l2, at = {}, {}, 0
    for bucket, keys in pairs.items():
        idx = inverse[at : at + len(keys)]
        at += len(keys)
        sp, le = sp_all[idx], le_all[idx]
        surprise[bucket] = float(np.nanmean(sp)) if np.isfinite(sp).any() else None
        l2[bucket] = float(np.nanmean(le)) if np.isfinite(le).any() else None
    surprise_block = {"source": source, "by_bucket": surprise, "pairs_at": "OKS 0.5",
                      "normalised_by": "ground-truth box height"}  # fmt: skip
    if variances is not None:
        surprise_block["keypoint_variances"] = {
            _name(gt.num_joints, k): float(variances[k])
            for k in np.flatnonzero(mask)
            if np.isfinite(variances[k])
        }
    return {
        "surprise": surprise_block,
        "l2_error": {"by_bucket": l2},
        "pckh": _pckh(s, mask),
        "variances": variances,
    }


def _pckh(s: Scored, mask: np.ndarray) -> dict | None:
    gt, dt, res = s.gt.gt, s.dt, s.result
    if gt.head_box is None:
        return None
    hs = head_size(gt.head_box)
    if not (np.isfinite(hs) & (hs > 0)).any():
        return None  # pckh() would find no usable head box (skips building its (G, K) arrays)
    G = len(gt)
    pred = np.zeros((G, gt.num_joints, 2))
    matched = np.zeros(G, dtype=bool)
    d, g = matched_pairs(res, 0.5, "all")
    pred[g] = dt.keypoints[d, :, :2]
    matched[g] = True
    counted = np.zeros(G, dtype=bool)
    counted[res.gt_rows] = ~res.gt_ignore[s.params.bucket_index("all")]
    out = pckh(gt.keypoints, gt.head_box, pred, matched, counted, mask)
    if out is not None and gt.num_joints != NUM_KEYPOINTS:
        out["per_keypoint"] = {COCO17_NAMES[int(k)]: v for k, v in out["per_keypoint"].items()}
    return out


# ---- document parts -------------------------------------------------------------------------------
def _name(gt_k: int, k: int) -> str:
    return (KEYPOINT_NAMES if gt_k == NUM_KEYPOINTS else COCO17_NAMES)[k]


def _keypoint_names(s: Scored) -> list[str]:
    if s.params.keypoint_index is not None:
        return [KEYPOINT_NAMES[int(k)] for k in s.params.keypoint_index]
    return list(KEYPOINT_NAMES if s.gt.K == NUM_KEYPOINTS else COCO17_NAMES)


def _uncertainty_kind(sub: Submission) -> str | None:
    return "covariance" if sub.covs is not None else ("isotropic" if sub.sigmas is not None else None)


def _run_block(name: str | None, run: dict[str, Any] | None, s: Scored) -> dict[str, Any]:
    out = {k: None for k in ("name", "model", "backbone", "input_size", "setting", "train_data")}
    out.update({k: v for k, v in (run or {}).items() if v is not None})
    out["name"] = name or out["name"] or os.path.splitext(os.path.basename(s.sub.path))[0]
    return out


def _protocol_block(s: Scored, names: list[str]) -> dict[str, Any]:
    p = s.params
    return {
        "name": s.protocol,
        "keypoints": names,
        "sigmas": p.sigmas,
        "max_dets": p.max_dets[-1],
        "iou_thrs": np.round(p.iou_thrs, 10),
        "rec_thrs": len(p.rec_thrs),
        "buckets": [
            {
                "name": b.name,
                "area_field": b.area_field,
                "area_rng": list(b.area_rng),
                "area_closed": b.area_closed,
                "kd_rng": list(b.kd_rng) if b.kd_rng else None,
                "kd_closed": b.kd_closed if b.kd_rng else None,
            }
            for b in p.buckets
        ],  # fmt: skip
        "unbounded": "a null upper bound in area_rng means +infinity",
    }


def _counts(s: Scored) -> dict[str, int]:
    res, max_det = s.result, s.params.max_dets[-1]
    _, per_image = np.unique(s.dt.image_ids, return_counts=True)
    return {
        "images": res.num_images,
        "ground_truths": len(s.gt.gt),
        "detections": len(s.dt),
        "images_over_max_dets_gt": res.images_over_max_dets,
        "images_over_max_dets_dt": int((per_image > max_det).sum()),
        "detections_cut_by_max_dets": res.num_cut_detections,
    }


def format_table(doc: dict[str, Any]) -> str:
    """The paper's table (AP in percent) and a line of secondary figures."""
    m, ci = doc["metrics"], doc.get("ci") or {}
    cols = [(t, k) for t, k in TABLE if k in m]

    def cell(k: str) -> str:
        v = m.get(k)
        if v is None:
            return "-"
        return f"{v:.3f}" if k == "surprise" else f"{100 * v:.1f}"

    def ci_cell(k: str) -> str:
        lo, hi = ci.get(k) or (None, None)
        return "" if lo is None or hi is None else f"[{100 * lo:.1f},{100 * hi:.1f}]"

    cells = [cell(k) for _, k in cols]
    cis = [ci_cell(k) for _, k in cols]
    widths = [max(len(t), len(c), len(i)) for (t, _), c, i in zip(cols, cells, cis)]
    head = " | ".join(t.rjust(w) for (t, _), w in zip(cols, widths))
    lines = [f"{doc['run']['name']}  [{doc['protocol']['name']}]", head, "-" * len(head)]
    lines.append(" | ".join(c.rjust(w) for c, w in zip(cells, widths)))
    if any(cis):
        lines.append(" | ".join(c.rjust(w) for c, w in zip(cis, widths)) + "   (95% bootstrap CI)")
    extra = [f"{k} {100 * m[k]:.1f}" for k in ("AP50", "AP75", "AR50", "AR75") if m.get(k) is not None]
    l2 = (doc.get("l2_error") or {}).get("by_bucket", {}).get("all")
    if l2 is not None:
        extra.append(f"L2/h {l2:.4f}")
    if doc.get("pckh"):
        extra.append(f"PCKh@0.5 {100 * doc['pckh']['PCKh']:.1f}")
    if m.get("surprise") is not None:
        extra.append(f"surprise from {doc['surprise_source']}")
    lines.append("  ".join(extra))
    c = doc["counts"]
    if c["images_over_max_dets_gt"] or c["images_over_max_dets_dt"]:
        lines.append(
            f"note: {c['images_over_max_dets_gt']} image(s) have more people and "
            f"{c['images_over_max_dets_dt']} more detections than maxDets={doc['protocol']['max_dets']} "
            "(raise it with --max-dets)"
        )
    if not doc["submission"]["scored"]:
        lines.append("note: the submission has no valid record; every score is 0")
    if doc["submission"]["skipped"]:
        lines.append(f"note: {len(doc['submission']['skipped'])} invalid record(s) skipped (--skip-invalid)")
    return "\n".join(lines)
