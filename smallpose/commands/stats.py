"""`smallpose stats`: the paper's Table 1 and the store's composition, from the tables themselves.

Counts are recomputed from the Parquet rows (not copied from the manifest), so the command
also checks that a store that was moved, filtered or hand-edited says what it holds.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

HELP = "print a store's Table 1 (images and S/M/L instances per split), per-source, KD and CrowdIndex counts"
EXAMPLE = "smallpose stats smallpose_store --json"

SPLITS = ("train", "test")
BUCKETS = ("S", "M", "L")
KD_CLASSES = ("sparse", "moderate", "dense")
CI_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("store", metavar="STORE", help="a store directory written by `smallpose build`")
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    p.add_argument("--figures", metavar="DIR", help="also write the dataset figures (PNG/SVG) into DIR")


def compute_stats(store: Any) -> dict[str, Any]:
    """All numbers `stats` prints, as plain ints/floats (JSON-ready)."""
    import numpy as np

    im = store.images.select(["source", "split", "crowd_index"]).to_pandas()
    ins = store.instances.select(["source", "split", "size_bucket", "kd_class"]).to_pandas()
    splits = [s for s in SPLITS if s in set(im["split"])] + sorted(set(im["split"]) - set(SPLITS))

    def row(i_mask, n_mask) -> dict[str, int]:
        sub = ins[n_mask]
        out = {"images": int(i_mask.sum())}
        out.update({b: int((sub["size_bucket"] == b).sum()) for b in BUCKETS})
        out["total"] = int(len(sub))
        return out

    table1 = {sp: row(im["split"] == sp, ins["split"] == sp) for sp in splits}
    table1["total"] = row(np.ones(len(im), bool), np.ones(len(ins), bool))
    per_source = {
        src: {sp: row((im.source == src) & (im.split == sp), (ins.source == src) & (ins.split == sp))
              for sp in splits}
        for src in sorted(set(im["source"]))
    }  # fmt: skip
    small = ins[ins["size_bucket"] == "S"]
    kd = {
        sp: {c: int(((small["split"] == sp) & (small["kd_class"] == c)).sum()) for c in KD_CLASSES}
        for sp in splits
    }
    kd["total"] = {c: int((small["kd_class"] == c).sum()) for c in KD_CLASSES}
    ci = {sp: _ci_summary(im.loc[im["split"] == sp, "crowd_index"].to_numpy(float)) for sp in splits}
    ci["total"] = _ci_summary(im["crowd_index"].to_numpy(float))
    return {
        "store": str(store.path),
        "fingerprint": store.fingerprint,
        "table1": table1,
        "per_source": per_source,
        "small_kd_classes": kd,
        "crowd_index": ci,
    }


def _ci_summary(ci) -> dict[str, Any]:
    import numpy as np

    v = ci[np.isfinite(ci)]
    out: dict[str, Any] = {"images_with_ci": int(len(v)), "images_without_ci": int(len(ci) - len(v))}
    if len(v):
        out.update(mean=float(v.mean()), median=float(np.median(v)), p90=float(np.quantile(v, 0.9)),
                   max=float(v.max()))  # fmt: skip
    edges = list(CI_BINS) + [np.inf]
    hist = np.histogram(v, bins=edges)[0] if len(v) else np.zeros(len(edges) - 1, int)
    names = [f"[{a:g},{b:g})" for a, b in zip(CI_BINS, CI_BINS[1:])] + [f"[{CI_BINS[-1]:g},inf)"]
    out["histogram"] = {n: int(c) for n, c in zip(names, hist)}
    return out


def format_stats(st: dict[str, Any]) -> str:
    lines = [f"store {st['store']}  (fingerprint {st['fingerprint'][:12]})", "", "Table 1"]
    head = f"{'split':<8}{'images':>10}{'S':>10}{'M':>10}{'L':>10}{'total':>10}"
    lines += [head, "-" * len(head)]
    for sp, r in st["table1"].items():
        lines.append(f"{sp:<8}{r['images']:>10}{r['S']:>10}{r['M']:>10}{r['L']:>10}{r['total']:>10}")
    lines += [
        "",
        "per source",
        f"{'source':<11}{'split':<7}{'images':>9}{'S':>9}{'M':>9}{'L':>9}{'total':>9}",
    ]
    for src, by in st["per_source"].items():
        for sp, r in by.items():
            lines.append(f"{src:<11}{sp:<7}{r['images']:>9}{r['S']:>9}{r['M']:>9}{r['L']:>9}{r['total']:>9}")
    lines += ["", "KD classes of small instances", f"{'split':<8}" + "".join(f"{c:>10}" for c in KD_CLASSES)]
    for sp, r in st["small_kd_classes"].items():
        lines.append(f"{sp:<8}" + "".join(f"{r[c]:>10}" for c in KD_CLASSES))
    lines += ["", "CrowdIndex"]
    for sp, r in st["crowd_index"].items():
        if r["images_with_ci"]:
            lines.append(
                f"{sp:<8}mean {r['mean']:.3f}  median {r['median']:.3f}  p90 {r['p90']:.3f}  "
                f"max {r['max']:.3f}  ({r['images_with_ci']} images; {r['images_without_ci']} without points)"
            )
        else:
            lines.append(f"{sp:<8}no image with annotated points")
        lines.append("        " + "  ".join(f"{k} {v}" for k, v in r["histogram"].items()))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from smallpose.errors import SmallPoseError
    from smallpose.store import open_store

    store = open_store(args.store)
    st = compute_stats(store)
    if args.figures:
        try:
            from smallpose.reports.dataset_figures import write_dataset_figures
        except ImportError as e:
            raise SmallPoseError(f"dataset figures are unavailable in this installation ({e})") from None
        written = write_dataset_figures(store, args.figures)
        st["figures"] = [str(p) for p in (written or [])]
    print(json.dumps(st, indent=2, sort_keys=True) if args.json else format_stats(st))
    return 0
