"""Figures drawn from metrics files: the paper's Fig. 5, Fig. 4a and a per-keypoint heat-map.

Each function returns the PNG path, or ``None`` when no run carries the data it needs
(the report then says so instead of showing an empty axis).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from smallpose.reports.leaderboard import Row
from smallpose.reports.plotting import BUCKET_COLORS, DENSITY_COLORS, figure_style, save_png

from smallpose.skeleton import KEYPOINT_NAMES

KD_CLASS_EDGES = (0.0, 0.35, 0.95, 1.0)
_SETTING_HATCH = {"A": "////", "B": None}


def _model_label(row: Row) -> str:
    r = row.run
    return r.model if not r.backbone else f"{r.model}\n{r.backbone}"


def _run_label(row: Row) -> str:
    r = row.run
    bits = [r.model]
    if r.backbone:
        bits.append(f"({r.backbone})")
    if r.setting:
        bits.append(r.setting)
    label = " ".join(bits)
    return label if r.name in (r.model, label) else f"{label} [{r.name}]"


def ap_by_size(rows: list[Row], path: Path) -> Path | None:
    """Fig. 5: AP^S/M/L per model, Setting A hatched next to Setting B solid."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    keys = ("AP_S", "AP_M", "AP_L")
    rows = [r for r in rows if any(k in r.run.metrics for k in keys)]
    if not rows:
        return None
    models: list[tuple[str, str, str]] = []
    for r in rows:
        if r.run.pair_key not in models:
            models.append(r.run.pair_key)
    settings = sorted({r.run.setting.upper() for r in rows}, key=lambda s: ({"A": 0, "B": 1}.get(s, 2), s))
    by = {(r.run.pair_key, r.run.setting.upper()): r for r in rows}
    n_bars = len(keys) * len(settings)
    width = 0.84 / n_bars
    with figure_style():
        fig, ax = plt.subplots(figsize=(min(22.0, max(6.5, (0.3 * n_bars + 0.35) * len(models) + 1.2)), 4.6))
        for m, key in enumerate(models):
            for b, k in enumerate(keys):
                for s, setting in enumerate(settings):
                    row = by.get((key, setting))
                    v = row.run.metrics.get(k) if row else None
                    if v is None:
                        continue
                    x = m - 0.42 + width * (b * len(settings) + s + 0.5)
                    hatch = _SETTING_HATCH.get(setting, "..")
                    color = BUCKET_COLORS[k[-1]]
                    ax.bar(
                        x,
                        v * 100,
                        width,
                        color="white" if hatch else color,
                        edgecolor=color,
                        hatch=hatch,
                        linewidth=1.0,
                    )
                    if len(models) <= 8:
                        ax.text(
                            x,
                            v * 100 + 1,
                            f"{v * 100:.1f}",
                            ha="center",
                            va="bottom",
                            fontsize=6,
                            rotation=90,
                        )
        labels = [_model_label(next(r for r in rows if r.run.pair_key == key)) for key in models]
        ax.set_xticks(range(len(models)), labels)
        ax.set_xlim(-0.6, len(models) - 0.4)
        ax.set_ylim(0, 112)
        ax.set_ylabel("AP (x100)")
        ax.set_title("AP by instance size, Setting A (hatched) vs Setting B (solid)")
        ax.grid(axis="x", visible=False)
        handles = [Patch(facecolor=BUCKET_COLORS[k[-1]], label=f"AP$^{k[-1]}$") for k in keys]
        handles += [
            Patch(
                facecolor="white" if _SETTING_HATCH.get(s, "..") else "grey",
                edgecolor="grey",
                hatch=_SETTING_HATCH.get(s, ".."),
                label=f"Setting {s or '?'}",
            )
            for s in settings
        ]
        ax.legend(handles=handles, ncol=len(handles), loc="upper left", frameon=False)
        fig.tight_layout()
        return save_png(fig, path)


