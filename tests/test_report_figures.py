"""What the run figures draw, read back from the matplotlib Figure objects.

The demo's runs share one model ("GT+noise") and one setting; these tests pin that every
run gets its own bars (Fig. 5) and its own line colour (Fig. 4a), that A/B runs of one
model stay paired, and that value labels and legend do not overlap. Expected values are
the hand-written numbers below, not anything the code computed.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle
from smallpose.reports.leaderboard import build_rows
from smallpose.reports.metrics_reader import parse_metrics
from smallpose.reports.plotting import figure_style
from smallpose.reports.run_figures import (
    bar_groups,
    draw_ap_by_size,
    draw_ap_vs_kd,
    draw_per_keypoint_heatmap,
)

# (run name, model, backbone, setting, AP_S, AP_M, AP_L) in percent
DEMO = [
    ("gt-noise-2pct", "GT+noise", None, "B", 79.3, 80.8, 78.2),
    ("gt-noise-5pct-miss10", "GT+noise", None, "B", 40.0, 45.2, 42.1),
    ("gt-noise-10pct-miss20", "GT+noise", None, "B", 2.8, 3.4, 1.0),
]
PAIRED = [
    ("hr-a", "HRNet", "HRNet-W32", "A", 34.3, 52.3, 79.6),
    ("hr-b", "HRNet", "HRNet-W32", "B", 62.2, 69.3, 82.1),
    ("rtmo-b", "RTMO", "CSPDarknet", "B", 55.1, 70.6, 79.9),
]


def make_rows(specs, per_keypoint=None):
    runs = []
    for name, model, backbone, setting, s, m, l in specs:
        doc = {
            "schema": "smallpose-metrics/1",
            "run": {"name": name, "model": model, "backbone": backbone, "setting": setting},
            "metrics": {"AP": (s + m + l) / 300, "AP_S": s / 100, "AP_M": m / 100, "AP_L": l / 100},
            # a flat curve at AP_S, so each line is identifiable by its height
            "kd_curve": [{"kd_lo": i / 5, "kd_hi": (i + 1) / 5, "n_gt": 5, "AP": s / 100} for i in range(5)],
            "per_keypoint": (per_keypoint or {}).get(name, {"nose": s / 100}),
        }
        runs.append(parse_metrics(doc, f"{name}.json"))
    return build_rows(runs)


def drawn(fn, rows):
    """Draw inside the report's style and lay the figure out, as saving would."""
    with figure_style():
        fig = fn(rows)
        fig.canvas.draw()
    return fig


def data_bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_ap_by_size_one_bar_group_per_run_sharing_a_model():
    fig = drawn(draw_ap_by_size, make_rows(DEMO))
    ax = fig.axes[0]
    bars = data_bars(ax)
    assert len(bars) == 9  # 3 runs x AP^S/M/L, none drawn over another
    centres = [b.get_x() + b.get_width() / 2 for b in bars]
    assert len({round(x, 6) for x in centres}) == 9
    heights = {b.get_gid(): [] for b in bars}
    for b in bars:
        heights[b.get_gid()].append(round(b.get_height(), 6))
    for name, _, _, _, s, m, l in DEMO:
        assert sorted(heights[name]) == sorted([s, m, l])
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert len(ticks) == 3 and len(set(ticks)) == 3
    for tick, (name, *_) in zip(ticks, DEMO):
        assert "GT+noise" in tick and name in tick
    # each run's bars sit around its own tick, not spread over the others'
    for pos, (name, *_) in zip(ax.get_xticks(), DEMO):
        xs = [b.get_x() + b.get_width() / 2 for b in bars if b.get_gid() == name]
        assert all(abs(x - pos) < 0.45 for x in xs)


def test_ap_by_size_keeps_setting_a_and_b_of_one_model_together():
    fig = drawn(draw_ap_by_size, make_rows(PAIRED))
    ax = fig.axes[0]
    bars = data_bars(ax)
    assert len(bars) == 9
    ticks = ax.get_xticks()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["HRNet\nHRNet-W32", "RTMO\nCSPDarknet"]
    hr = [b for b in bars if b.get_gid() in ("hr-a", "hr-b")]
    assert all(abs(b.get_x() + b.get_width() / 2 - ticks[0]) < 0.45 for b in hr)
    assert {b.get_gid() for b in hr if b.get_hatch()} == {"hr-a"}  # A hatched, B solid
    assert {b.get_gid() for b in hr if not b.get_hatch()} == {"hr-b"}
    # within each size bucket, the A bar stands right next to its B bar
    for k in (0, 1, 2):
        a = sorted((b for b in hr if b.get_gid() == "hr-a"), key=lambda b: b.get_x())[k]
        b_ = sorted((b for b in hr if b.get_gid() == "hr-b"), key=lambda b: b.get_x())[k]
        assert b_.get_x() == pytest.approx(a.get_x() + a.get_width())


