"""Figures describing a store: the paper's Fig. 2 (box sizes), Fig. 3 (CrowdIndex), the KD
distribution of small instances, and a grid of sample crops with the skeleton drawn.

``smallpose stats STORE --figures DIR`` and ``smallpose report --store STORE`` both call
:func:`write_dataset_figures`. Statistics come from the store's own columns (size_bucket,
kd, crowd_index), so the figures show exactly what the evaluator buckets by.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from smallpose.reports.plotting import BUCKET_COLORS, DENSITY_COLORS, SIDE_COLORS, figure_style, save_png

from smallpose.skeleton import KEYPOINT_NAMES, SKELETON_EDGES, SOURCES
from smallpose.store import Store, boxes_array, keypoints_array

S_MAX, M_MAX = 128 * 96, 256 * 192
KD_EDGES = (0.0, 0.35, 0.95, 1.0)
GRID_ROWS = (("S", "sparse"), ("S", "moderate"), ("S", "dense"), ("M", None), ("L", None))
CAPTIONS = {
    "box_area": "Box-size distribution per source, S/M/L boundaries at 128x96 and 256x192 (paper's Fig. 2).",
    "crowd_index": "CrowdIndex distribution per source (the paper's Fig. 3).",
    "kd_small": "Keypoint density of small instances; sparse/moderate/dense boundaries at 0.35 and 0.95.",
    "samples": "Samples per size bucket and density class; 21-point skeleton (left blue, right orange).",
}


def _sources(values: pd.Series) -> list[str]:
    present = set(values.dropna().unique())
    return [s for s in SOURCES if s in present] + sorted(present - set(SOURCES))


def box_area_figure(inst: pd.DataFrame, path: Path) -> Path | None:
    """Fig. 2 as small multiples: fraction of instances per sqrt(box area), one panel per source."""
    import matplotlib.pyplot as plt

    inst = inst[(~inst["iscrowd"]) & (inst["bbox_area"] > 0)]
    if inst.empty:
        return None
    sources = _sources(inst["source"])
    panels = sources + (["all"] if len(sources) > 1 else [])
    bins = np.geomspace(4, 2048, 55)
    with figure_style():
        fig, axes = plt.subplots(
            len(panels), 1, figsize=(7.5, 1.5 * len(panels) + 1.1), sharex=True, squeeze=False
        )
        for ax, name in zip(axes[:, 0], panels):
            sub = inst if name == "all" else inst[inst["source"] == name]
            side = np.clip(np.sqrt(sub["bbox_area"].to_numpy(float)), bins[0], bins[-1] * 0.999)
            ax.hist(side, bins=bins, weights=np.full(len(side), 100.0 / len(side)), color="#555", alpha=0.85)
            for lo, hi, b in (
                (bins[0], np.sqrt(S_MAX), "S"),
                (np.sqrt(S_MAX), np.sqrt(M_MAX), "M"),
                (np.sqrt(M_MAX), bins[-1], "L"),
            ):
                ax.axvspan(lo, hi, color=BUCKET_COLORS[b], alpha=0.10, lw=0)
            for edge in (S_MAX, M_MAX):
                ax.axvline(np.sqrt(edge), color="black", ls="--", lw=0.9)
            share = sub["size_bucket"].value_counts(normalize=True)
            text = "   ".join(f"{b} {100 * share.get(b, 0):.0f}%" for b in "SML")
            ax.set_title(f"{name}  (n={len(sub):,} instances)   {text}", loc="left", fontsize=9)
            ax.set_ylabel("% of inst.")
            ax.set_xscale("log")
            ax.set_xlim(bins[0], bins[-1])
        top = axes[0, 0]
        for edge, label in ((S_MAX, "128x96"), (M_MAX, "256x192")):
            top.text(np.sqrt(edge), 1.03, label, transform=top.get_xaxis_transform(), ha="center", fontsize=8)
        ticks = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
        axes[-1, 0].set_xticks(ticks, [str(t) for t in ticks])
        axes[-1, 0].set_xlabel("sqrt(box area) in pixels (log scale)")
        fig.suptitle("Box-area distribution per source (dashed: S/M/L boundaries)", y=0.995)
        fig.tight_layout()
        return save_png(fig, path)


def crowd_index_figure(images: pd.DataFrame, path: Path) -> Path | None:
    """Fig. 3: fraction of images per CrowdIndex bin (0.1 wide, the last one open), per source."""
    import matplotlib.pyplot as plt

    images = images[images["crowd_index"].notna()]
    if images.empty:
        return None
    sources = _sources(images["source"])
    edges = np.round(np.arange(0, 1.01, 0.1), 2)
    width = 0.8 / len(sources)
    cmap = plt.get_cmap("tab10")
    with figure_style():
        fig, ax = plt.subplots(figsize=(8, 4))
        for i, name in enumerate(sources):
            ci = images.loc[images["source"] == name, "crowd_index"].to_numpy(float)
            idx = np.clip(np.searchsorted(edges, ci, side="right") - 1, 0, len(edges) - 2)
            frac = np.bincount(idx, minlength=len(edges) - 1) / len(ci) * 100
            x = np.arange(len(frac)) - 0.4 + width * (i + 0.5)
            ax.bar(x, frac, width, color=cmap(i % 10), label=f"{name} (n={len(ci):,} images)")
        labels = [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(edges[:-2], edges[1:-1])] + [f">={edges[-2]:.1f}"]
        ax.set_xticks(range(len(labels)), labels, rotation=30)
        ax.set_xlabel("CrowdIndex")
        ax.set_ylabel("% of images")
        ax.set_title("CrowdIndex distribution per source")
        ax.grid(axis="x", visible=False)
        ax.legend(frameon=False)
        fig.tight_layout()
        return save_png(fig, path)


def kd_figure(inst: pd.DataFrame, path: Path) -> Path | None:
    """KD histogram of small instances, stacked by source, with the density-class boundaries."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    small = inst[(inst["size_bucket"] == "S") & inst["kd"].notna() & (~inst["iscrowd"])]
    if small.empty:
        return None
    sources = _sources(small["source"])
    bins = np.linspace(0, 1, 41)
    cmap = plt.get_cmap("tab10")
    with figure_style():
        fig, ax = plt.subplots(figsize=(8, 4))
        data = [small.loc[small["source"] == s, "kd"].to_numpy(float) for s in sources]
        ax.hist(
            data, bins=bins, stacked=True, color=[cmap(i % 10) for i in range(len(sources))], label=sources
        )
        counts = small["kd_class"].value_counts()
        for (lo, hi), name in zip(zip(KD_EDGES[:-1], KD_EDGES[1:]), ("sparse", "moderate", "dense")):
            ax.axvspan(lo, hi, color=DENSITY_COLORS[name], alpha=0.08, lw=0)
            ax.text(
                (lo + hi) / 2,
                1.01,
                f"{name}\n{counts.get(name, 0):,}",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=8,
                color=DENSITY_COLORS[name],
            )
        for edge in KD_EDGES[1:-1]:
            ax.axvline(edge, color="black", ls="--", lw=0.9)
        ax.set_xlim(0, 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("keypoint density KD")
        ax.set_ylabel("small instances")
        ax.set_title(f"KD of small instances (n={len(small):,}); dashed: 0.35 and 0.95", pad=28)
        ax.legend(frameon=False, loc="upper left")
        fig.tight_layout()
        return save_png(fig, path)


def _image_roots(store: Store) -> dict[str, list[Path]]:
    """source kind -> candidate image roots from the manifest (relative roots: store dir, then cwd)."""
    roots: dict[str, list[Path]] = {}
    for entry in store.manifest.get("sources") or []:
        if not isinstance(entry, dict) or not entry.get("root"):
            continue
        root = Path(str(entry["root"]))
        cands = [root] if root.is_absolute() else [store.path / root, root]
        roots.setdefault(str(entry.get("kind", "")), []).extend(cands)
    return roots


def _side(a: int, b: int) -> str:
    na, nb = KEYPOINT_NAMES[a], KEYPOINT_NAMES[b]
    for side in ("left", "right"):
        if na.startswith(side) and nb.startswith(side):
            return side
    return "centre"


def _draw_instance(ax, img, box: np.ndarray, kpts: np.ndarray) -> None:
    x, y, w, h = box
    side = max(w, h) * 1.25 + 8
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(np.floor(cx - side / 2)), int(np.floor(cy - side / 2))
    x1, y1 = x0 + int(np.ceil(side)), y0 + int(np.ceil(side))
    crop = np.asarray(img.crop((x0, y0, x1, y1)).convert("RGB"))
    ax.imshow(crop, extent=(x0, x1, y1, y0), interpolation="nearest")
    lw = 1.3
    for a, b in SKELETON_EDGES:
        if kpts[a, 2] > 0 and kpts[b, 2] > 0:
            ax.plot(kpts[[a, b], 0], kpts[[a, b], 1], color=SIDE_COLORS[_side(a, b)], lw=lw)
    vis = kpts[:, 2] > 0
    colors = [SIDE_COLORS[_side(i, i)] for i in np.flatnonzero(vis)]
    ax.scatter(kpts[vis, 0], kpts[vis, 1], s=9, c=colors, edgecolors="white", linewidths=0.4, zorder=3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)


def sample_grid_figure(
    store: Store, inst: pd.DataFrame, path: Path, per_row: int = 6, seed: int = 0
) -> Path | None:
    """Crops per bucket/density class with the skeleton; None when no image file can be found."""
    import matplotlib.pyplot as plt
    from PIL import Image

    roots = _image_roots(store)
    if not roots:
        return None
    images = store.images.select(["image_id", "source", "file_name"]).to_pandas().set_index("image_id")
    rng = np.random.default_rng(seed)
    ok = (~inst["iscrowd"]) & (inst["num_keypoints"] > 0)
    picks: list[list[int]] = []
    found_files: dict[int, Path | None] = {}

    def image_path(image_id: int) -> Path | None:
        if image_id not in found_files:
            src, name = images.at[image_id, "source"], images.at[image_id, "file_name"]
            cands = roots.get(src) or [r for rs in roots.values() for r in rs]
            found_files[image_id] = next((r / name for r in cands if name and (r / name).is_file()), None)
        return found_files[image_id]

    for bucket, dclass in GRID_ROWS:
        sel = ok & (inst["size_bucket"] == bucket)
        if dclass:
            sel &= inst["kd_class"] == dclass
        cand = np.flatnonzero(sel.to_numpy())
        cand = cand[np.argsort(inst["instance_id"].to_numpy()[cand], kind="stable")]
        chosen = []
        for i in rng.permutation(cand)[: per_row * 20]:
            if image_path(int(inst["image_id"].iat[i])) is not None:
                chosen.append(int(i))
                if len(chosen) == per_row:
                    break
        picks.append(chosen)
    if not any(picks):
        return None
    per_row = max(3, max(len(p) for p in picks))
    flat = sorted({i for row in picks for i in row})
    taken = store.instances.take(flat)
    kp_by = dict(zip(flat, keypoints_array(taken["keypoints"])))
    box_by = dict(zip(flat, boxes_array(taken["bbox"])))
    with figure_style():
        fig, axes = plt.subplots(
            len(GRID_ROWS), per_row, figsize=(1.65 * per_row + 0.6, 1.85 * len(GRID_ROWS)), squeeze=False
        )
        for r, ((bucket, dclass), chosen) in enumerate(zip(GRID_ROWS, picks)):
            for c in range(per_row):
                ax = axes[r, c]
                ax.set_xticks([])
                ax.set_yticks([])
                ax.grid(False)
                for sp in ax.spines.values():  # neutral frame: colour is reserved for the skeleton
                    sp.set_visible(True)
                    sp.set_color("#888888")
                if c == 0:
                    ax.set_ylabel(f"{bucket}" + (f" / {dclass}" if dclass else ""), fontsize=9)
                if c >= len(chosen):
                    if c == 0:
                        ax.text(0.5, 0.5, "no sample", ha="center", va="center", transform=ax.transAxes)
                    else:
                        ax.set_visible(False)
                    continue
                i = chosen[c]
                with Image.open(image_path(int(inst["image_id"].iat[i]))) as img:
                    _draw_instance(ax, img, box_by[i], kp_by[i])
                kd = inst["kd"].iat[i]
                h = box_by[i][3]
                ax.set_title(
                    f"{inst['source'].iat[i]} h={h:.0f}px" + (f" KD={kd:.2f}" if dclass else ""), fontsize=7
                )
        fig.suptitle(
            "Samples per size bucket and density class\nskeleton: blue left, orange right, green centre"
        )
        fig.tight_layout()
        return save_png(fig, path)


def write_dataset_figures(
    store: Store, out_dir: str | Path, notes: list[str] | None = None, seed: int = 0
) -> list[Path]:
    """Write the dataset figures into ``out_dir``; returns the PNGs written.

    A figure without data (no small instances, no image files) is skipped and a note says
    why: appended to ``notes`` when given, else printed to stderr.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say: Callable[[str], None] = (
        notes.append if notes is not None else (lambda m: print(f"note: {m}", file=sys.stderr))
    )
    cols = [
        "instance_id",
        "image_id",
        "source",
        "bbox_area",
        "iscrowd",
        "num_keypoints",
        "size_bucket",
        "kd",
        "kd_class",
    ]
    inst = store.instances.select(cols).to_pandas()
    images = store.images.select(["image_id", "source", "crowd_index"]).to_pandas()
    written: list[Path] = []
    jobs = (
        ("box_area", lambda p: box_area_figure(inst, p), "no instance with a positive box area"),
        ("crowd_index", lambda p: crowd_index_figure(images, p), "no image has a CrowdIndex"),
        ("kd_small", lambda p: kd_figure(inst, p), "no small instance with a KD"),
        (
            "samples",
            lambda p: sample_grid_figure(store, inst, p, seed=seed),
            "no image files found (manifest 'sources' roots missing or images absent)",
        ),
    )
    for stem, fn, why in jobs:
        p = fn(out / f"{stem}.png")
        if p is None:
            say(f"{stem}.png skipped: {why}")
        else:
            written.append(p)
    return written
