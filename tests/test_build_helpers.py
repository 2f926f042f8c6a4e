"""Hand-built SourceTables and a stand-in converter for the build tests (no tests here).

The build is tested on tables written by hand so every expected number can be worked out
on paper; the real converters are exercised by the fixture tests in test_build_integration.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from smallpose.build import BuildConfig, SourceSpec, build
from smallpose.errors import RejectLog
from smallpose.records import SourceTable
from smallpose.skeleton import NUM_KEYPOINTS


def image(sid: str, split: str = "val", **kw) -> dict:
    return {"source_image_id": sid, "file_name": f"{sid}.jpg", "width": 640, "height": 480,
            "source_split": split, **kw}  # fmt: skip


def person(aid: str, sid: str, box: tuple, points: dict | None = None, **kw) -> dict:
    """An instance; ``points`` maps unified index -> (x, y, v)."""
    x, y, w, h = box
    return {"source_ann_id": aid, "source_image_id": sid, "bbox_x": x, "bbox_y": y, "bbox_w": w, "bbox_h": h,
            "_points": points or {}, **kw}  # fmt: skip


def table(source: str, K: int, images: list[dict], instances: list[dict], rejects=None) -> SourceTable:
    kp = np.zeros((len(instances), NUM_KEYPOINTS, 3))
    rows = []
    for n, inst in enumerate(instances):
        inst = dict(inst)
        for idx, xyv in inst.pop("_points").items():
            kp[n, idx] = xyv
        rows.append(inst)
    log = RejectLog()
    for r in rejects or []:
        log.reject(*r)
    return SourceTable.from_rows(source, K, images, rows, kp, rejects=log)


class FakeConverter:
    """Stands in for smallpose.converters.convert: path name -> a fresh copy of a table."""

    def __init__(self, tables: dict[str, SourceTable]):
        self.tables = tables
        self.calls: list[tuple] = []

    def __call__(self, kind: str, path: Path, split: str | None = None, strict: bool = False) -> SourceTable:
        self.calls.append((kind, str(path), split, strict))
        t = copy.deepcopy(self.tables[Path(path).name])
        t.files = [Path(path)]
        return t


def inputs(tmp: Path, tables: dict[str, SourceTable]) -> FakeConverter:
    """Write one small stand-in file per table (so the manifest has something to hash)."""
    tmp.mkdir(parents=True, exist_ok=True)
    for name in tables:
        (tmp / name).write_text(f"stand-in input {name}\n")
    return FakeConverter(tables)


def run_build(tmp: Path, tables: dict[str, SourceTable], sources: list[str], out: str = "store", **kw):
    """Build from ``sources`` ("kind[:split]=name"), names resolved inside ``tmp``."""
    conv = inputs(tmp, tables)
    specs = []
    for s in sources:
        head, _, name = s.partition("=")
        specs.append(SourceSpec.parse(f"{head}={tmp / name}"))
    return build(BuildConfig(specs, tmp / out, **kw), convert=conv)


def basic_tables() -> dict[str, SourceTable]:
    """Two sources: a COCO-like still-image set and a PoseTrack-like video set."""
    coco = table(
        "coco", 17,
        [image("1", "train"), image("2", "val"), image("3", "val")],
        [
            person("10", "1", (0, 0, 96, 64), {i: (5 + i, 5, 2) for i in range(10)}),
            person("20", "2", (0, 0, 300, 300), {0: (10, 10, 2)}),
            person("21", "2", (0, 0, 50, 40), {0: (12, 12, 1), 1: (13, 13, 2)}),
            person("30", "3", (10, 10, 256, 192), {}),
        ],
    )  # fmt: skip
    frames = [image(f"v{v}f{f}", "val" if v else "train", video_id=f"vid{v}", frame_index=f)
              for v in range(2) for f in range(4)]  # fmt: skip
    frames.append(image("v2f0", "val", video_id="vid2", frame_index=0))
    frames[2]["source_split"] = "val"  # a val frame inside the train video vid0
    people = [person(f"{im['source_image_id']}#0", im["source_image_id"], (0, 0, 20, 60), {0: (1, 1, 1)},
                     track_id=1) for im in frames]  # fmt: skip
    pt = table("posetrack", 17, frames, people)
    return {"coco.json": coco, "pt.json": pt}
