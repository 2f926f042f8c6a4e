"""Paired comparison of two submissions on one ground truth (``smallpose eval --compare A B``).

Both are matched once; the bootstrap then draws image resamples and re-accumulates *both*
on each one, so the difference keeps the pairing (see :mod:`smallpose.metrics.bootstrap`
for the exact p-value definition).
"""

from __future__ import annotations

import os
from typing import Any

from smallpose.metrics.bootstrap import LEVEL, paired_bootstrap
from smallpose.metrics.evaluate import COCO_KEYS, score
from smallpose.metrics.groundtruth import load_groundtruth
from smallpose.metrics.metrics_file import METRIC_KEYS, clean

from smallpose.errors import SmallPoseError

COMPARE_SCHEMA = "smallpose-compare/1"


def compare(
    gt: str | os.PathLike,
    pred_a: str | os.PathLike | list,
    pred_b: str | os.PathLike | list,
    protocol: str | None = None,
    split: str | None = "test",
    n_boot: int = 1000,
    seed: int = 0,
    max_dets: int = 20,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """``{"schema", "A", "B", "protocol", "bootstrap", "metrics": {key: {A, B, diff, ci, p_value}}}``."""
    if n_boot <= 0:
        raise SmallPoseError("--compare needs --bootstrap N with N > 0 (e.g. 1000)")
    lgt = load_groundtruth(gt, split)
    a = score(lgt, pred_a, protocol, split, max_dets, skip_invalid)
    b = score(lgt, pred_b, protocol or a.protocol, split, max_dets, skip_invalid)
    keys = list(COCO_KEYS) if a.protocol == "coco" else [k for k in METRIC_KEYS if k in a.stats()]
    res = paired_bootstrap(a.stats, b.stats, keys, a.result.num_images, n_boot, seed)
    return clean({
        "schema": COMPARE_SCHEMA,
        "A": a.sub.path, "B": b.sub.path,
        "gt": lgt.describe(),
        "protocol": a.protocol,
        "bootstrap": {"resamples": n_boot, "seed": seed, "level": LEVEL, "unit": "image",
                      "p_value": "min(1, 2 * fraction of resamples with (A-B) * sign(observed A-B) <= 0)"},
        "metrics": res,
    })  # fmt: skip


def format_compare(doc: dict[str, Any]) -> str:
    lines = [
        f"A = {doc['A']}",
        f"B = {doc['B']}  [{doc['protocol']}, {doc['bootstrap']['resamples']} resamples]",
    ]
    head = f"{'metric':>14} | {'A':>6} | {'B':>6} | {'A-B':>6} | {'95% CI of A-B':>17} | {'p':>6}"
    lines += [head, "-" * len(head)]
    for k, r in doc["metrics"].items():
        lo, hi = r["ci"]
        ci = "-" if lo is None else f"[{100 * lo:+.1f}, {100 * hi:+.1f}]"
        lines.append(
            f"{k:>14} | {100 * r['A']:6.1f} | {100 * r['B']:6.1f} | {100 * r['diff']:+6.1f} | {ci:>17} | "
            f"{r['p_value']:6.3f}"
        )
    return "\n".join(lines)
