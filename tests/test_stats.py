"""`smallpose stats` on a hand-built store: every number worked out by hand."""

from __future__ import annotations

import json
import math
import sys
import types

import pytest
from test_build_helpers import basic_tables, run_build

from smallpose import cli


@pytest.fixture
def store(tmp_path):
    run_build(tmp_path, basic_tables(), ["coco=coco.json", "posetrack=pt.json"])
    return tmp_path / "store"


def test_table1_per_source_kd_and_ci(store, capsys):
    assert cli.main(["stats", str(store), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    # train: coco image 1 (one S person) + the 4 frames of vid0 (one S person each)
    # test: coco images 2 (L + S) and 3 (L, no points) + 5 frames of vid1/vid2 (S each)
    assert st["table1"]["train"] == {"images": 5, "S": 5, "M": 0, "L": 0, "total": 5}
    assert st["table1"]["test"] == {"images": 7, "S": 6, "M": 0, "L": 2, "total": 8}
    assert st["table1"]["total"] == {"images": 12, "S": 11, "M": 0, "L": 2, "total": 13}
    assert st["per_source"]["coco"]["test"] == {"images": 2, "S": 1, "M": 0, "L": 2, "total": 3}
    assert st["per_source"]["posetrack"]["train"] == {"images": 4, "S": 4, "M": 0, "L": 0, "total": 4}
    # the PoseTrack persons: 20x60 box, K = 17, one point -> KD below 0.35: sparse
    assert 2 / (1 + math.exp(20 * 60 / (128 * 96) * 17)) < 0.35
    assert st["small_kd_classes"]["train"] == {"sparse": 4, "moderate": 1, "dense": 0}
    assert st["small_kd_classes"]["test"] == {"sparse": 5, "moderate": 1, "dense": 0}
    ci = st["crowd_index"]["test"]
    # test images with a CI: image 2 (1.25) and 5 single-person frames (0); image 3 has no points
    assert ci["images_with_ci"] == 6 and ci["images_without_ci"] == 1
    assert ci["mean"] == pytest.approx(1.25 / 6) and ci["max"] == 1.25 and ci["median"] == 0.0
    assert ci["histogram"]["[0,0.2)"] == 5 and ci["histogram"]["[1,inf)"] == 1


def test_text_output_and_figures(store, capsys, monkeypatch, tmp_path):
    assert cli.main(["stats", str(store)]) == 0
    out = capsys.readouterr().out
    assert "Table 1" in out and "total" in out and "CrowdIndex" in out
    assert any(line.split() == ["test", "7", "6", "0", "2", "8"] for line in out.splitlines())

    monkeypatch.setitem(sys.modules, "smallpose.reports.dataset_figures", None)  # import fails
    assert cli.main(["stats", str(store), "--figures", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "figures are unavailable" in err[0]

    calls = []
    fake = types.ModuleType("smallpose.reports.dataset_figures")
    fake.write_dataset_figures = lambda st, d: calls.append((st.images.num_rows, d)) or []
    monkeypatch.setitem(sys.modules, "smallpose.reports.dataset_figures", fake)
    assert cli.main(["stats", str(store), "--figures", str(tmp_path / "f")]) == 0
    assert calls == [(12, str(tmp_path / "f"))]


def test_not_a_store_is_one_line(tmp_path, capsys):
    assert cli.main(["stats", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.slow
def test_real_dataset_figures(store, tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("smallpose.reports.dataset_figures") is None:
        pytest.skip("smallpose.reports.dataset_figures is not written yet")
    out = tmp_path / "figs"
    assert cli.main(["stats", str(store), "--json", "--figures", str(out)]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["figures"] and all(p.endswith(".png") for p in st["figures"])
    assert all((out / p.rsplit("/", 1)[-1]).is_file() for p in st["figures"])
