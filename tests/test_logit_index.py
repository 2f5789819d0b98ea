"""LogitIndexClassifier: equality with statsmodels/scikit-learn, separation handling."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.optimize import linprog
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from semiparam.exceptions import SeparationWarning
from semiparam.index import LogitIndexClassifier
from semiparam.index._base import normalization_jacobian
from semiparam.simulate import make_single_index

COEF = np.array([1.0, -1.0, 0.5, 0.2])


def _data(n=800, seed=1, link="logistic"):
    return make_single_index(n, COEF, link=link, random_state=seed)


def _konis_separated(X, z):
    """Oracle: Konis' (2007) linear program.  max sum_i s_i x_i'b subject to
    s_i x_i'b >= 0, |b_j| <= 1; the optimum is > 0 iff the data are (quasi-)separated."""
    A = (2 * z - 1)[:, None] * X
    A = A / np.abs(A).max(axis=0)
    res = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(len(z)), bounds=(-1, 1),
                  method="highs")
    return -res.fun > 1e-7 * np.abs(A).sum()


# -- equality with the reference implementations --------------------------------------
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_equals_statsmodels_logit(fit_intercept):
    X, z = _data()
    est = LogitIndexClassifier(fit_intercept=fit_intercept).fit(X, z)
    Xs = sm.add_constant(X) if fit_intercept else X
    ref = sm.Logit(z, Xs).fit(disp=0, tol=1e-12)
    slopes = ref.params[1:] if fit_intercept else ref.params
    np.testing.assert_allclose(est.coef_raw_, slopes, rtol=0, atol=1e-8)
    if fit_intercept:
        assert est.intercept_ == pytest.approx(ref.params[0], abs=1e-8)
        order = np.r_[np.arange(1, 5), 0]  # ours: intercept last
        np.testing.assert_allclose(est.cov_raw_, ref.cov_params()[np.ix_(order, order)],
                                   rtol=1e-8, atol=1e-10)
    else:
        assert est.intercept_ == 0.0
        np.testing.assert_allclose(est.cov_raw_, ref.cov_params(), rtol=1e-8, atol=1e-10)
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-10)
    assert est.result_.llf == pytest.approx(ref.llf, rel=1e-10)
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], ref.predict(Xs), atol=1e-9)
    assert est.separated_ is False and est.converged_
    # normalised coefficients and their delta-method covariance
    np.testing.assert_allclose(est.coef_, slopes / np.linalg.norm(slopes), atol=1e-9)
    J = normalization_jacobian(est.coef_raw_)
    np.testing.assert_allclose(est.result_.cov, J @ est.cov_raw_[:4, :4] @ J.T, atol=1e-12)


def test_equals_sklearn_unpenalised_and_ridge():
    X, z = _data(seed=3)
    for fi in (False, True):
        ours = LogitIndexClassifier(fit_intercept=fi).fit(X, z)
        sk = LogisticRegression(C=np.inf, fit_intercept=fi, tol=1e-12, max_iter=10_000).fit(X, z)
        np.testing.assert_allclose(ours.coef_raw_, sk.coef_[0], atol=1e-6)
        ours = LogitIndexClassifier(fit_intercept=fi, penalty="l2", C=0.05).fit(X, z)
        sk = LogisticRegression(C=0.05, l1_ratio=0.0, fit_intercept=fi, tol=1e-12,
                                max_iter=10_000).fit(X, z)
        np.testing.assert_allclose(ours.coef_raw_, sk.coef_[0], atol=1e-6)
        if fi:
            assert ours.intercept_ == pytest.approx(sk.intercept_[0], abs=1e-6)
        assert ours.separated_ is None and ours.alpha_ == pytest.approx(20.0)


def test_weights_are_frequency_weights():
    X, z = _data(n=300, seed=4)
    w = np.random.default_rng(0).integers(0, 4, size=300)
    a = LogitIndexClassifier(fit_intercept=True).fit(X, z, sample_weight=w)
    b = LogitIndexClassifier(fit_intercept=True).fit(np.repeat(X, w, 0), np.repeat(z, w))
    np.testing.assert_allclose(a.coef_raw_, b.coef_raw_, atol=1e-10)
    np.testing.assert_allclose(a.cov_raw_, b.cov_raw_, atol=1e-10)
    assert a.result_.nobs == int(np.sum(w > 0))


def test_first_normalisation_and_link():
    X, z = _data(seed=5)
    est = LogitIndexClassifier(normalize="first", fit_intercept=True).fit(X, z)
    assert est.coef_[0] == 1.0
    assert est.scale_ == pytest.approx(est.coef_raw_[0])
    v = X @ est.coef_
    expected = 1 / (1 + np.exp(-(X @ est.coef_raw_ + est.intercept_)))
    np.testing.assert_allclose(est.link_(v), expected)
    assert est.result_.std_errors[0] == 0.0  # fixed by the normalisation


