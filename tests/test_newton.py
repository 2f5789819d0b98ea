"""The one logistic Newton engine (semiparam.index.newton) and the BLAS-thread helper.

Trusted references: statsmodels' ``Logit`` (unpenalised, with and without a constant;
``GLM`` with binomial family and frequency weights for weighted rows) and scikit-learn's
``LogisticRegression(solver="newton-cholesky")`` for the ridge.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from semiparam._threads import single_blas_thread
from semiparam.exceptions import ConvergenceWarning, SeparationWarning
from semiparam.index import LogitIndexClassifier, PairwiseRankingClassifier
from semiparam.index.newton import (
    DenseRows,
    column_scales,
    fit_logit,
    logit_pilot,
    newton_softplus,
)


def _data(n=800, d=4, seed=0, mean=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + mean
    X[:, -1] = rng.integers(0, 3, size=n)  # a discrete column
    eta = X @ np.linspace(1.0, -0.5, d) * 0.7 - 0.3 * mean
    z = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, z


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_statsmodels_logit(intercept, seed):
    X, z = _data(seed=seed, mean=3.0 if intercept else 0.0)
    fit = fit_logit(X, z, np.ones(len(z)), fit_intercept=intercept)
    Xs = sm.add_constant(X, prepend=False) if intercept else X
    ref = sm.Logit(z, Xs).fit(disp=0, method="newton", tol=1e-14, maxiter=100)
    params = np.r_[fit.coef, fit.intercept] if intercept else fit.coef
    np.testing.assert_allclose(params, ref.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.cov, ref.cov_params(), rtol=1e-7)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-12)
    assert fit.converged and fit.separated is None and fit.checked


def test_weights_agree_with_statsmodels_glm_frequency_weights():
    X, z = _data(seed=3)
    w = np.random.default_rng(3).integers(1, 4, size=len(z)).astype(float)
    fit = fit_logit(X, z, w, fit_intercept=True)
    ref = sm.GLM(z, sm.add_constant(X, prepend=False), family=sm.families.Binomial(),
                 freq_weights=w).fit(tol=1e-14)
    np.testing.assert_allclose(np.r_[fit.coef, fit.intercept], ref.params, atol=1e-8)
    np.testing.assert_allclose(fit.cov, ref.cov_params(), rtol=1e-7)
    # integer weights are repeated rows
    rep = np.repeat(np.arange(len(z)), w.astype(int))
    fit_rep = fit_logit(X[rep], z[rep], np.ones(rep.size), fit_intercept=True)
    np.testing.assert_allclose(fit_rep.coef, fit.coef, atol=1e-10)


@pytest.mark.parametrize("intercept", [False, True])
def test_ridge_agrees_with_sklearn(intercept):
    X, z = _data(seed=4)
    fit = fit_logit(X, z, np.ones(len(z)), fit_intercept=intercept, alpha=1.0 / 0.05)
    ref = LogisticRegression(C=0.05, fit_intercept=intercept, solver="newton-cholesky",
                             tol=1e-12, max_iter=200).fit(X, z)
    np.testing.assert_allclose(fit.coef, ref.coef_[0], atol=1e-8)
    assert fit.intercept == pytest.approx(float(np.ravel(ref.intercept_)[0]) if intercept
                                          else 0.0, abs=1e-8)
    assert not fit.checked and fit.separated is None


@pytest.mark.parametrize("factor", [1e-20, 1e-6, 1e6, 1e20, 1e100])
def test_coefficients_change_units_with_the_columns(factor):
    """Issue 13: multiplying X by 1e20 moved the logit and ranking coefficients by 1e-2
    (the convergence test was not unit-free); on standardised columns it moves nothing."""
    X, z = _data(seed=5)
    c = np.array([factor, 1.0, 1.0 / factor ** 0.5, 3.0])
    for intercept in (False, True):
        a = fit_logit(X, z, np.ones(len(z)), fit_intercept=intercept)
        b = fit_logit(X * c, z, np.ones(len(z)), fit_intercept=intercept)
        np.testing.assert_allclose(b.coef * c, a.coef, rtol=1e-9)
        np.testing.assert_allclose(b.intercept, a.intercept, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b.cov[:4, :4] * np.outer(c, c), a.cov[:4, :4], rtol=1e-7)
    for cls in (LogitIndexClassifier, PairwiseRankingClassifier):
        ref = cls().fit(X, z).coef_
        for mult in (c, np.full(4, factor)):
            b = cls().fit(X * mult, z).coef_ * mult
            np.testing.assert_allclose(b / np.linalg.norm(b), ref, atol=1e-10)


def test_column_scales_are_equivariant_and_safe():
    X, _ = _data(seed=6)
    w = np.ones(len(X))
    s = column_scales(X, w)
    for f in (1e-150, 1e150):
        np.testing.assert_allclose(column_scales(X * f, w), s * f, rtol=1e-14)
    Z = np.c_[X, np.zeros(len(X))]
    assert column_scales(Z, w)[-1] == 1.0


def _separated(n=200, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    z = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    return X, z


def test_separation_policy():
    X, z = _separated()
    w = np.ones(len(z))
    with pytest.raises(ValueError, match="completely separated"):
        fit_logit(X, z, w, separation="raise", name="Thing")
    with pytest.warns(SeparationWarning, match="Thing: the classes are completely"):
        warned = fit_logit(X, z, w, separation="warn", name="Thing", C=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        silent = fit_logit(X, z, w, separation="silent", C=2.0)
    ridge = fit_logit(X, z, w, alpha=0.5)
    for f in (warned, silent):
        assert f.separated == "complete" and f.checked and f.alpha == 0.5
        np.testing.assert_allclose(f.coef, ridge.coef, atol=1e-12)
    slopes, kind = logit_pilot(X, z, w, C=2.0)
    np.testing.assert_allclose(slopes, fit_logit(X, z, w, fit_intercept=True,
                                                 alpha=0.5).coef, atol=1e-12)
    assert kind == "complete"
    # overlapping classes: the MLE and no verdict
    Xo, zo = _data(seed=8)
    slopes, kind = logit_pilot(Xo, zo, np.ones(len(zo)))
    assert kind is None
    np.testing.assert_allclose(slopes, fit_logit(Xo, zo, np.ones(len(zo)),
                                                 fit_intercept=True).coef, atol=1e-12)


def test_quasi_complete_separation_and_zero_weights():
    X, z = _separated()
    w = np.ones(len(z))
    X[:10, 0], X[:10, 1] = 0.0, 0.0  # ties at the threshold, both classes
    z[:5], z[5:10] = 1.0, 0.0
    assert fit_logit(X, z, w).separated == "quasi-complete"
    # rows with weight zero do not count
    Xo, zo = _data(seed=9)
    wz = np.r_[np.ones(len(zo)), 0.0]
    a = fit_logit(np.vstack([Xo, 100 * np.ones(4)]), np.r_[zo, 0.0], wz)
    b = fit_logit(Xo, zo, np.ones(len(zo)))
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)


def test_non_convergence_warns_and_reports():
    X, z = _data(seed=10)
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        fit = fit_logit(X, z, np.ones(len(z)), max_iter=1, name="X")
    assert not fit.converged and fit.n_iter == 1
    assert np.all(np.isfinite(fit.cov))


def test_engine_on_an_operator():
    """``newton_softplus`` in the engine's coordinates: the scale maps in and out."""
    X, z = _data(seed=11)
    A = (2 * z - 1)[:, None] * X
    s = column_scales(A, np.ones(len(z)))
    op = DenseRows(A / s)
    out = newton_softplus(op, np.ones(len(z)), scale=s, tol=1e-12)
    ref = sm.Logit(z, X).fit(disp=0, method="newton", tol=1e-14)
    np.testing.assert_allclose(out.coef, ref.params, atol=1e-8)
    assert out.converged and 3 <= out.n_iter <= 12
    np.testing.assert_allclose(out.covariance(op, np.ones(len(z))), ref.cov_params(),
                               rtol=1e-7)


def _blas_threads():
    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()
            if lib["user_api"] == "blas"}


def test_single_blas_thread_limits_and_restores():
    before = _blas_threads()
    with single_blas_thread():
        assert set(_blas_threads().values()) == {1}
        with single_blas_thread():  # nesting is fine
            assert set(_blas_threads().values()) == {1}
        assert set(_blas_threads().values()) == {1}
    assert _blas_threads() == before


def test_many_rows_start_from_a_subsample_and_agree_with_statsmodels():
    """From 4 * 10^4 rows on the fit starts at the MLE of a 10^4-row subsample."""
    X, z = _data(n=40_000, d=3, seed=12)
    fit = fit_logit(X, z, np.ones(len(z)), fit_intercept=True)
    ref = sm.Logit(z, sm.add_constant(X, prepend=False)).fit(disp=0, method="newton",
                                                             tol=1e-14)
    np.testing.assert_allclose(np.r_[fit.coef, fit.intercept], ref.params, atol=1e-8)
    np.testing.assert_allclose(fit.cov, ref.cov_params(), rtol=1e-7)
    assert fit.n_iter <= 4
