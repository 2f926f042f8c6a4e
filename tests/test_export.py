"""`smallpose export` read back by pycocotools (an independent COCO reader and evaluator)."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_build_helpers import basic_tables, image, person, run_build, table

from smallpose import cli
from smallpose.skeleton import COCO_SKELETON_1BASED


def _load(path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


@pytest.fixture
def store(tmp_path):
    tables = basic_tables()
    extra = person("770", "77", (1, 2, 30, 40), {2: (5, 6, 2)}, source_area=321.5)
    tables["extra.json"] = table("coco", 17, [image("77", "val")], [extra])
    run_build(tmp_path, tables, ["coco=coco.json", "posetrack=pt.json", "coco=extra.json"])
    return tmp_path / "store"


def _ann(coco: COCO) -> dict:
    """coco annotation 21 of image 2 (the only coco box 0, 0, 50, 40)."""
    (a,) = [a for a in coco.anns.values() if a["source"] == "coco" and a["bbox"] == [0.0, 0.0, 50.0, 40.0]]
    return a


def test_export_coco17_loads_in_pycocotools(store, tmp_path, capsys):
    out = tmp_path / "gt.json"
    assert (
        cli.main(["export", str(store), "--split", "test", "--out", str(out), "--keypoints", "coco17"]) == 0
    )
    coco = _load(out)
    assert len(coco.imgs) == 8 and len(coco.anns) == 9  # 7 test images + image 77; 8 + 1 persons
    cat = coco.cats[1]
    assert len(cat["keypoints"]) == 17 and cat["keypoints"][0] == "nose"
    assert cat["skeleton"] == COCO_SKELETON_1BASED
    # hand-picked: coco ann 21 in image 2, box (0, 0, 50, 40), nose (12, 12, v=1), head_top (13, 13, 2)
    a = _ann(coco)
    assert a["keypoints"][:3] == [12.0, 12.0, 1.0] and a["num_keypoints"] == 1  # head_top is not COCO
    assert len(a["keypoints"]) == 51 and a["area"] == 2000.0 and a["iscrowd"] == 0
    img = coco.imgs[a["image_id"]]
    assert img["file_name"] == "2.jpg" and (img["width"], img["height"]) == (640, 480)
    # image 77's person: left_eye (unified 2) is COCO index 1; area from the source on request
    (b,) = [x for x in coco.anns.values() if x["bbox"] == [1.0, 2.0, 30.0, 40.0]]
    assert b["keypoints"][3:6] == [5.0, 6.0, 2.0] and b["area"] == 1200.0


def test_export_full_and_source_area(store, tmp_path):
    out = tmp_path / "gt21.json"
    assert cli.main(["export", str(store), "--out", str(out), "--area", "source", "--prefix-source"]) == 0
    coco = _load(out)
    cat = coco.cats[1]
    assert len(cat["keypoints"]) == 21 and cat["keypoints"][1] == "head_top"
    edges = np.array(cat["skeleton"])
    assert edges.min() == 1 and edges.max() == 21
    a = _ann(coco)
    assert a["keypoints"][3:6] == [13.0, 13.0, 2.0] and a["num_keypoints"] == 2 and a["area"] == 2000.0
    (b,) = [x for x in coco.anns.values() if x["bbox"] == [1.0, 2.0, 30.0, 40.0]]
    assert b["area"] == 321.5  # the source's own area
    assert coco.imgs[b["image_id"]]["file_name"] == "coco/77.jpg"
    assert json.loads(out.read_text())["info"]["keypoints"] == "full"


def test_exported_gt_scores_itself_perfectly(store, tmp_path):
    out = tmp_path / "gt.json"
    assert cli.main(["export", str(store), "--out", str(out), "--keypoints", "coco17"]) == 0
    gt = _load(out)
    dets = [{"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
            for a in gt.anns.values() if a["num_keypoints"] > 0]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, gt.loadRes(dets), "keypoints")
        ev.evaluate(), ev.accumulate(), ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)


def test_unknown_split_is_one_line(store, tmp_path, capsys):
    assert cli.main(["export", str(store), "--split", "val", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no split 'val'" in err[0]
    assert not (tmp_path / "x.json").exists()
