"""The statsmodels-like results API (IndexResult) and what fit records on it.

Reference values are live statsmodels (``Logit``, >= 0.14) on
``statsmodels.datasets.fair`` (bundled with statsmodels).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from semiparam.exceptions import SeparationWarning
from semiparam.index import (
    IchimuraClassifier,
    IndexResult,
    KleinSpadyClassifier,
    LogitIndexClassifier,
    SieveIndexClassifier,
)
from semiparam.simulate import make_single_index


@pytest.fixture(scope="module")
def fair():
    d = sm.datasets.fair.load_pandas().data
    y = (d["affairs"] > 0).astype(int)
    X = d[["rate_marriage", "age", "yrs_married", "religious"]]
    return X, y


def test_series_and_frames_named_by_feature(fair):
    X, y = fair
    res = LogitIndexClassifier(fit_intercept=True).fit(X, y).result_
    names = list(X.columns)
    for s in (res.params, res.bse, res.tvalues, res.pvalues):
        assert isinstance(s, pd.Series) and list(s.index) == names
    np.testing.assert_allclose(res.tvalues, res.params / res.bse)
    cov = res.cov_params()
    assert isinstance(cov, pd.DataFrame) and list(cov.index) == names == list(cov.columns)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), res.bse)
    ci = res.conf_int(0.1)
    assert list(ci.columns) == ["lower", "upper"] and list(ci.index) == names
    np.testing.assert_allclose(ci["upper"] - res.params, 1.6448536269514722 * res.bse)
    with pytest.raises(ValueError):
        res.params.iloc[0] = 0.0  # immutable


def test_likelihood_statistics_equal_statsmodels(fair):
    X, y = fair
    res = LogitIndexClassifier(fit_intercept=True).fit(X, y).result_
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    assert res.llf == pytest.approx(ref.llf, rel=1e-10)
    assert res.llnull == pytest.approx(ref.llnull, rel=1e-10)
    assert res.prsquared == pytest.approx(ref.prsquared, rel=1e-8)
    assert res.aic == pytest.approx(ref.aic, rel=1e-10)
    assert res.bic == pytest.approx(ref.bic, rel=1e-10)
    text = res.summary().as_text()
    for key in ("LL-Null", "Pseudo R-squ.", "AIC", "BIC"):
        assert key in text


def test_estimated_links_have_llnull_and_no_aic_for_kernel(fair):
    X, y = fair
    rows = np.random.default_rng(1).choice(len(y), 1500, replace=False)
    ks = KleinSpadyClassifier(n_restarts=0).fit(X.iloc[rows], y.iloc[rows])
    assert ks.result_.llnull < ks.result_.llf < 0
    assert 0 < ks.result_.prsquared < 1
    assert np.isnan(ks.result_.aic) and np.isnan(ks.result_.bic)
    sieve = SieveIndexClassifier().fit(X, y)
    df = X.shape[1] - 1 + sieve.link_.n_basis_ + 1
    assert sieve.result_.df_model == df
    assert sieve.result_.aic == pytest.approx(-2 * sieve.result_.llf + 2 * df)


def test_bandwidth_sd_refits_the_same_model():
    """bandwidth_sd_ is in the unit of bandwidth=: refitting with it reproduces the fit."""
    X, z = make_single_index(800, [1.0, -1.0, 0.5], link="cloglog", random_state=3)
    for cls in (KleinSpadyClassifier, IchimuraClassifier):
        a = cls().fit(X, z)
        b = cls(bandwidth=a.bandwidth_sd_).fit(X, z)
        assert b.bandwidth_sd_ == pytest.approx(a.bandwidth_sd_, rel=1e-6)
        assert b.bandwidth_ == pytest.approx(a.bandwidth_, rel=1e-3)
        np.testing.assert_allclose(b.coef_, a.coef_, atol=2e-3)
        info = a.result_.info
        assert info["Bandwidth (index)"] == a.bandwidth_
        assert info["Bandwidth (sd)"] == a.bandwidth_sd_
        assert "bandwidth=est.bandwidth_sd_" in a.summary().as_text()


def test_fit_warnings_are_recorded_and_still_raised():
    X = np.random.default_rng(0).standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)  # completely separated by x0
    with pytest.warns(SeparationWarning):
        est = LogitIndexClassifier().fit(X, y)
    assert any(w.startswith("SeparationWarning") for w in est.result_.fit_warnings)
    assert "Warnings raised during the fit" in est.summary().as_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = LogitIndexClassifier().fit(*make_single_index(200, [1.0, -1.0],
                                                               link="logistic", random_state=0))
    assert clean.result_.fit_warnings == ()


def test_logit_no_intercept_is_said_loudly(fair):
    X, y = fair
    doc = LogitIndexClassifier.__doc__
    assert "No intercept by default" in doc and "fit_intercept=True" in doc
    text = LogitIndexClassifier().fit(X, y).summary().as_text()
    assert "NO INTERCEPT" in text and "none (fit_intercept=False)" in text
    text = LogitIndexClassifier(fit_intercept=True).fit(X, y).summary().as_text()
    assert "NO INTERCEPT" not in text


def test_result_without_covariance():
    res = IndexResult(params=[0.6, 0.8], cov=None, names=("a", "b"), nobs=10, model="M")
    assert res.bse.isna().all() and res.cov_params().isna().all().all()
    assert np.isnan(res.prsquared) and np.isnan(res.aic)
