"""Figures drawn from metrics files: the paper's Fig. 5, Fig. 4a and a per-keypoint heat-map.

Each public function returns the PNG path, or ``None`` when no run carries the data it needs
(the report then says so instead of showing an empty axis). The ``draw_*`` functions build
the matplotlib Figure without saving it, so tests can inspect what was drawn.

Runs are grouped by :func:`bar_groups`: one group per model, its Setting A and B runs
side by side, unless the model has several runs in one setting (noise levels, seeds,
checkpoints); each of those runs then gets its own group, labelled with its run name.
Both Fig. 5 (one bar cluster per group) and Fig. 4a (one colour per group) use it, so a
run is never hidden behind another run of the same model.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from smallpose.reports.leaderboard import Row
from smallpose.reports.plotting import BUCKET_COLORS, DENSITY_COLORS, figure_style, save_png

from smallpose.skeleton import KEYPOINT_NAMES

KD_CLASS_EDGES = (0.0, 0.35, 0.95, 1.0)
SIZE_KEYS = ("AP_S", "AP_M", "AP_L")
_SETTING_HATCH = {"A": "////", "B": None}
#: markers cycled when there are more groups than distinct colours
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass
class BarGroup:
    """Runs drawn together: at most one run per setting."""

    label: str
    runs: dict[str, Row] = field(default_factory=dict)  # setting (upper case) -> row


def _setting_key(s: str) -> tuple[int, str]:
    return ({"A": 0, "B": 1}.get(s, 2), s)


def bar_groups(rows: list[Row]) -> list[BarGroup]:
    """Groups in first-appearance order, with labels unique across the figure.

    A label is the model (and backbone), then the input size, then the run name added
    only where needed to tell groups apart; a numeric suffix is the last resort.
    """
    taken = Counter((r.run.pair_key, r.run.setting.upper()) for r in rows)
    keys: list[Any] = []
    members: dict[Any, list[Row]] = {}
    for i, r in enumerate(rows):
        shared = taken[(r.run.pair_key, r.run.setting.upper())] == 1
        key = r.run.pair_key if shared else (r.run.pair_key, i)
        if key not in members:
            keys.append(key)
            members[key] = []
        members[key].append(r)
    groups = [members[k] for k in keys]

    def base(g: list[Row]) -> str:
        r = g[0].run
        return f"{r.model}\n{r.backbone}" if r.backbone else r.model

    extra = (
        lambda g: g[0].run.input_size,
        lambda g: g[0].run.name if len(g) == 1 and g[0].run.name != g[0].run.model else "",
    )
    parts = [[base(g)] for g in groups]
    for fn in extra:
        clash: dict[str, set[str]] = {}
        for p, g in zip(parts, groups):
            clash.setdefault("\n".join(p), set()).add(fn(g))
        for p, g in zip(parts, groups):
            # a field is added only where it tells the clashing groups apart
            if len(clash["\n".join(p)]) > 1 and fn(g):
                p.append(fn(g))
    labels = ["\n".join(p) for p in parts]
    counts, seen = Counter(labels), Counter()
    out = []
    for label, g in zip(labels, groups):
        if counts[label] > 1:
            seen[label] += 1
            label = f"{label} #{seen[label]}"
        out.append(BarGroup(label, {r.run.setting.upper(): r for r in g}))
    return out


def _run_label(row: Row) -> str:
    r = row.run
    bits = [r.model]
    if r.backbone:
        bits.append(f"({r.backbone})")
    if r.setting:
        bits.append(r.setting)
    label = " ".join(bits)
    return label if r.name in (r.model, label) else f"{label} [{r.name}]"


def group_style(n: int) -> list[tuple[Any, str]]:
    """(colour, marker) for n groups: tab10, tab20 beyond 10, then markers vary too."""
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    k = cmap.N
    return [(cmap(i % k), _MARKERS[(i // k) % len(_MARKERS)]) for i in range(n)]


def draw_ap_by_size(rows: list[Row]) -> Any | None:
    """Fig. 5: AP^S/M/L per group, Setting A hatched next to Setting B solid."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = [r for r in rows if any(k in r.run.metrics for k in SIZE_KEYS)]
    if not rows:
        return None
    groups = bar_groups(rows)
    settings = sorted({s for g in groups for s in g.runs}, key=_setting_key)
    max_bars = max(len(SIZE_KEYS) * len(g.runs) for g in groups)
    width = 0.84 / max_bars
    longest = max(len(line) for g in groups for line in g.label.split("\n"))
    per_group = max(0.24 * max_bars + 0.3, 0.075 * longest + 0.25)
    fig, ax = plt.subplots(figsize=(min(24.0, max(6.5, per_group * len(groups) + 1.2)), 4.8))
    show_values = len(groups) <= 12
    for m, g in enumerate(groups):
        present = sorted(g.runs, key=_setting_key)
        n = len(SIZE_KEYS) * len(present)
        for b, k in enumerate(SIZE_KEYS):
            for s, setting in enumerate(present):
                v = g.runs[setting].run.metrics.get(k)
                if v is None or not math.isfinite(v):
                    continue
                x = m + width * (b * len(present) + s + 0.5 - n / 2)
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
                    gid=g.runs[setting].run.name,
                )
                if show_values:
                    ax.text(
                        x,
                        v * 100 + 1,
                        f"{v * 100:.1f}",
                        ha="center",
                        va="bottom",
                        fontsize=7,
                        rotation=90,
                    )
    ax.set_xticks(range(len(groups)), [g.label for g in groups])
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylim(0, 110)
    ax.set_ylabel("AP (x100)")
    ax.set_title("AP by instance size, Setting A (hatched) vs Setting B (solid)", pad=24)
    ax.grid(axis="x", visible=False)
    handles = [Patch(facecolor=BUCKET_COLORS[k[-1]], label=f"AP$^{k[-1]}$") for k in SIZE_KEYS]
    handles += [
        Patch(
            facecolor="white" if _SETTING_HATCH.get(s, "..") else "grey",
            edgecolor="grey",
            hatch=_SETTING_HATCH.get(s, ".."),
            label=f"Setting {s or '?'}",
        )
        for s in settings
    ]
    # above the axes, so it never covers a bar or its value
    ax.legend(
        handles=handles, ncol=len(handles), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False
    )
    fig.tight_layout()
    return fig


