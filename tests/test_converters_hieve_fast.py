"""HiEve layout (b): the column-wise fast path against the person-by-person reader.

A clean file is read by ``hieve._clean_rects`` (whole columns at once); a file with any
doubtful value falls back to ``hieve._annorect``, which names the first bad field. These
tests pin the fast path to hand-computed rows, and check on seeded random damage that both
paths give the same images, instances, keypoints and rejects (in order).
"""

from __future__ import annotations

import copy
import json
import random

import numpy as np
import pandas as pd
import pytest
from smallpose.converters import hieve

from smallpose.skeleton import INDEX


def _person(x1=10, y1=20, x2=50, y2=120, track=3, points=()):
    pts = [{"id": [j], "x": [x], "y": [y], **extra} for j, x, y, extra in points]
    return {
        "x1": [x1],
        "y1": [y1],
        "x2": [x2],
        "y2": [y2],
        "track_id": [track],
        "annopoints": [{"point": pts}],
    }


def _convert(path, slow: bool, monkeypatch):
    with monkeypatch.context() as m:
        if slow:
            m.setattr(hieve, "_clean_rects", lambda frames: None)
        return hieve.convert(path)


def _same(a, b):
    pd.testing.assert_frame_equal(a.images, b.images)
    pd.testing.assert_frame_equal(a.instances, b.instances)
    assert np.array_equal(a.keypoints, b.keypoints, equal_nan=True)
    assert a.rejects.items == b.rejects.items


def test_fast_path_by_hand(tmp_path):
    points = [(0, 30, 25.5, {}), (13, 40, 115, {"is_visible": [0]}), (6, 33, 60, {"is_visible": ["0"]}),
              (2, 31, 40, {"is_visible": [1]})]  # fmt: skip
    seq = {"annolist": [{"image": [{"name": "000004.jpg"}],
                         "annorect": [_person(points=points), _person(1.5, 2, 11.5, 32, None)]}]}  # fmt: skip
    frames = seq["annolist"]
    assert hieve._clean_rects(frames) is not None  # this file takes the fast path
    (tmp_path / "21.json").write_text(json.dumps(seq))
    t = hieve.convert(tmp_path / "21.json")
    assert len(t.rejects) == 0 and t.images.source_split.tolist() == ["test"]
    inst = t.instances
    assert inst[["bbox_x", "bbox_y", "bbox_w", "bbox_h"]].values.tolist() == [
        [10, 20, 40, 100],
        [1.5, 2, 10, 30],
    ]
    assert inst.track_id[0] == 3 and inst.track_id.isna().tolist() == [False, True]
    expected = {"nose": [30, 25.5, 2], "left_ankle": [40, 115, 1], "left_elbow": [33, 60, 1],
                "right_shoulder": [31, 40, 2]}  # fmt: skip
    for name, i in INDEX.items():
        assert t.keypoints[0, i].tolist() == expected.get(name, [0, 0, 0]), name
    assert t.keypoints[1].sum() == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.update(x1=[True]),  # a bool is not a number
        lambda p: p.update(y2=["7"]),
        lambda p: p.pop("x2"),
        lambda p: p.update(x1=[float("nan")]),  # json's NaN: the reader decides, not the fast path
        lambda p: p.update(y1=[2**60]),  # beyond float64's exact integers
        lambda p: p.update(track_id=[1.0]),
        lambda p: p["annopoints"][0]["point"].append(copy.deepcopy(p["annopoints"][0]["point"][0])),
        lambda p: p["annopoints"][0]["point"][0].update(id=[14]),
        lambda p: p["annopoints"][0]["point"][0].update(id=[[0]]),
        lambda p: p["annopoints"][0]["point"][0].update(x=[1, 2]),
        lambda p: p["annopoints"][0]["point"][0].pop("y"),
        lambda p: p.update(annopoints="ab"),
        lambda p: p.update(annopoints=[5]),  # not iterable: one reject, never a traceback
        lambda p: p.update(annopoints=True),
    ],
)
def test_doubtful_values_take_the_reader_path(tmp_path, monkeypatch, damage):
    person = _person(points=[(0, 30, 25, {}), (5, 35, 40, {})])
    damage(person)
    seq = {"annolist": [{"image": [{"name": "000001.jpg"}], "annorect": [_person(), person]}]}
    assert hieve._clean_rects(seq["annolist"]) is None
    (tmp_path / "3.json").write_text(json.dumps(seq))
    fast, slow = (
        _convert(tmp_path / "3.json", False, monkeypatch),
        _convert(tmp_path / "3.json", True, monkeypatch),
    )
    _same(fast, slow)
    assert len(fast.rejects) == 1 and fast.rejects.items[0].record == "3/000001.jpg#1"


_BAD = [
    True,
    None,
    "5",
    "",
    [],
    [1, 2],
    [[3]],
    {"a": 1},
    1.5,
    -0.0,
    float("inf"),
    2**63,
    -1,
    14,
    0,
    [0],
    ["0"],
]


def _mutate(rng: random.Random, seq: dict) -> None:
    fr = rng.choice(seq["annolist"])
    rects = fr.get("annorect")
    if not rects or rng.random() < 0.1:
        fr[rng.choice(["image", "is_labeled", "annorect"])] = copy.deepcopy(rng.choice(_BAD))
        return
    i = rng.randrange(len(rects))
    r = rects[i]
    pts = r["annopoints"][0]["point"] if type(r) is dict and type(r.get("annopoints")) is list else None
    roll = rng.random()
    if roll < 0.3 or not pts:
        if type(r) is dict:
            r[rng.choice(["x1", "y1", "x2", "y2", "track_id", "annopoints"])] = copy.deepcopy(
                rng.choice(_BAD)
            )
    elif roll < 0.4:
        rects[i] = copy.deepcopy(rng.choice(_BAD))
    elif roll < 0.5:
        pts.append(copy.deepcopy(pts[0]))
    else:
        p = rng.choice(pts)
        p[rng.choice(["id", "x", "y", "is_visible"])] = copy.deepcopy(rng.choice(_BAD))


def test_fast_and_reader_paths_agree_on_random_damage(tmp_path, monkeypatch):
    rng = random.Random(7)
    taken = 0
    for case in range(150):
        frames = []
        for i in range(rng.randint(1, 4)):
            persons = []
            for _ in range(rng.randint(0, 3)):
                ids = rng.sample(range(14), rng.randint(0, 14))
                x1, y1 = rng.randint(0, 500), rng.randint(0, 500)
                pts = [(j, rng.randint(0, 1900), rng.random() * 999, {}) for j in ids]
                persons.append(_person(x1, y1, x1 + rng.randint(1, 90), y1 + rng.randint(1, 200), case, pts))
            frames.append({"image": [{"name": f"{i:06d}.jpg"}], "annorect": persons})
        seq = {"annolist": frames}
        for _ in range(rng.choice([0, 1, 1, 2])):
            _mutate(rng, seq)
        f = tmp_path / f"c{case}" / f"{rng.randint(1, 32)}.json"
        f.parent.mkdir()
        f.write_text(json.dumps(seq))
        taken += hieve._clean_rects(seq["annolist"]) is not None
        _same(_convert(f, False, monkeypatch), _convert(f, True, monkeypatch))
    assert 30 < taken < 120  # both paths were exercised