def ap_vs_kd(rows: list[Row], path: Path) -> Path | None:
    """Fig. 4a: AP of small instances as a function of keypoint density, one line per run."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if any(math.isfinite(b["AP"]) for b in r.run.kd_curve)]
    if not rows:
        return None
    with figure_style():
        fig, ax = plt.subplots(figsize=(7.5, 4.4))
        for (lo, hi), name in zip(zip(KD_CLASS_EDGES[:-1], KD_CLASS_EDGES[1:]), DENSITY_COLORS):
            ax.axvspan(lo, hi, color=DENSITY_COLORS[name], alpha=0.08, lw=0)
            ax.text(
                (lo + hi) / 2,
                1.0,
                name,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                color=DENSITY_COLORS[name],
                fontsize=8,
            )
        for edge in KD_CLASS_EDGES[1:-1]:
            ax.axvline(edge, color="grey", ls=":", lw=1)
        pairs: list[tuple[str, str, str]] = []
        for r in rows:
            if r.run.pair_key not in pairs:
                pairs.append(r.run.pair_key)
        cmap = plt.get_cmap("tab10")
        for r in rows:
            curve = sorted(r.run.kd_curve, key=lambda b: b["kd_lo"])
            x = np.array([(b["kd_lo"] + b["kd_hi"]) / 2 for b in curve])
            y = np.array([b["AP"] * 100 if b.get("n_gt", 1) != 0 else np.nan for b in curve])
            ls = "--" if r.run.setting.upper() == "A" else "-"
            ax.plot(
                x,
                y,
                ls=ls,
                marker="o",
                ms=3.5,
                lw=1.4,
                color=cmap(pairs.index(r.run.pair_key) % 10),
                label=_run_label(r).replace("\n", " "),
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 100)
        ax.set_xlabel("keypoint density KD (small instances)")
        ax.set_ylabel("AP (x100)")
        ax.set_title("AP vs keypoint density (Setting A dashed, B solid)", pad=16)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        return save_png(fig, path)


def per_keypoint_heatmap(rows: list[Row], path: Path) -> Path | None:
    """Per-keypoint AP as a run x keypoint heat-map; grey where a run has no value."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.run.per_keypoint]
    if not rows:
        return None
    present = {k for r in rows for k in r.run.per_keypoint}
    names = [k for k in KEYPOINT_NAMES if k in present] + sorted(present - set(KEYPOINT_NAMES))
    grid = np.array([[r.run.per_keypoint.get(k, np.nan) for k in names] for r in rows], dtype=float) * 100
    data = np.ma.masked_invalid(grid)
    with figure_style():
        fig, ax = plt.subplots(figsize=(min(24.0, 0.42 * len(names) + 4.5), 0.38 * len(rows) + 2.3))
        cmap = plt.get_cmap("viridis").with_extremes(bad="#dddddd")
        im = ax.imshow(data, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
        ax.grid(False)
        ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=60, ha="right")
        ax.set_yticks(range(len(rows)), [_run_label(r).replace("\n", " ") for r in rows])
        if len(rows) <= 30:
            for i in range(len(rows)):
                for j in range(len(names)):
                    v = grid[i, j]
                    if np.isfinite(v):
                        ax.text(
                            j,
                            i,
                            f"{v:.0f}",
                            ha="center",
                            va="center",
                            fontsize=6.5,
                            color="black" if v > 55 else "white",
                        )
        fig.colorbar(im, ax=ax, label="AP (x100)", fraction=0.025, pad=0.02)
        ax.set_title("Per-keypoint AP (grey: not evaluated)")
        fig.tight_layout()
        return save_png(fig, path)


def write_run_figures(rows: list[Row], out_dir: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """All run figures with captions, plus notes on the ones skipped for lack of data."""
    out_dir = Path(out_dir)
    made: list[tuple[Path, str]] = []
    notes: list[str] = []
    specs = (
        (
            ap_by_size,
            "ap_by_size.png",
            "AP^S/AP^M/AP^L per model, Setting A vs B (the paper's Fig. 5).",
            "no run has AP_S/AP_M/AP_L",
        ),
        (
            ap_vs_kd,
            "ap_vs_kd.png",
            "AP of small instances vs keypoint density (the paper's Fig. 4a).",
            "no run has a kd_curve",
        ),
        (
            per_keypoint_heatmap,
            "per_keypoint_ap.png",
            "Per-keypoint AP, run x keypoint.",
            "no run has per_keypoint AP",
        ),
    )
    for fn, name, caption, missing in specs:
        p = fn(rows, out_dir / name)
        if p is None:
            notes.append(f"{name} skipped: {missing}")
        else:
            made.append((p, caption))
    return made, notes