def ap_by_size(rows: list[Row], path: Path) -> Path | None:
    with figure_style():
        fig = draw_ap_by_size(rows)
        return None if fig is None else save_png(fig, path)


def draw_ap_vs_kd(rows: list[Row]) -> Any | None:
    """Fig. 4a: AP of small instances as a function of keypoint density, one line per run.

    One colour per :func:`bar_groups` group, so every run has its own colour except a
    model's Setting A and B runs, which share one and differ by line style.
    """
    import matplotlib.pyplot as plt

    rows = [r for r in rows if any(math.isfinite(b["AP"]) for b in r.run.kd_curve)]
    if not rows:
        return None
    groups = bar_groups(rows)
    styles = group_style(len(groups))
    style_of = {id(r): styles[i] for i, g in enumerate(groups) for r in g.runs.values()}
    ncol = 1 if len(rows) <= 16 else 2
    fig, ax = plt.subplots(figsize=(7.5 + 2.6 * ncol, 4.6))
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
    for r in rows:
        curve = sorted(r.run.kd_curve, key=lambda b: b["kd_lo"])
        x = np.array([(b["kd_lo"] + b["kd_hi"]) / 2 for b in curve])
        y = np.array([b["AP"] * 100 if b.get("n_gt", 1) != 0 else np.nan for b in curve])
        color, marker = style_of[id(r)]
        ax.plot(
            x,
            y,
            ls="--" if r.run.setting.upper() == "A" else "-",
            marker=marker,
            ms=4,
            lw=1.6,
            color=color,
            label=_run_label(r).replace("\n", " "),
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 100)
    ax.set_xlabel("keypoint density KD (small instances)")
    ax.set_ylabel("AP (x100)")
    ax.set_title("AP vs keypoint density (Setting A dashed, B solid)", pad=16)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, ncol=ncol, handlelength=2.6)
    fig.tight_layout()
    return fig


def ap_vs_kd(rows: list[Row], path: Path) -> Path | None:
    with figure_style():
        fig = draw_ap_vs_kd(rows)
        return None if fig is None else save_png(fig, path)


def draw_per_keypoint_heatmap(rows: list[Row]) -> Any | None:
    """Per-keypoint AP as a run x keypoint heat-map; grey with a dash where a run has no value."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.run.per_keypoint]
    if not rows:
        return None
    present = {k for r in rows for k in r.run.per_keypoint}
    names = [k for k in KEYPOINT_NAMES if k in present] + sorted(present - set(KEYPOINT_NAMES))
    grid = np.array([[r.run.per_keypoint.get(k, np.nan) for k in names] for r in rows], dtype=float) * 100
    data = np.ma.masked_invalid(grid)
    fig, ax = plt.subplots(figsize=(min(24.0, 0.5 * len(names) + 4.5), 0.45 * len(rows) + 2.4))
    cmap = plt.get_cmap("viridis").with_extremes(bad="#dddddd")
    im = ax.imshow(data, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
    ax.grid(False)
    ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=60, ha="right")
    ax.set_yticks(range(len(rows)), [_run_label(r).replace("\n", " ") for r in rows])
    if len(rows) <= 30:
        for i in range(len(rows)):
            for j in range(len(names)):
                v = grid[i, j]
                finite = bool(np.isfinite(v))
                ax.text(
                    j,
                    i,
                    f"{v:.0f}" if finite else "–",
                    ha="center",
                    va="center",
                    fontsize=8 if len(names) <= 24 else 6.5,
                    # viridis turns light above ~55: dark text there, white below
                    color=("black" if v > 55 else "white") if finite else "#666666",
                )
    fig.colorbar(im, ax=ax, label="AP (x100)", fraction=0.025, pad=0.02)
    ax.set_title("Per-keypoint AP (grey: not evaluated)")
    fig.tight_layout()
    return fig


def per_keypoint_heatmap(rows: list[Row], path: Path) -> Path | None:
    with figure_style():
        fig = draw_per_keypoint_heatmap(rows)
        return None if fig is None else save_png(fig, path)


def write_run_figures(rows: list[Row], out_dir: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """All run figures with captions, plus notes on the ones skipped for lack of data."""
    out_dir = Path(out_dir)
    made: list[tuple[Path, str]] = []
    notes: list[str] = []
    specs = (
        (
            ap_by_size,
            "ap_by_size.png",
            "AP^S/AP^M/AP^L per model (per run where a model has several runs in one setting), "
            "Setting A vs B (the paper's Fig. 5).",
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