@pytest.mark.parametrize("specs", [DEMO, PAIRED, DEMO + PAIRED])
def test_ap_by_size_labels_do_not_overlap(specs):
    fig = drawn(draw_ap_by_size, make_rows(specs))
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == len(data_bars(ax))  # one value label per bar
    for p, q in itertools.combinations(boxes, 2):
        assert not p.overlaps(q), "value labels overlap"
    legend = ax.get_legend().get_window_extent(renderer)
    assert not any(legend.overlaps(b) for b in boxes)
    for bar in data_bars(ax):
        assert not legend.overlaps(bar.get_window_extent(renderer))
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
    for p, q in itertools.combinations(ticks, 2):
        assert not p.overlaps(q), "group labels overlap"


def test_ap_vs_kd_one_colour_per_run_sharing_a_model():
    fig = drawn(draw_ap_vs_kd, make_rows(DEMO))
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")}
    assert len(lines) == 3
    assert len({to_hex(ln.get_color()) for ln in lines.values()}) == 3
    # each line is its own run's curve (flat at its AP_S)
    for name, *_, s, _m, _l in DEMO:
        (line,) = [ln for label, ln in lines.items() if name in label]
        assert list(line.get_ydata()) == pytest.approx([s] * 5)
        assert line.get_linestyle() == "-"
    legend_texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(set(legend_texts)) == 3


def test_ap_vs_kd_pairs_share_colour_and_differ_by_dash():
    fig = drawn(draw_ap_vs_kd, make_rows(PAIRED))
    by_name = {}
    for ln in fig.axes[0].get_lines():
        for name, *_ in PAIRED:
            if f"[{name}]" in ln.get_label():
                by_name[name] = ln
    assert set(by_name) == {"hr-a", "hr-b", "rtmo-b"}
    assert to_hex(by_name["hr-a"].get_color()) == to_hex(by_name["hr-b"].get_color())
    assert to_hex(by_name["rtmo-b"].get_color()) != to_hex(by_name["hr-b"].get_color())
    assert by_name["hr-a"].get_linestyle() == "--" and by_name["hr-b"].get_linestyle() == "-"


def test_ap_vs_kd_many_runs_stay_distinguishable():
    specs = [(f"run{i}", "GT+noise", None, "B", 5.0 * i, 50.0, 50.0) for i in range(14)]
    fig = drawn(draw_ap_vs_kd, make_rows(specs))
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("GT+noise")]
    assert len(lines) == 14
    assert len({(to_hex(ln.get_color()), ln.get_marker()) for ln in lines}) == 14


def test_bar_group_labels():
    rows = make_rows(
        [
            ("x1", "X", "R50", "B", 1, 1, 1),
            ("x2", "X", "R50", "B", 2, 2, 2),
            ("y-a", "Y", "", "A", 3, 3, 3),
            ("y-b", "Y", "", "B", 4, 4, 4),
            ("z", "Z", "R18", "B", 5, 5, 5),
            ("z", "Z", "R18", "B", 6, 6, 6),  # same run name twice: a suffix tells them apart
        ]
    )
    groups = bar_groups(rows)
    assert [g.label for g in groups] == ["X\nR50\nx1", "X\nR50\nx2", "Y", "Z\nR18 #1", "Z\nR18 #2"]
    assert sorted(groups[2].runs) == ["A", "B"]


def test_heatmap_marks_missing_values():
    rows = make_rows(DEMO, per_keypoint={"gt-noise-2pct": {"nose": 0.4, "pelvis": 0.5}})
    fig = drawn(draw_per_keypoint_heatmap, rows)
    texts = [t.get_text() for t in fig.axes[0].texts]
    # 3 runs x 2 keypoints; pelvis missing for two runs
    assert sorted(texts) == sorted(["40", "50", "40", "–", "3", "–"])
