"""Shared matplotlib setup so every figure is byte-for-byte reproducible.

Figures are compared across runs and committed next to results, so nothing in them may
depend on the machine: a fixed style (no user matplotlibrc), the Agg backend, a fixed
DPI and no ``Software``/date metadata in the PNG.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

DPI = 110
RC: dict[str, Any] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.8,
    "svg.hashsalt": "smallpose",
    "path.simplify": True,
}

#: one colour per size bucket / density class, reused by every figure
BUCKET_COLORS = {"S": "#d62728", "M": "#ff7f0e", "L": "#1f77b4"}
DENSITY_COLORS = {"sparse": "#9467bd", "moderate": "#2ca02c", "dense": "#8c564b"}
#: skeleton colours: left limbs, right limbs, centre line
SIDE_COLORS = {"left": "#1f77b4", "right": "#ff7f0e", "centre": "#2ca02c"}


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Default rcParams plus ours, whatever the user's matplotlibrc says."""
    with plt.rc_context(rc={**matplotlib.rcParamsDefault, **RC}):
        yield


def save_png(fig: Any, path: Path) -> Path:
    """Save without metadata (no Software/date), then close the figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def data_uri(path: Path) -> str:
    """A PNG as a data URI, so the HTML page needs no file next to it."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")
