"""The statistics toolbox (semiparam.stats) against NumPy references and repeated rows."""

import numpy as np
import pytest

from semiparam._kernels import KERNELS, bandwidth_ratio
from semiparam.stats import (
    effective_sample_size,
    robust_spread,
    rule_of_thumb_bandwidth,
    standardize,
    weighted_mean,
    weighted_quantile,
    weighted_sd,
    weighted_var,
)

RNG = np.random.default_rng(11)
V = RNG.standard_normal(60)
W_INT = RNG.integers(0, 4, size=60)  # integer weights, some zero: frequency semantics


def test_moments_equal_those_of_the_repeated_sample():
    rep = np.repeat(V, W_INT)
    assert weighted_mean(V, W_INT) == pytest.approx(rep.mean(), rel=1e-12)
    assert weighted_var(V, W_INT) == pytest.approx(rep.var(), rel=1e-12)
    assert weighted_sd(V, W_INT) == pytest.approx(rep.std(), rel=1e-12)
    X = RNG.standard_normal((60, 3))
    np.testing.assert_allclose(weighted_sd(X, W_INT), np.repeat(X, W_INT, axis=0).std(axis=0),
                               rtol=1e-12)
    assert weighted_sd(V) == pytest.approx(V.std(), rel=1e-12)


@pytest.mark.parametrize("method", ["hazen", "inverted_cdf", "averaged_inverted_cdf"])
def test_quantiles_equal_those_of_the_repeated_sample(method):
    q = np.linspace(0, 1, 17)
    np.testing.assert_allclose(weighted_quantile(V, q, W_INT, method=method),
                               np.quantile(np.repeat(V, W_INT), q, method=method), atol=1e-12)
    np.testing.assert_allclose(weighted_quantile(V, q, method=method),
                               np.quantile(V, q, method=method), atol=1e-12)


def test_median_of_an_even_sample_averages_the_middle_pair():
    v = np.array([4.0, 1.0, 3.0, 2.0])
    assert weighted_quantile(v, 0.5, np.full(4, 2.5), method="averaged_inverted_cdf") == 2.5


def test_robust_spread_is_the_smaller_of_sd_and_normalised_iqr():
    rep = np.repeat(V, W_INT)
    q1, q3 = np.quantile(rep, [0.25, 0.75], method="inverted_cdf")
    assert robust_spread(V, W_INT) == pytest.approx(min(rep.std(), (q3 - q1) / 1.349), rel=1e-12)
    # heavy tails: the IQR term wins; scale equivariance; weight-scale invariance
    t = np.random.default_rng(0).standard_t(1, size=2000)
    assert robust_spread(t) < 0.1 * t.std()
    assert robust_spread(3 * V + 1, W_INT) == pytest.approx(3 * robust_spread(V, W_INT))
    assert robust_spread(V, 7 * W_INT) == pytest.approx(robust_spread(V, W_INT))
    # a constant index has spread 0; two distinct values give the sd (IQR 0)
    assert robust_spread(np.ones(5)) == 0.0
    v2 = np.r_[np.zeros(10), 1.0]
    assert robust_spread(v2) == pytest.approx(v2.std())


def test_standardize_is_invertible_and_weighted():
    X = RNG.standard_normal((60, 3)) * [1.0, 10.0, 1e-3] + [0.0, 5.0, -2.0]
    Xs, mean, sd = standardize(X, W_INT)
    np.testing.assert_allclose(Xs * sd + mean, X, atol=1e-12)
    np.testing.assert_allclose(weighted_mean(Xs, W_INT), 0.0, atol=1e-12)
    np.testing.assert_allclose(weighted_sd(Xs, W_INT), 1.0, rtol=1e-12)
    # a column constant among the weighted rows falls back to its plain sd
    Xc = X.copy()
    Xc[W_INT > 0, 0] = 2.0
    _, _, sdc = standardize(Xc, W_INT)
    assert sdc[0] == pytest.approx(Xc[:, 0].std())


def test_rule_of_thumb_bandwidth():
    # Silverman's 1.06 sd n^(-1/5) for the Gaussian; canonical ratio 2.214 for Epanechnikov
    # (Marron & Nolan 1988, Table 1: delta_0 = 15^(1/5) / (1 / (2 sqrt(pi)))^(1/5))
    assert rule_of_thumb_bandwidth(2.0, 32) == pytest.approx(1.06 * 2.0 / 2.0)
    assert bandwidth_ratio("epanechnikov") == pytest.approx(2.2138, abs=1e-4)
    assert rule_of_thumb_bandwidth(1.0, 500, "epanechnikov", rate=1 / 6, factor=0.5) == (
        pytest.approx(0.5 * 1.06 * 500 ** (-1 / 6) * bandwidth_ratio("epanechnikov")))
    for k in KERNELS.values():
        assert bandwidth_ratio(k.name, k.name) == 1.0


@pytest.mark.parametrize("bad, match", [
    ((np.array([1.0, np.nan]), None), "NaN"),
    ((np.ones(3), np.array([1.0, -1.0, 1.0])), "nonnegative"),
    ((np.ones(3), np.ones(2)), "shape"),
    ((np.ones(3), np.zeros(3)), "positive sum"),
    ((np.ones((2, 2, 2)), None), "1-d or 2-d"),
])
def test_bad_input_is_a_clear_error(bad, match):
    with pytest.raises(ValueError, match=match):
        weighted_sd(*bad)


def test_bad_quantile_options_are_clear_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        weighted_quantile(V, 0.5, method="linear")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        weighted_quantile(V, 1.5)
    with pytest.raises(ValueError, match="1-d"):
        robust_spread(np.ones((3, 2)))


def test_effective_sample_size():
    assert effective_sample_size(np.ones(7)) == pytest.approx(7.0)
    assert effective_sample_size(np.r_[np.ones(4), np.zeros(3)]) == pytest.approx(4.0)
    assert effective_sample_size(5e-200 * W_INT) == pytest.approx(effective_sample_size(W_INT))
    # one row carrying all the weight is one effective row
    assert effective_sample_size(np.r_[1e6, np.ones(5)]) == pytest.approx(1.0, rel=1e-4)
    with pytest.raises(ValueError, match="nonnegative"):
        effective_sample_size(np.array([1.0, -1.0]))