# -- separation -------------------------------------------------------------------------
def _complete(seed=0, n=200, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, (X @ np.ones(d) > 0).astype(int)


def _quasi(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    X[: n // 2, 0] = 0.0  # rows on the hyperplane x0 = 0 carry noise labels
    z = np.where(X[:, 0] > 0, 1, 0)
    z[: n // 2] = rng.integers(0, 2, n // 2)
    return X, z


@pytest.mark.parametrize("make,kind", [(_complete, "complete"), (_quasi, "quasi-complete")])
def test_separation_detected_warns_and_ridges(make, kind):
    X, z = make()
    assert _konis_separated(X, z)
    with pytest.warns(SeparationWarning, match="separated"):
        est = LogitIndexClassifier().fit(X, z)
    assert est.separated_ is True and est.separation_kind_ == kind
    assert np.all(np.isfinite(est.coef_raw_)) and np.all(np.isfinite(est.result_.cov))
    assert est.alpha_ == 1.0 and est.converged_
    # the estimate is the documented ridge fit
    ridge = LogitIndexClassifier(penalty="l2", C=1.0).fit(X, z)
    np.testing.assert_allclose(est.coef_raw_, ridge.coef_raw_, atol=1e-10)
    assert "Separated" in est.summary().as_text()
    if kind == "quasi-complete":
        assert abs(est.coef_[0]) > 0.95  # the separating column dominates


def test_separation_options():
    X, z = _complete()
    with pytest.raises(ValueError, match="separated"):
        LogitIndexClassifier(separation="raise").fit(X, z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LogitIndexClassifier(separation="silent", C=10.0).fit(X, z)
    assert est.separated_ and est.alpha_ == pytest.approx(0.1)
    # a larger C moves the ridge direction toward the separating limit
    strong = LogitIndexClassifier(separation="silent", C=0.01).fit(X, z)
    assert np.linalg.norm(est.coef_raw_) > np.linalg.norm(strong.coef_raw_)


def test_not_flagged_on_overlapping_data():
    for seed in range(5):
        X, z = _data(n=400, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est = LogitIndexClassifier().fit(X, z)
        assert est.separated_ is False


def test_detection_agrees_with_linear_program():
    """Random small designs around the separation boundary: our Newton-path
    certificates decide exactly as Konis' linear program does."""
    rng = np.random.default_rng(2024)
    n_sep = 0
    for _ in range(40):
        n = int(rng.integers(20, 80))
        d = int(rng.integers(2, 8))
        X = rng.standard_normal((n, d))
        u = X @ rng.standard_normal(d) * rng.choice([1.0, 3.0, 10.0])
        z = (rng.uniform(size=n) < 1 / (1 + np.exp(-u))).astype(int)
        if z.min() == z.max():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = LogitIndexClassifier().fit(X, z)
        oracle = _konis_separated(X, z)
        n_sep += oracle
        assert est.separated_ == oracle
    assert 5 <= n_sep <= 35  # both outcomes exercised


def test_high_dimensional_difference_design():
    """A DPO-like design: many columns, no intercept, overlap; agrees with statsmodels."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3000, 60))
    z = (rng.uniform(size=3000) < 1 / (1 + np.exp(-X @ rng.normal(0, 0.2, 60)))).astype(int)
    est = LogitIndexClassifier().fit(X, z)
    ref = sm.Logit(z, X).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(est.coef_raw_, ref.params, atol=1e-7)
    assert est.n_iter_ <= 10


# -- inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("params,match", [
    ({"C": 0.0}, "'C' parameter"),
    ({"penalty": "l1"}, "'penalty' parameter"),
    ({"separation": "ignore"}, "'separation' parameter"),
    ({"max_iter": 0}, "'max_iter' parameter"),
    ({"fit_intercept": "yes"}, "'fit_intercept' parameter"),
    ({"normalize": "max"}, "'normalize' parameter"),
])
def test_bad_parameters(params, match):
    X, z = _data(n=50)
    with pytest.raises(ValueError, match=match):
        LogitIndexClassifier(**params).fit(X, z)


def test_bad_data():
    X, z = _data(n=50)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError):
        LogitIndexClassifier().fit(Xn, z)
    with pytest.raises(ValueError, match="one class"):
        LogitIndexClassifier().fit(X, np.ones(50))
    with pytest.raises(ValueError, match="negative"):
        LogitIndexClassifier().fit(X, z, sample_weight=-np.ones(50))
    Xc = X.copy()
    Xc[:, 1] = 1.0
    with pytest.raises(ValueError, match="constant"):
        LogitIndexClassifier(fit_intercept=True).fit(Xc, z)


def test_pandas_names_and_summary():
    X, z = _data(n=300)
    df = pd.DataFrame(X, columns=["price", "size", "age", "dist"])
    est = LogitIndexClassifier(fit_intercept=True).fit(df, pd.Series(np.where(z, "buy", "no")))
    assert list(est.feature_names_in_) == ["price", "size", "age", "dist"]
    assert est.result_.names == ("price", "size", "age", "dist")
    assert list(est.classes_) == ["buy", "no"]
    text = est.summary().as_text()
    assert "price" in text and "Intercept" in text and "fisher" in text
    assert est.predict(df.iloc[:5]).shape == (5,)


EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": "the check uses 15 rows x 30 "
    "columns; check_design rejects a design whose direction is not identified",
}


@parametrize_with_checks(
    [LogitIndexClassifier()], expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)  # check data are often separable
        check(estimator)


def test_iteration_cap_warns_and_reports():
    from semiparam.exceptions import ConvergenceWarning

    X, z = _data(n=400, seed=9)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = LogitIndexClassifier(max_iter=2).fit(X, z)
    assert not est.converged_ and not est.result_.converged and est.n_iter_ == 2
    assert est.separated_ is False  # overlap was certified on the way
    assert "caution" in est.summary().as_text()
