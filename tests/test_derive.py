"""Derived quantities against hand-computed numbers and CrowdPose's published crowdIndex."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from smallpose import derive


def test_kd_hand_computed():
    # S_p = 96*64 = 6144, K = 17, n_p = 10: x = (6144 / 12288) * (17 / 10) = 0.85
    x = 0.85
    expected = 2 * (1 - 1 / (1 + math.exp(-x)))  # = 0.59887...
    kd = derive.keypoint_density(np.array([96 * 64.0]), np.array([17]), np.array([10]))
    assert kd[0] == pytest.approx(expected, rel=1e-14)
    assert 0.5988 < expected < 0.5989


def test_kd_null_without_points_and_no_overflow():
    kd = derive.keypoint_density(np.array([100.0, 1e9, 1e-6]), np.array([14, 17, 17]), np.array([0, 1, 17]))
    assert np.isnan(kd[0])
    assert kd[1] == 0.0  # exp overflows to inf: KD is exactly 0, no warning, no NaN
    assert kd[2] == pytest.approx(1.0, abs=1e-9)  # tiny box, all points: KD -> 1 (dense)


def test_size_buckets_at_exact_boundaries():
    areas = np.array([1.0, 128 * 96 - 1e-9, 128 * 96, 256 * 192 - 1e-9, 256 * 192, 1e7])
    assert derive.size_bucket(areas).tolist() == ["S", "S", "M", "M", "L", "L"]


def test_density_class_boundaries_go_up():
    kd = np.array([0.0001, 0.35 - 1e-12, 0.35, 0.95 - 1e-12, 0.95, 0.999, np.nan, 0.5])
    bucket = np.array(["S"] * 7 + ["M"])
    got = derive.density_class(kd, bucket).tolist()
    assert got == ["sparse", "sparse", "moderate", "moderate", "dense", "dense", None, None]


def _ci(boxes, points_per_instance, image_index=None):
    kp = np.zeros((len(boxes), 21, 3))
    for i, pts in enumerate(points_per_instance):
        for k, (x, y, v) in enumerate(pts):
            kp[i, k] = (x, y, v)
    img = np.zeros(len(boxes), int) if image_index is None else np.asarray(image_index)
    return derive.crowd_index(img, int(img.max()) + 1, np.array(boxes, float), kp)


def test_crowd_index_three_persons_hand_drawn():
    # A: box x 0..100, y 0..200, 4 points. B: box x 50..150, 2 points. C: box x 300..350, 3 points,
    # one of them at x = 100, on A's right edge (inclusive) and inside B. D: a big box, no points.
    # Unannotated points sit at (0, 0, 0), inside A's box: they must not count.
    A = [(10, 10, 2), (20, 20, 2), (30, 30, 1), (40, 40, 2)]
    B = [(60, 10, 2), (140, 10, 1)]
    C = [(310, 10, 2), (320, 10, 2), (100, 10, 2)]
    boxes = [(0, 0, 100, 200), (50, 0, 100, 200), (300, 0, 50, 50), (0, 0, 500, 500)]
    # N_b(A) = B's (60,10) + C's (100,10) = 2 -> 2/4; N_b(B) = C's (100,10) = 1 -> 1/2; N_b(C) = 0 -> 0
    # D has N_a = 0 and is left out of the mean: CI = (0.5 + 0.5 + 0) / 3
    ci = _ci(boxes, [A, B, C, []])
    assert ci[0] == pytest.approx(1 / 3, abs=1e-15)


def test_crowd_index_per_image_against_brute_force():
    rng = np.random.default_rng(0)
    n = 400
    img = np.sort(rng.integers(0, 30, n))
    img[img == 7] = 8  # image 7 has no instance: NaN
    boxes = np.c_[rng.uniform(0, 200, (n, 2)), rng.uniform(5, 120, (n, 2))]
    kp = np.c_[rng.uniform(0, 300, (n, 21, 2)), rng.integers(0, 3, (n, 21, 1))].astype(float)
    kp[5, :, 2] = 0  # an instance without points
    # brute force, written straight from the definition
    want = np.full(30, np.nan)
    for g in range(30):
        members = np.flatnonzero(img == g)
        ratios = []
        for i in members:
            n_a = (kp[i, :, 2] > 0).sum()
            if n_a == 0:
                continue
            x, y, w, h = boxes[i]
            n_b = sum(
                int(((kp[j, :, 2] > 0) & (kp[j, :, 0] >= x) & (kp[j, :, 0] <= x + w) & (kp[j, :, 1] >= y)
                     & (kp[j, :, 1] <= y + h)).sum())
                for j in members if j != i
            )  # fmt: skip
            ratios.append(n_b / n_a)
        if ratios:
            want[g] = np.mean(ratios)
    perm = rng.permutation(n)  # input order must not matter
    got = derive.crowd_index(img[perm], 30, boxes[perm], kp[perm])
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    assert np.isnan(got[7])


def test_crowd_index_matches_crowdpose_published(fixtures_dir):
    """CrowdPose's crowdIndex, as published in its annotation file, rounded to 2 decimals.

    Their definition counts, for each person, the other persons' joints (all 14, head and neck
    included) inside its box, over its own annotated joints, averaged over persons with joints.
    Ours agrees to the published rounding (|diff| <= 0.005).
    """
    d = json.loads((fixtures_dir / "crowdpose" / "test_crowdpose.json").read_text())
    ids = [im["id"] for im in d["images"]]
    pos = {i: n for n, i in enumerate(ids)}
    anns = d["annotations"]
    kp = np.array([a["keypoints"] for a in anns], float).reshape(len(anns), 14, 3)
    boxes = np.array([a["bbox"] for a in anns], float)
    img = np.array([pos[a["image_id"]] for a in anns])
    ci = derive.crowd_index(img, len(ids), boxes, kp)
    published = np.array([im["crowdIndex"] for im in d["images"]])
    assert np.all(np.abs(ci - published) <= 0.005 + 1e-12), (ci, published)
    # counting the person without joints in n (one reading of the formula) would not agree
    n_all = np.bincount(img, minlength=len(ids))
    n_with = np.bincount(img, weights=(kp[:, :, 2] > 0).any(axis=1), minlength=len(ids))
    assert np.abs(ci * n_with / n_all - published).max() > 0.05
