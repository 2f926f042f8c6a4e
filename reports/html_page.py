"""The static leaderboard page: one self-contained HTML file.

No CDN, no fonts or scripts fetched, figures inlined as data URIs: the page must open
from disk (file://), from an e-mail attachment or an offline CI artefact alike. A few
lines of inline JavaScript sort a table by a column within each group.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from smallpose.reports.leaderboard import COLUMNS, GROUPINGS, Cell, Row, group_title, grouped
from smallpose.reports.plotting import data_uri

from smallpose import __version__

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 24px auto; max-width: 1500px; padding: 0 16px; color: #1d1d1f; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin-top: 32px; }
p.lede, p.note { color: #555; max-width: 900px; }
table.lb, table.runs { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
table.lb th, table.lb td, table.runs th, table.runs td { padding: 4px 9px; border-bottom: 1px solid #e3e3e3; }
table.lb thead th { background: #f3f4f6; cursor: pointer; user-select: none; white-space: nowrap;
                    position: sticky; top: 0; }
table.lb thead th:hover { background: #e6e8eb; }
table.lb thead th[data-dir="best"]::after { content: " \\25BC"; font-size: 10px; }
table.lb thead th[data-dir="worst"]::after { content: " \\25B2"; font-size: 10px; }
table.lb tr.grp-head th { text-align: left; background: #fafafa; font-style: italic; cursor: default;
                          color: #444; border-top: 2px solid #bbb; }
table.lb td.num { text-align: right; white-space: nowrap; }
table.lb td.best { font-weight: 700; background: #e8f5e9; color: #0b5d1e; }
table.lb span.ci { display: block; font-size: 11px; color: #777; font-weight: 400; }
table.lb td.run { color: #666; font-size: 12px; }
table.lb:not(.sorted) tr.pair-cont td.id { color: transparent; }
table.lb tbody tr.run:hover { background: #f6f9ff; }
figure { margin: 18px 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
"""

JS = """
document.querySelectorAll("table.lb").forEach(function (table) {
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, col) {
    th.addEventListener("click", function () {
      var num = th.dataset.type === "num", lower = th.dataset.lower === "1";
      var dir = th.dataset.dir === "best" ? "worst" : "best";
      heads.forEach(function (o) { delete o.dataset.dir; o.removeAttribute("aria-sort"); });
      th.dataset.dir = dir;
      th.setAttribute("aria-sort", (dir === "best") !== lower ? "descending" : "ascending");
      table.classList.add("sorted");
      table.querySelectorAll("tbody").forEach(function (tb) {
        var rows = Array.prototype.slice.call(tb.querySelectorAll("tr.run"));
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col], d;
          if (num) {
            var u = parseFloat(x.dataset.v), v = parseFloat(y.dataset.v);
            if (isNaN(u) || isNaN(v)) { return isNaN(u) - isNaN(v); }
            d = lower ? u - v : v - u;
          } else { d = x.textContent.localeCompare(y.textContent); }
          return dir === "best" ? d : -d;
        });
        rows.forEach(function (r) { tb.appendChild(r); });
      });
    });
  });
});
"""


def _num_cell(cell: Cell) -> str:
    cls = "num best" if cell.best else "num"
    if cell.value is None:
        return f'<td class="{cls}" data-v="">{escape(cell.text)}</td>'
    title = f' title="95% CI {cell.ci_range}"' if cell.ci is not None else ""
    ci = f'<span class="ci">{cell.ci_half}</span>' if cell.ci is not None else ""
    return f'<td class="{cls}" data-v="{cell.value!r}"{title}>{escape(cell.text)}{ci}</td>'


def _table(rows: list[Row], by: str, known: tuple[str, ...]) -> str:
    heads = [
        '<th data-type="text">Method</th>',
        '<th data-type="text">Backbone</th>',
        '<th data-type="text">Input</th>',
        '<th data-type="text">Setting</th>',
    ]
    for c in COLUMNS:
        heads.append(
            f'<th data-type="num" data-lower="{int(c.lower_is_better)}" data-key="{c.key}">{c.html}</th>'
        )
    heads.append('<th data-type="text">Run</th>')
    out = [f'<table class="lb" data-grouping="{by}">', "<thead><tr>" + "".join(heads) + "</tr></thead>"]
    for name, members in grouped(rows, by, known):
        out.append(f'<tbody data-group="{escape(name)}">')
        out.append(
            f'<tr class="grp-head"><th colspan="{len(heads)}">{escape(group_title(name, by))}</th></tr>'
        )
        for r, cont in members:
            run = r.run
            cls = "run pair-cont" if cont else "run"
            tds = [f'<td class="id">{escape(x)}</td>' for x in (run.model, run.backbone, run.input_size)]
            tds.append(f"<td>{escape(run.setting or '–')}</td>")
            tds += [_num_cell(c) for c in r.cells]
            tds.append(f'<td class="run" title="{escape(run.path)}">{escape(run.name)}</td>')
            out.append(f'<tr class="{cls}" data-run="{escape(run.name)}">' + "".join(tds) + "</tr>")
        out.append("</tbody>")
    out.append("</table>")
    return "\n".join(out)


def _figures(figs: list[tuple[Path, str]]) -> str:
    out = []
    for path, caption in figs:
        out.append(
            f'<figure id="fig-{escape(Path(path).stem)}"><img src="{data_uri(path)}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    return "\n".join(out)


def _runs_table(rows: list[Row]) -> str:
    head = ("Run", "Model", "Backbone", "Input", "Setting", "Train data", "Paradigm", "Prediction", "File")
    out = [
        '<table class="runs"><thead><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
    ]
    for r in rows:
        run = r.run
        vals = (
            run.name,
            run.model,
            run.backbone,
            run.input_size,
            run.setting,
            run.train_data,
            r.paradigm,
            r.prediction_type,
            Path(run.path).name,
        )
        out.append("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in vals) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def render_html(
    rows: list[Row],
    run_figs: list[tuple[Path, str]],
    dataset_figs: list[tuple[Path, str]],
    notes: list[str],
    intro: str,
) -> str:
    """The whole page as a string (deterministic: no timestamps)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>SmallPose leaderboard</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>SmallPose leaderboard</h1>",
        f'<p class="lede">{escape(intro)}</p>',
    ]
    for by, title, known in GROUPINGS:
        parts += [f'<section id="by-{by}"><h2>{escape(title)}</h2>', _table(rows, by, known), "</section>"]
    if run_figs:
        parts += ['<section id="figures"><h2>Figures</h2>', _figures(run_figs), "</section>"]
    if dataset_figs:
        parts += ['<section id="dataset"><h2>Dataset</h2>', _figures(dataset_figs), "</section>"]
    if notes:
        parts.append('<section id="notes"><h2>Notes</h2><ul>')
        parts += [f"<li>{escape(n)}</li>" for n in notes]
        parts.append("</ul></section>")
    parts += ['<section id="runs"><h2>Runs</h2>', _runs_table(rows), "</section>"]
    parts.append(f"<footer>Generated by smallpose {escape(__version__)}.</footer>")
    parts.append(f"<script>{JS}</script></body></html>")
    return "\n".join(parts) + "\n"
