"""`smallpose eval` through the CLI entry point: table, metrics file, one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from smallpose.metrics.metrics_file import SCHEMA, read_metrics, write_metrics  # noqa: E402
from test_eval_fixtures import build_store, people, predictions  # noqa: E402

from smallpose.cli import main  # noqa: E402
from smallpose.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(11)
    data = people(rng, n_images=10, per_image=4)
    store = build_store(tmp / "store", data)
    a = predictions(rng, data)
    b = predictions(rng, data, noise=0.12)
    (tmp / "a.json").write_text(json.dumps(a))
    (tmp / "b.json").write_text(json.dumps(b))
    return {"tmp": tmp, "store": store, "a": tmp / "a.json", "b": tmp / "b.json", "recs": a}


def test_eval_prints_the_table_and_writes_the_metrics_file(world, capsys):
    out = world["tmp"] / "m.json"
    rc = main(["eval", "--gt", str(world["store"]), "--pred", str(world["a"]), "--out", str(out),
               "--name", "hrnet-a", "--model", "HRNet", "--backbone", "hrnet_w32", "--input-size", "256x192",
               "--setting", "B", "--train-data", "smallpose-train", "--bootstrap", "20"])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "AP^S_Sp" in text and "surprise" in text and "hrnet-a" in text
    doc = read_metrics(out)
    assert doc["schema"] == SCHEMA
    assert doc["run"] == {
        "name": "hrnet-a", "model": "HRNet", "backbone": "hrnet_w32", "input_size": "256x192",
        "setting": "B", "train_data": "smallpose-train",
    }  # fmt: skip
    assert doc["gt"]["split"] == "test" and len(doc["gt"]["fingerprint"]) == 64
    assert list(doc["metrics"]) == [
        "AP", "AP50", "AP75", "AP_S", "AP_M", "AP_L", "AP_S_sparse", "AP_S_moderate",
        "AP_S_dense", "AR", "AR50", "AR75", "AR_S", "AR_M", "AR_L", "surprise",
    ]  # fmt: skip
    assert set(doc["ci"]) <= set(doc["metrics"]) and "AP" in doc["ci"]
    assert doc["surprise_source"] == "fitted-on-eval"
    assert len(doc["kd_curve"]) == 10 and len(doc["per_keypoint"]) == 21
    assert "images_over_max_dets_gt" in doc["counts"]


def test_bad_submission_is_one_line_naming_record_and_field(world, capsys, tmp_path):
    recs = [dict(r) for r in world["recs"]]
    recs[3]["score"] = -2.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(recs))
    rc = main(["eval", "--gt", str(world["store"]), "--pred", str(bad)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "bad.json" in err and "record 3" in err and "field 'score'" in err


def test_skip_invalid_scores_the_rest(world, capsys, tmp_path):
    recs = [dict(r) for r in world["recs"]]
    recs[1]["image_id"] = 123456789
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(recs))
    out = tmp_path / "m.json"
    assert (
        main(["eval", "--gt", str(world["store"]), "--pred", str(bad), "--skip-invalid", "--out", str(out)])
        == 0
    )
    cap = capsys.readouterr()
    assert "1 invalid record(s) skipped" in cap.out and "skipped record 1: image_id" in cap.err
    assert read_metrics(out)["submission"]["skipped"][0]["record"] == 1


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--gt", "/nonexistent/store", "--pred", "x.json"], "no such ground truth"),
        (["--gt", "STORE", "--pred", "/nonexistent.json"], "no such file"),
        (["--gt", "STORE"], "either --pred"),
        (["--gt", "STORE", "--pred", "A", "--split", "val"], "no split 'val'"),
        (["--gt", "STORE", "--pred", "A", "--protocol", "coco", "--max-dets", "0"], "--max-dets"),
        (["--gt", "STORE", "--pred", "A", "--calibration", "/nonexistent.json"], "calibration"),
    ],
)
def test_bad_arguments_are_one_line(world, capsys, argv, words):
    argv = [str(world["store"]) if a == "STORE" else str(world["a"]) if a == "A" else a for a in argv]
    rc = main(["eval", *argv])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert words in err and err.count("\n") == 1


def test_compare_reports_a_paired_p_value(world, capsys, tmp_path):
    out = tmp_path / "cmp.json"
    rc = main(["eval", "--gt", str(world["store"]), "--compare", str(world["a"]), str(world["a"]),
               "--bootstrap", "30", "--out", str(out)])  # fmt: skip
    assert rc == 0
    assert "p" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["metrics"]["AP"]["diff"] == 0.0 and doc["metrics"]["AP"]["p_value"] == 1.0
    rc = main(["eval", "--gt", str(world["store"]), "--compare", str(world["a"]), str(world["b"]),
               "--bootstrap", "50", "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    ap = doc["metrics"]["AP"]
    assert ap["diff"] == pytest.approx(ap["A"] - ap["B"])
    assert ap["ci"][0] <= ap["diff"] <= ap["ci"][1] and 0.0 <= ap["p_value"] <= 1.0


def test_calibration_round_trip(world, capsys, tmp_path):
    cal = tmp_path / "cal.json"
    m1, m2 = tmp_path / "m1.json", tmp_path / "m2.json"
    base = ["eval", "--gt", str(world["store"]), "--pred", str(world["a"]), "--no-per-keypoint"]
    assert main([*base, "--save-calibration", str(cal), "--out", str(m1)]) == 0
    assert main([*base, "--calibration", str(cal), "--out", str(m2)]) == 0
    d1, d2 = read_metrics(m1), read_metrics(m2)
    assert d2["surprise_source"] == "calibration"
    assert d2["metrics"]["surprise"] == pytest.approx(d1["metrics"]["surprise"], rel=1e-12)


def test_metrics_file_refuses_unknown_schema_and_bad_values(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(json.dumps({"schema": "smallpose-metrics/9", "metrics": {}}))
    with pytest.raises(InputError, match="unknown metrics schema 'smallpose-metrics/9'"):
        read_metrics(p)
    doc = {"schema": SCHEMA, "run": {k: None for k in ("name", "model", "backbone", "input_size", "setting",
           "train_data")}, "gt": {"store": "s", "split": "test", "fingerprint": "f"}, "protocol": {},
           "metrics": {"AP": 1.5}}  # fmt: skip
    with pytest.raises(InputError, match="metrics.AP"):
        write_metrics(p, doc)
    doc["metrics"] = {"AP": float("nan"), "AP_S": 0.25}  # NaN is written as null, strict JSON
    write_metrics(p, doc)
    assert json.loads(p.read_text())["metrics"] == {"AP": None, "AP_S": 0.25}
    del doc["gt"]["fingerprint"]
    with pytest.raises(InputError, match="gt.fingerprint"):
        write_metrics(p, doc)
