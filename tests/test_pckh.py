"""PCKh@0.5 and the normalised L2 error on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from smallpose.metrics.errors_l2 import pair_l2
from smallpose.metrics.pckh import head_size, pckh


def test_head_size_is_point_six_of_the_diagonal():
    assert head_size(np.array([[0.0, 0.0, 30.0, 40.0]]))[0] == pytest.approx(30.0)


def test_pckh_threshold_matched_and_unmatched():
    # head box 30 x 40 -> diagonal 50 -> head size 30 -> threshold 15 px
    gt = np.zeros((3, 21, 3))
    gt[0, :4, 2] = 2  # four annotated points on a matched person
    gt[0, 0, :2] = [100.0, 100.0]
    gt[0, 1, :2] = [100.0, 100.0]
    gt[0, 2, :2] = [100.0, 100.0]
    gt[0, 3, :2] = [100.0, 100.0]
    gt[1, 5:7, 2] = 1  # two annotated points on an unmatched person: misses
    gt[2, :, 2] = 2  # a person without head box: not counted
    pred = np.zeros((3, 21, 2))
    pred[0, 0] = [100.0, 114.9]  # hit
    pred[0, 1] = [109.0, 112.0]  # distance exactly 15: hit (<=)
    pred[0, 2] = [115.1, 100.0]  # miss
    pred[0, 3] = [100.0, 100.0]  # hit
    heads = np.array([[0, 0, 30.0, 40.0], [0, 0, 30.0, 40.0], [np.nan] * 4])
    res = pckh(gt, heads, pred, matched=np.array([True, False, True]), counted=np.ones(3, bool),
               kpt_mask=np.ones(21, bool))  # fmt: skip
    assert res["PCKh"] == pytest.approx(3 / 6)
    assert res["n_points"] == 6 and res["n_instances"] == 2
    assert res["per_keypoint"]["nose"] == 1.0
    assert res["per_keypoint"]["left_eye"] == 0.0
    assert res["per_keypoint"]["right_ear"] == 0.0  # slot 5, only on the unmatched person
    # ignored ground truths (crowd / no points) are left out entirely
    res = pckh(
        gt, heads, pred, np.array([True, False, True]), np.array([True, False, True]), np.ones(21, bool)
    )
    assert res["PCKh"] == pytest.approx(3 / 4)


def test_no_head_boxes_gives_none():
    gt = np.zeros((1, 21, 3))
    assert pckh(gt, np.full((1, 4), np.nan), np.zeros((1, 21, 2)), np.ones(1, bool), np.ones(1, bool),
                np.ones(21, bool)) is None  # fmt: skip


def test_l2_error_by_hand():
    gt = np.zeros((2, 3, 3))
    gt[0, :, 2] = [2, 1, 2]
    gt[1, :, 2] = [0, 0, 2]
    pred = np.zeros((2, 3, 2))
    pred[0] = [[3.0, 0.0], [0.0, 4.0], [3.0, 4.0]]  # 3, 4, 5 px with h = 100
    pred[1] = [[99.0, 99.0], [99.0, 99.0], [6.0, 8.0]]  # only the third point counts: 10 px, h = 50
    got = pair_l2(gt, pred, np.array([100.0, 50.0]), np.ones(3, bool))
    assert got[0] == pytest.approx(0.04)
    assert got[1] == pytest.approx(0.2)
