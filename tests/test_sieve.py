"""Tests of the monotone spline sieve: basis, SieveLink and SieveIndexClassifier.

Oracles: scipy's ``BSpline`` (basis values and derivatives), finite differences
(derivatives), statsmodels ``Logit`` (the logistic link is inside the sieve), the
simulator's true direction and link (recovery), and repeated rows (sample weights).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.interpolate import BSpline
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from semiparam.exceptions import ConvergenceWarning, SemiparamWarning
from semiparam.index import SieveIndexClassifier
from semiparam.index._base import normalization_jacobian, normalize_direction
from semiparam.links import SieveLink, get_link
from semiparam.links.sieve import (
    MonotoneSplineBasis,
    bounded_newton,
    default_n_basis,
)
from semiparam.simulate import angle, make_single_index

FAMILIES = ["shifted_logistic", "cloglog", "cauchit", "skew_logistic", "logistic"]
TRUTH = np.array([1.0, -1.0, 0.5])


def _link_data(n, family="logistic", scale=1.5, seed=0):
    rng = np.random.default_rng(seed)
    v = scale * rng.standard_normal(n)
    F = get_link(family)
    z = (rng.uniform(size=n) < F(v)).astype(float)
    return v, z, F


# -- the basis --------------------------------------------------------------------------
@pytest.mark.parametrize("degree", [1, 2, 3, 5])
@pytest.mark.parametrize("extrapolation", ["linear", "constant"])
def test_basis_matches_scipy_bspline(degree, extrapolation):
    rng = np.random.default_rng(degree)
    basis = MonotoneSplineBasis.from_index(rng.standard_normal(200), degree + 4, degree,
                                           extrapolation=extrapolation)
    s = np.cumsum(rng.uniform(size=basis.n_splines)) - 2.0
    spl = BSpline(basis.knots, s, degree)
    inside = np.r_[basis.knots, rng.uniform(basis.lower, basis.upper, 300)]
    dsg = basis.design(inside)
    np.testing.assert_allclose(dsg.value(s), spl(inside), atol=1e-12)
    if degree > 1:  # the derivative of a linear spline jumps at the knots
        np.testing.assert_allclose(dsg.slope(s), spl.derivative()(inside), atol=1e-10)
    # beyond the boundary knots: linear continuation with the boundary slope, or flat
    out = np.array([basis.lower - 1.5, basis.upper + 2.0])
    d1 = spl.derivative()
    lin = extrapolation == "linear"
    expect = [spl(basis.lower) - 1.5 * d1(basis.lower) * lin,
              spl(basis.upper) + 2.0 * d1(basis.upper) * lin]
    np.testing.assert_allclose(basis.design(out).value(s), expect, atol=1e-10)


def test_design_products_match_dense():
    rng = np.random.default_rng(0)
    basis = MonotoneSplineBasis.from_index(rng.standard_normal(100), 7, 3)
    v = np.r_[rng.uniform(basis.lower - 1, basis.upper + 1, 150), basis.knots]
    dsg = basis.design(v)
    M = dsg.matrix().toarray()
    Md = dsg.slope_matrix()
    r = rng.standard_normal(v.size)
    W = rng.uniform(size=v.size)
    Y = rng.standard_normal((v.size, 3))
    s = np.cumsum(rng.uniform(size=basis.n_splines))
    np.testing.assert_allclose(M @ s, dsg.value(s), atol=1e-12)
    np.testing.assert_allclose(Md @ s, dsg.slope(s), atol=1e-12)
    np.testing.assert_allclose(dsg.rmatvec(r), M.T @ r, atol=1e-12)
    np.testing.assert_allclose(dsg.gram(W), M.T @ (W[:, None] * M), atol=1e-12)
    np.testing.assert_allclose(dsg.cross(Y), M.T @ Y, atol=1e-12)
    np.testing.assert_allclose(dsg.slope_cross(Y), Md.T @ Y, atol=1e-12)


def test_isplines_are_monotone_from_zero_to_one():
    rng = np.random.default_rng(1)
    basis = MonotoneSplineBasis.from_index(rng.standard_normal(500), 8, 3,
                                           extrapolation="constant")
    grid = np.linspace(basis.lower - 1, basis.upper + 1, 400)
    I = basis.ispline(grid)
    assert I.shape == (grid.size, basis.n_basis)
    assert np.all(np.diff(I, axis=0) >= -1e-12)
    np.testing.assert_allclose(I[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(I[-1], 1.0, atol=1e-12)
    # derivatives (M-splines) against central differences
    h = 1e-6
    mid = np.linspace(basis.lower + 0.01, basis.upper - 0.01, 50)
    fd = (basis.ispline(mid + h) - basis.ispline(mid - h)) / (2 * h)
    np.testing.assert_allclose(basis.ispline(mid, derivative=True), fd, atol=1e-5)
    # the I-spline form and the B-spline form are the same spline
    a, c = 0.3, rng.uniform(size=basis.n_basis)
    s = basis.spline_coef(a, c)
    np.testing.assert_allclose(a + basis.ispline(mid) @ c, basis.design(mid).value(s))
    np.testing.assert_allclose(basis.ispline_coef(s)[1], c)


def test_greville_reproduces_lines_and_affine_maps():
    rng = np.random.default_rng(2)
    basis = MonotoneSplineBasis.from_index(rng.standard_normal(300), 6, 3)
    s = 0.4 + 1.7 * basis.greville
    x = np.linspace(basis.lower - 1, basis.upper + 1, 50)
    np.testing.assert_allclose(basis.design(x).value(s), 0.4 + 1.7 * x, atol=1e-10)
    for alpha, gamma in [(2.0, 0.5), (-0.7, 1.0)]:
        new, rev = basis.affine(alpha, gamma)
        u = (x - gamma) / alpha
        s_new = s[::-1] if rev else s
        np.testing.assert_allclose(new.design(u).value(s_new), basis.design(x).value(s),
                                   atol=1e-10)


def test_default_basis_grows_like_n_to_the_fifth():
    sizes = [default_n_basis(n) for n in (500, 8000, 10**5, 10**6)]
    assert sizes == sorted(sizes) and sizes[0] >= 4
    assert sizes[-1] - 3 == pytest.approx((10**6) ** 0.2, abs=1)


def test_bounded_newton_solves_a_bound_constrained_quadratic():
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]])
    b = np.array([1.0, -2.0, 0.5])

    def fun(x, derivs):
        f = 0.5 * x @ A @ x - b @ x
        return (f, A @ x - b, A) if derivs else f

    x, info = bounded_newton(fun, np.array([0.0, 1.0, 1.0]),
                             np.array([-np.inf, 0.0, 0.0]))
    assert info["converged"]
    # KKT: free gradient zero, bound entries at 0 with nonnegative gradient
    g = A @ x - b
    assert x[1] == 0.0 and g[1] >= 0
    np.testing.assert_allclose(g[[0, 2]], 0.0, atol=1e-10)


# -- SieveLink ----------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["logistic", "cloglog", "shifted_logistic"])
def test_sieve_link_recovers_true_link(family):
    v, z, F = _link_data(20000, family, seed=1)
    link = SieveLink().fit(v, z)
    assert link.converged_
    grid = np.linspace(np.quantile(v, 0.02), np.quantile(v, 0.98), 300)
    assert np.max(np.abs(link(grid) - F(grid))) < 0.04
    assert np.all(np.diff(link(np.linspace(-10, 10, 500))) >= -1e-12)


def test_sieve_link_monotone_both_ways_and_clipped():
    v, z, _ = _link_data(800, "cauchit", seed=2)
    grid = np.linspace(-8, 8, 400)
    up = SieveLink(clip=1e-3).fit(v, z)
    down = SieveLink(increasing=False).fit(v, 1 - z)
    assert np.all(np.diff(up(grid)) >= -1e-12) and np.all(np.diff(down(grid)) <= 1e-12)
    assert up(grid).min() >= 1e-3 and up(grid).max() <= 1 - 1e-3
    assert np.all(up.coef_ >= 0) and np.all(down.coef_ >= 0)
    mirror = SieveLink().fit(v, z)  # fitting 1 - z decreasingly is the mirror image
    np.testing.assert_allclose(mirror(grid), 1 - down(grid), atol=1e-6)


@pytest.mark.parametrize("extrapolation", ["linear", "constant"])
def test_sieve_link_derivative_matches_finite_differences(extrapolation):
    v, z, _ = _link_data(3000, "skew_logistic", seed=3)
    link = SieveLink(extrapolation=extrapolation).fit(v, z)
    lo, hi = link.index_range_
    grid = np.r_[np.linspace(lo + 1e-3, hi - 1e-3, 200), lo - 2.0, hi + 2.0]
    h = 1e-6
    fd = (link(grid + h) - link(grid - h)) / (2 * h)
    np.testing.assert_allclose(link.derivative(grid), fd, atol=1e-6)
    if extrapolation == "constant":
        assert link.derivative(np.array([lo - 2.0, hi + 2.0])).max() == 0.0


def test_sieve_link_solvers_agree_and_weights_equal_repeats():
    v, z, _ = _link_data(1500, "logistic", seed=4)
    newton = SieveLink(n_basis=6).fit(v, z)
    lbfgsb = SieveLink(n_basis=6, solver="lbfgsb", max_iter=2000).fit(v, z)
    assert newton.n_iter_ < lbfgsb.n_iter_
    assert newton.loglik_ == pytest.approx(lbfgsb.loglik_, abs=1e-4)
    w = np.random.default_rng(0).integers(0, 3, size=v.size)
    weighted = SieveLink(n_basis=6).fit(v, z, sample_weight=w)
    repeated = SieveLink(n_basis=6).fit(np.repeat(v, w), np.repeat(z, w))
    grid = np.linspace(-3, 3, 50)
    np.testing.assert_allclose(weighted(grid), repeated(grid), atol=1e-6)
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-8)


@pytest.mark.parametrize(
    "v, z, params, match",
    [
        (np.ones((5, 2)), np.zeros(5), {}, "1-D"),
        (np.r_[np.nan, np.arange(9.0)], np.zeros(10), {}, "NaN"),
        (np.arange(10.0), np.full(10, 2.0), {}, r"\[0, 1\]"),
        (np.arange(10.0), np.zeros(9), {}, "shape"),
        (np.ones(10), np.r_[np.zeros(5), np.ones(5)], {}, "constant"),
        (np.arange(10.0), np.r_[np.zeros(5), np.ones(5)], {"n_basis": 2}, "n_basis must be"),
        (np.arange(10.0), np.r_[np.zeros(5), np.ones(5)], {"degree": 0}, "'degree' parameter"),
        (np.arange(10.0), np.r_[np.zeros(5), np.ones(5)], {"clip": 0.7}, "'clip' parameter"),
        (np.arange(10.0), np.r_[np.zeros(5), np.ones(5)], {"solver": "bfgs"}, "'solver'"),
        (np.arange(10.0), np.r_[np.zeros(5), np.ones(5)], {"extrapolation": "x"},
         "'extrapolation'"),
    ],
)
def test_sieve_link_bad_inputs(v, z, params, match):
    with pytest.raises(ValueError, match=match):
        SieveLink(**params).fit(v, z)


def test_sieve_link_bad_weights_and_unfitted():
    v, z, _ = _link_data(50)
    with pytest.raises(ValueError, match="negative"):
        SieveLink().fit(v, z, sample_weight=-np.ones(50))
    with pytest.raises(NotFittedError):
        SieveLink()(v)


# -- SieveIndexClassifier -----------------------------------------------------------------
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "the check's design has 30 columns but fewer distinct rows, which the shared design "
        "validation rejects (the direction is not identified); besides, the default basis "
        "size grows with the number of rows, so repeated rows and integer weights give "
        "different sieves unless n_basis is fixed (test_weights_equal_repeated_rows)"),
}


@parametrize_with_checks([SieveIndexClassifier()],
                         expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemiparamWarning)
        check(estimator)


def _medians(family, sizes=(500, 2000, 8000), seeds=4):
    out = []
    for n in sizes:
        errs = []
        for seed in range(seeds):
            X, y = make_single_index(n, TRUTH, link=family, scale=1.5, random_state=seed)
            est = SieveIndexClassifier().fit(X, y)
            assert est.converged_
            errs.append(angle(est.coef_, TRUTH))
        out.append(np.median(errs))
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_recovers_direction_with_shrinking_error(family):
    m500, m2000, m8000 = _medians(family)
    # root-n: 16 times the data should cut the error about 4-fold; allow noise
    assert m8000 < 0.6 * m500
    assert m2000 < 1.2 * m500 and m8000 < 1.2 * m2000
    assert m8000 < 3.0


def test_logistic_link_agrees_with_statsmodels_logit():
    X, y = make_single_index(4000, TRUTH, link="logistic", scale=1.5, design="mixed",
                             random_state=7)
    est = SieveIndexClassifier().fit(X, y)
    res = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    slopes = np.asarray(res.params[1:])
    coef, _ = normalize_direction(slopes)
    J = normalization_jacobian(slopes)
    se_logit = np.sqrt(np.diag(J @ res.cov_params()[1:, 1:] @ J.T))
    # same model up to the link's flexibility: well within one standard error
    assert np.all(np.abs(est.coef_ - coef) < se_logit)
    np.testing.assert_allclose(est.result_.std_errors, se_logit, rtol=0.25)
    # the logistic link is inside the sieve (splines reproduce lines): higher likelihood
    assert est.loglik_ >= res.llf - 1e-6


def test_normalisations_agree_and_link_is_on_the_reported_index():
    X, y = make_single_index(1500, TRUTH, link="cloglog", random_state=1)
    X[:, 0] *= -1.0  # negative first coefficient: the "first" link decreases
    unit = SieveIndexClassifier().fit(X, y)
    first = SieveIndexClassifier(normalize="first").fit(X, y)
    np.testing.assert_allclose(first.coef_, unit.coef_ / unit.coef_[0], rtol=1e-6)
    np.testing.assert_allclose(first.predict_proba(X), unit.predict_proba(X), atol=1e-7)
    assert not first.link_.increasing and unit.link_.increasing
    p = unit.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, unit.link_(X @ unit.coef_))
    assert first.result_.std_errors[0] == 0.0
    # delta method between the two normalisations
    J = normalization_jacobian(unit.coef_, "first")
    np.testing.assert_allclose(first.result_.std_errors,
                               np.sqrt(np.diag(J @ unit.result_.cov @ J.T)), rtol=1e-4,
                               atol=1e-12)


def test_weights_equal_repeated_rows():
    X, y = make_single_index(600, TRUTH, link="cauchit", random_state=2)
    w = np.random.default_rng(2).integers(0, 3, size=600)
    a = SieveIndexClassifier(n_basis=6).fit(X, y, sample_weight=w)
    b = SieveIndexClassifier(n_basis=6).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    assert a.loglik_ == pytest.approx(b.loglik_, rel=1e-8)


def test_summary_keeps_feature_names_and_reports_the_sieve():
    X, y = make_single_index(800, TRUTH, link="skew_logistic", random_state=3)
    df = pd.DataFrame(X, columns=["age", "income", "distance"])
    est = SieveIndexClassifier().fit(df, y)
    text = est.summary().as_text()
    for token in ["age", "income", "distance", "SieveIndexClassifier", "Basis size",
                  "profiled sieve likelihood", "efficient"]:
        assert token in text
    assert est.n_basis_ == default_n_basis(800)
    assert est.result_.llf == est.loglik_ < 0
    assert np.all(est.result_.std_errors > 0)


def test_nonconvergence_warns_and_is_reported():
    X, y = make_single_index(500, TRUTH, link="shifted_logistic", random_state=4)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = SieveIndexClassifier(max_iter=1).fit(X, y)
    assert not est.converged_ and not est.result_.converged
    assert "did not converge" in est.summary().as_text()
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize(
    "X, y, params, match",
    [
        (np.random.default_rng(0).standard_normal((50, 1)), np.r_[np.zeros(25), np.ones(25)],
         {}, "at least 2 columns"),
        (np.c_[np.random.default_rng(0).standard_normal(50), np.ones(50)],
         np.r_[np.zeros(25), np.ones(25)], {}, "constant"),
        (np.random.default_rng(0).standard_normal((50, 2)), np.arange(50) % 3, {}, "binary"),
        (np.random.default_rng(0).standard_normal((50, 2)), np.r_[np.zeros(25), np.ones(25)],
         {"n_basis": 2}, "n_basis must be"),
        (np.random.default_rng(0).standard_normal((50, 2)), np.r_[np.zeros(25), np.ones(25)],
         {"normalize": "max"}, "'normalize' parameter"),
        (np.random.default_rng(0).standard_normal((50, 2)), np.r_[np.zeros(25), np.ones(25)],
         {"tol": -1.0}, "'tol' parameter"),
    ],
)
def test_estimator_bad_inputs(X, y, params, match):
    with pytest.raises(ValueError, match=match):
        SieveIndexClassifier(**params).fit(X, y)


def test_prediction_link_pseudo_observation():
    """link_ carries one pseudo-observation weighted by the local data mass: unchanged
    where the index is dense, pulled toward the mean in thin tails, and its derivative is
    the exact one (central differences)."""
    X, y = make_single_index(800, TRUTH, link="cloglog", scale=3.0, random_state=5)
    est = SieveIndexClassifier().fit(X, y)
    v = X @ est.coef_
    raw = est.link_.logit(v)
    p_raw = 1 / (1 + np.exp(-raw))
    p = est.link_(v)
    mid = np.abs(v - np.median(v)) < 0.5 * v.std()
    assert np.max(np.abs(p[mid] - p_raw[mid])) < 0.02
    far = np.array([v.min() - 5 * v.std(), v.max() + 5 * v.std()])
    np.testing.assert_allclose(est.link_(far), y.mean(), atol=1e-12)  # no data: the mean
    q = np.linspace(v.min(), v.max(), 41)[1:-1]
    eps = 1e-6 * v.std()
    fd = (est.link_(q + eps) - est.link_(q - eps)) / (2 * eps)
    np.testing.assert_allclose(est.link_.derivative(q), fd, rtol=1e-4, atol=1e-7)


def test_n_basis_is_bounded_by_the_rows():
    """n_basis = 1000 on 300 rows ran for minutes (issue 13): now a clear error."""
    X, y = make_single_index(300, TRUTH, link="cloglog", random_state=0)
    with pytest.raises(ValueError, match="n_basis=1000 is too large for 300 rows: at most 30"):
        SieveIndexClassifier(n_basis=1000).fit(X, y)


def test_cov_type_options():
    """"efficient" is the profiled information; "bootstrap" refits on resampled rows
    with the basis size held (its spread exceeds the analytic one on a small sample,
    the direction the Monte Carlo of docs/soundness.md found); None computes nothing."""
    from semiparam.simulate import make_single_index

    X, y = make_single_index(400, [1.0, -1.0, 0.5], link="cloglog", random_state=3)
    eff = SieveIndexClassifier().fit(X, y)
    assert eff.result_.cov_type == "efficient"
    boot = SieveIndexClassifier(cov_type="bootstrap", n_bootstrap=30, random_state=0).fit(X, y)
    assert boot.result_.cov_type == "bootstrap"
    assert boot.result_.info["Bootstrap reps"] == 30
    np.testing.assert_array_equal(boot.coef_, eff.coef_)
    ratio = boot.result_.std_errors / eff.result_.std_errors
    assert np.all((ratio > 0.5) & (ratio < 3.0))
    again = SieveIndexClassifier(cov_type="bootstrap", n_bootstrap=30, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.result_.cov, boot.result_.cov)
    none = SieveIndexClassifier(cov_type=None).fit(X, y)
    assert none.result_.cov is None
    with pytest.raises(ValueError, match="cov_type"):
        SieveIndexClassifier(cov_type="sandwich").fit(X, y)
