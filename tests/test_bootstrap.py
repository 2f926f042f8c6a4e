"""Bootstrap over images, with stand-in statistics whose sampling behaviour is known."""

from __future__ import annotations

import numpy as np
import pytest
from smallpose.metrics.bootstrap import (
    bootstrap_ci,
    paired_bootstrap,
    paired_p_value,
    percentile_interval,
    resample_counts,
)


def weighted_mean(values):
    values = np.asarray(values, dtype=float)

    def fn(w):
        w = np.ones_like(values) if w is None else w
        return {"AP": float((w * values).sum() / w.sum())}

    return fn


def test_resample_counts_are_draws_with_replacement_and_seeded():
    a = list(resample_counts(50, 5, seed=3))
    b = list(resample_counts(50, 5, seed=3))
    c = list(resample_counts(50, 5, seed=4))
    assert all((x == y).all() for x, y in zip(a, b))
    assert any((x != y).any() for x, y in zip(a, c))
    for counts in a:
        assert counts.sum() == 50 and counts.min() >= 0 and len(counts) == 50
    # with replacement: some image is drawn twice (probability 1 - 50!/50^50 for each resample)
    assert all(counts.max() >= 2 for counts in a)


def test_identical_images_give_zero_width_interval():
    ci = bootstrap_ci(weighted_mean([0.7] * 30), ["AP"], 30, 200, seed=0)
    assert ci["AP"]["ci"] == [pytest.approx(0.7), pytest.approx(0.7)]
    assert ci["AP"]["n_valid"] == 200


def test_interval_width_matches_binomial_theory():
    # 400 images, 30 % "correct": the bootstrap 95 % interval of a proportion is
    # about +-1.96 sqrt(p (1 - p) / n) = +-0.0449
    values = np.zeros(400)
    values[:120] = 1.0
    ci = bootstrap_ci(weighted_mean(values), ["AP"], 400, 1000, seed=1)["AP"]["ci"]
    half = 1.96 * np.sqrt(0.3 * 0.7 / 400)
    assert ci[0] == pytest.approx(0.3 - half, abs=0.01)
    assert ci[1] == pytest.approx(0.3 + half, abs=0.01)


def test_undefined_resamples_are_left_out():
    def fn(w):
        return {"AP": -1.0 if w is not None and w[0] == 0 else 0.5}

    res = bootstrap_ci(fn, ["AP"], 3, 100, seed=0)["AP"]
    # image 0 is missed with probability (2/3)^3 = 0.296 per resample
    assert 50 < res["n_valid"] < 90
    assert res["ci"] == [0.5, 0.5]


def test_percentile_interval_by_hand():
    s = np.arange(101, dtype=float)  # 0..100: the 2.5th and 97.5th percentiles are 2.5 and 97.5
    assert percentile_interval(s) == (pytest.approx(2.5), pytest.approx(97.5))


def test_p_value_by_hand():
    assert paired_p_value(0.1, np.array([0.2, 0.1, -0.05, 0.0])) == 1.0  # 2 of 4 flip or vanish
    assert paired_p_value(0.1, np.array([0.1] * 9 + [-0.1])) == pytest.approx(0.2)
    assert paired_p_value(-0.1, np.array([-0.1] * 19 + [0.3])) == pytest.approx(0.1)
    assert paired_p_value(0.0, np.array([1.0, 2.0])) == 1.0


def test_paired_bootstrap_uses_the_same_resamples():
    rng = np.random.default_rng(0)
    base = rng.random(100)
    # A beats B by exactly 0.05 on every image: on shared resamples the difference never moves
    res = paired_bootstrap(weighted_mean(base + 0.05), weighted_mean(base), ["AP"], 100, 300, seed=2)["AP"]
    assert res["diff"] == pytest.approx(0.05)
    assert res["ci"] == [pytest.approx(0.05), pytest.approx(0.05)]
    assert res["p_value"] == 0.0
    # identical submissions: difference zero, p = 1
    res = paired_bootstrap(weighted_mean(base), weighted_mean(base), ["AP"], 100, 50, seed=2)["AP"]
    assert res["diff"] == 0.0 and res["p_value"] == 1.0
