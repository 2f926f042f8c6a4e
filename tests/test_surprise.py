"""Surprise (NLL of the ground truth), hand-computed and against scipy's Gaussian density."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from smallpose.metrics.surprise import (
    fit_variances,
    load_calibration,
    pair_surprise,
    point_nll,
    write_calibration,
)

from smallpose.errors import InputError


def test_isotropic_single_point_by_hand():
    # residual (3, 4) px, sigma 5 px, box height 50 px -> normalised residual (0.06, 0.08), sigma 0.1
    nll = point_nll(
        np.array([[[10.0, 20.0]]]), np.array([[[13.0, 24.0]]]), np.array([50.0]), sigmas=np.array([[5.0]])
    )
    r2, s2 = 0.06**2 + 0.08**2, 0.1**2
    density = 1.0 / (2 * math.pi * s2) * math.exp(-r2 / (2 * s2))
    assert nll[0, 0] == pytest.approx(-math.log(density), rel=1e-12)
    assert nll[0, 0] == pytest.approx(0.5 + math.log(2 * math.pi * 0.01), rel=1e-12)


def test_full_covariance_against_scipy():
    gt = np.array([[[5.0, 7.0]]])
    pred = np.array([[[4.0, 9.0]]])
    h = np.array([10.0])
    cov = np.array([[[4.0, 1.0, 9.0]]])  # sxx, sxy, syy in px^2
    nll = point_nll(gt, pred, h, covs=cov)
    # normalised: mean pred/h, covariance S/h^2, evaluated at gt/h
    S = np.array([[4.0, 1.0], [1.0, 9.0]]) / 100.0
    expected = -multivariate_normal(mean=[0.4, 0.9], cov=S).logpdf([0.5, 0.7])
    assert nll[0, 0] == pytest.approx(expected, rel=1e-12)
    # and by hand: 1/2 * 29/35 + log(2 pi) + 1/2 log(35 / 10^4)
    assert nll[0, 0] == pytest.approx(
        0.5 * 29 / 35 + math.log(2 * math.pi) + 0.5 * math.log(35e-4), rel=1e-12
    )


def test_constant_variance_and_pair_mean_over_annotated_points():
    gt = np.array([[[0.0, 0.0, 2.0], [10.0, 0.0, 1.0], [50.0, 50.0, 0.0]]])  # third point unannotated
    pred = np.array([[[1.0, 0.0], [10.0, 2.0], [0.0, 0.0]]])
    h = np.array([20.0])
    v = np.array([0.01, 0.04, 0.09])
    mask = np.ones(3, bool)
    got = pair_surprise(gt, pred, h, mask, variances=v)
    nll0 = (0.05**2) / (2 * 0.01) + math.log(2 * math.pi * 0.01)
    nll1 = (0.1**2) / (2 * 0.04) + math.log(2 * math.pi * 0.04)
    assert got[0] == pytest.approx((nll0 + nll1) / 2, rel=1e-12)
    # a keypoint outside the protocol's selection does not count
    got = pair_surprise(gt, pred, h, np.array([True, False, True]), variances=v)
    assert got[0] == pytest.approx(nll0, rel=1e-12)
    # a pair with no annotated point has no surprise
    gt[0, :, 2] = 0
    assert np.isnan(pair_surprise(gt, pred, h, mask, variances=v)[0])


def test_fitted_variance_is_the_ml_estimate():
    h = np.array([10.0, 10.0, 10.0])
    gt = np.zeros((3, 1, 3))
    gt[..., 2] = 2
    pred = np.array([[[1.0, 0.0]], [[0.0, 2.0]], [[3.0, 4.0]]])  # normalised residuals 0.1, 0.2, 0.5
    v = fit_variances(gt, pred, h, np.ones(1, bool))
    assert v[0] == pytest.approx((0.01 + 0.04 + 0.25) / 3 / 2, rel=1e-12)

    def total(var):
        return pair_surprise(gt, pred, h, np.ones(1, bool), variances=np.array([var])).sum()

    assert total(v[0]) < total(v[0] * 1.05) and total(v[0]) < total(v[0] / 1.05)


def test_unseen_keypoint_has_no_fitted_variance():
    gt = np.zeros((1, 2, 3))
    gt[0, 0, 2] = 2
    v = fit_variances(gt, np.ones((1, 2, 2)), np.array([10.0]), np.ones(2, bool))
    assert np.isfinite(v[0]) and np.isnan(v[1])


def test_calibration_file_round_trip_and_errors(tmp_path):
    p = tmp_path / "cal.json"
    var = np.linspace(0.001, 0.021, 21)
    write_calibration(p, var)
    np.testing.assert_allclose(load_calibration(p), var, rtol=0, atol=0)
    p.write_text(json.dumps({"keypoint_variances": [0.01] * 17}))
    got = load_calibration(p)
    assert got[8] == 0.01 and np.isnan(got[1])  # COCO's left_shoulder -> slot 8; head_top unset
    for bad, words in (
        ({"variances": [1] * 21}, "missing"),
        ({"keypoint_variances": [0.1] * 5}, "21 or 17"),
        ({"keypoint_variances": [0.1] * 20 + [-1]}, "positive"),
    ):
        p.write_text(json.dumps(bad))
        with pytest.raises(InputError, match=words):
            load_calibration(p)
    with pytest.raises(InputError, match="no such"):
        load_calibration(tmp_path / "absent.json")
