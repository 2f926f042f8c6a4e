"""The leaderboard table: rows per run, grouped like the paper's Tables 2 and 3.

Values are shown x100 with one decimal as in the paper (surprise as it is, lower is
better). Setting A and B rows of one model sit next to each other. The best value of
each column is marked within each setting: Setting A (COCO-trained, 17-point protocol)
and Setting B (SmallPose-trained) are different tasks, so a Setting B row should not
take every mark away from the Setting A rows it is meant to be compared against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from smallpose.reports.groups import PARADIGMS, PREDICTION_TYPES, group_order, groups_for
from smallpose.reports.metrics_reader import RunMetrics


@dataclass(frozen=True)
class Column:
    key: str  # metrics-file key
    md: str  # header in Markdown
    html: str  # header in HTML
    lower_is_better: bool = False
    scale: float = 100.0
    decimals: int = 1


COLUMNS: tuple[Column, ...] = (
    Column("AP", "AP", "AP"),
    Column("AP_S", "AP^S", "AP<sup>S</sup>"),
    Column("AP_M", "AP^M", "AP<sup>M</sup>"),
    Column("AP_L", "AP^L", "AP<sup>L</sup>"),
    Column("AP_S_sparse", "AP^S_Sp", "AP<sup>S</sup><sub>Sp</sub>"),
    Column("AP_S_moderate", "AP^S_Mo", "AP<sup>S</sup><sub>Mo</sub>"),
    Column("AP_S_dense", "AP^S_De", "AP<sup>S</sup><sub>De</sub>"),
    Column("AR", "AR", "AR"),
    Column("surprise", "surprise", "surprise &darr;", lower_is_better=True, scale=1.0, decimals=3),
)

GROUPINGS = (
    ("paradigm", "By paradigm (as the paper's Table 2)", PARADIGMS),
    ("prediction_type", "By prediction type (as the paper's Table 3)", PREDICTION_TYPES),
)


@dataclass
class Cell:
    value: float | None  # as displayed (scaled, rounded)
    text: str
    ci: tuple[float, float] | None = None  # scaled
    decimals: int = 1
    best: bool = False

    @property
    def ci_half(self) -> str:
        """Half-width of the CI, the paper-style "±": exact when the CI is symmetric."""
        if self.ci is None:
            return ""
        return f"±{(self.ci[1] - self.ci[0]) / 2:.{self.decimals}f}"

    @property
    def ci_range(self) -> str:
        if self.ci is None:
            return ""
        return f"[{self.ci[0]:.{self.decimals}f}, {self.ci[1]:.{self.decimals}f}]"


@dataclass
class Row:
    run: RunMetrics
    paradigm: str
    prediction_type: str
    cells: list[Cell] = field(default_factory=list)

    def group(self, by: str) -> str:
        return self.paradigm if by == "paradigm" else self.prediction_type


def _cell(run: RunMetrics, col: Column) -> Cell:
    v = run.metrics.get(col.key)
    if v is None or not math.isfinite(v):
        return Cell(None, "–")
    shown = round(v * col.scale, col.decimals)
    ci = run.ci.get(col.key)
    ci_s = (ci[0] * col.scale, ci[1] * col.scale) if ci else None
    return Cell(shown, f"{shown:.{col.decimals}f}", ci_s, col.decimals)


def _setting_rank(setting: str) -> tuple[int, str]:
    order = {"A": 0, "B": 1}
    return (order.get(setting.upper(), 2), setting)


def build_rows(runs: list[RunMetrics]) -> list[Row]:
    """Rows in display order: models by first appearance, then setting A before B."""
    first_seen: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(runs):
        first_seen.setdefault(r.pair_key, i)
    ordered = sorted(
        enumerate(runs), key=lambda ir: (first_seen[ir[1].pair_key], _setting_rank(ir[1].setting), ir[0])
    )
    rows: list[Row] = []
    for _, r in ordered:
        p, t = groups_for(r.model, r.paradigm, r.prediction_type)
        rows.append(Row(r, p, t, [_cell(r, c) for c in COLUMNS]))
    mark_best(rows)
    return rows


def mark_best(rows: list[Row]) -> None:
    """Mark, per column and per setting, the best displayed value (ties all marked).

    A pool with a single value gets no mark: being best among one says nothing.
    """
    pools: dict[str, list[Row]] = {}
    for row in rows:
        pools.setdefault(row.run.setting.upper(), []).append(row)
    for pool in pools.values():
        for j, col in enumerate(COLUMNS):
            vals = [r.cells[j].value for r in pool if r.cells[j].value is not None]
            if len(vals) < 2:
                continue
            best = min(vals) if col.lower_is_better else max(vals)
            for r in pool:
                if r.cells[j].value is not None and r.cells[j].value == best:
                    r.cells[j].best = True


def grouped(rows: list[Row], by: str, known: tuple[str, ...]) -> list[tuple[str, list[tuple[Row, bool]]]]:
    """(group, [(row, continues_pair)]) in the paper's group order.

    ``continues_pair`` is true for the second (third, ...) row of the same model, whose
    Method/Backbone/Input cells the tables leave blank as the paper does.
    """
    out = []
    for name in group_order(known, {r.group(by) for r in rows}):
        members = [r for r in rows if r.group(by) == name]
        flags = [i > 0 and members[i - 1].run.pair_key == r.run.pair_key for i, r in enumerate(members)]
        out.append((name, list(zip(members, flags))))
    return out


def group_title(name: str, by: str) -> str:
    if name == "other":
        return "Other (model not in the known-model table)"
    suffix = " methods" if by == "paradigm" else "-based"
    return name[:1].upper() + name[1:] + suffix


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _md_cell(cell: Cell) -> str:
    text = cell.text
    if cell.ci is not None:
        text += f" {cell.ci_half}"
    return f"**{text}**" if cell.best else text


def markdown_tables(rows: list[Row]) -> str:
    """Both groupings as Markdown sections, one table per group."""
    header = ["Method", "Backbone", "Input", "Setting", *(c.md for c in COLUMNS), "Run"]
    lines: list[str] = []
    for by, title, known in GROUPINGS:
        lines += [f"## {title}", ""]
        for name, members in grouped(rows, by, known):
            lines += [f"### {group_title(name, by)}", ""]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join(["---"] * 4 + ["---:"] * len(COLUMNS) + ["---"]) + "|")
            for r, cont in members:
                ident = ["", "", ""] if cont else [r.run.model, r.run.backbone, r.run.input_size]
                cells = [*ident, r.run.setting or "–", *(_md_cell(c) for c in r.cells), r.run.name]
                lines.append("| " + " | ".join(_md_escape(x) for x in cells) + " |")
            lines.append("")
    return "\n".join(lines)
