"""``smallpose report``: metrics files in, leaderboard.md + leaderboard.html + PNG figures out.

Layout of the output folder::

    leaderboard.md        tables grouped by paradigm and by prediction type, figures linked
    leaderboard.html      the same, self-contained (figures inlined), sortable columns
    figures/*.png         run figures (Fig. 5, Fig. 4a, per-keypoint AP)
    figures/dataset/*.png dataset figures when a store is given (Fig. 2, Fig. 3, KD, samples)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from smallpose.reports.html_page import render_html
from smallpose.reports.leaderboard import build_rows, markdown_tables
from smallpose.reports.metrics_reader import RunMetrics, read_metrics
from smallpose.reports.run_figures import write_run_figures

from smallpose.atomic import write_text_atomic
from smallpose.errors import SmallPoseError


def load_runs(paths: Sequence[str | os.PathLike]) -> list[RunMetrics]:
    """Read every metrics file; the first bad one stops the report with its one-line reason,
    before anything is written."""
    if not paths:
        raise SmallPoseError("no metrics files given")
    return [read_metrics(p) for p in paths]


def _intro(runs: list[RunMetrics]) -> str:
    n_files = len({r.path for r in runs})
    return (
        f"{len(runs)} run(s) from {n_files} metrics file(s). AP and AR are shown x100 with one decimal; "
        "surprise (mean negative log-likelihood of the ground truth, lower is better) as it is. "
        "The best value of each column within each setting is marked. Where a metrics file has bootstrap "
        "confidence intervals, ± is the half-width of the 95% interval; [lo, hi] is shown on hover in "
        "the HTML page. Setting A: trained on COCO, scored on the 17 COCO keypoints; Setting B: trained on "
        "SmallPose, scored on all 21."
    )


def _gt_notes(runs: list[RunMetrics]) -> list[str]:
    fps = {str(r.gt.get("fingerprint")) for r in runs if r.gt.get("fingerprint")}
    notes = []
    if len(fps) > 1:
        notes.append(
            f"runs were scored against {len(fps)} different ground-truth stores (fingerprints differ)"
        )
    names = [r.name for r in runs]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        notes.append("run names used by more than one file: " + ", ".join(dups))
    return notes


def write_report(
    metrics_paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    store: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Write the leaderboard (md + html) and figures; returns the main output paths."""
    runs = load_runs(metrics_paths)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = build_rows(runs)
    run_figs, notes = write_run_figures(rows, out / "figures")
    notes = _gt_notes(runs) + notes
    dataset_figs: list[tuple[Path, str]] = []
    if store is not None:
        from smallpose.reports.dataset_figures import CAPTIONS, write_dataset_figures

        from smallpose.store import open_store

        paths = write_dataset_figures(open_store(store), out / "figures" / "dataset", notes=notes)
        dataset_figs = [(p, CAPTIONS.get(p.stem, p.stem)) for p in paths]
    intro = _intro(runs)
    md = ["# SmallPose leaderboard", "", intro, "", markdown_tables(rows)]
    for title, figs in (("Figures", run_figs), ("Dataset", dataset_figs)):
        if figs:
            md += [f"## {title}", ""]
            md += [f"![{cap}]({p.relative_to(out).as_posix()})\n\n{cap}\n" for p, cap in figs]
    if notes:
        md += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    md_path, html_path = out / "leaderboard.md", out / "leaderboard.html"
    write_text_atomic(md_path, "\n".join(md).rstrip("\n") + "\n")
    write_text_atomic(html_path, render_html(rows, run_figs, dataset_figs, notes, intro))
    return {"markdown": md_path, "html": html_path, "figures": out / "figures"}
