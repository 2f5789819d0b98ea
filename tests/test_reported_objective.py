"""Reported objectives are the objectives at the returned parameters (issue 8, item 4).

Every estimator's reported objective is recomputed here from scratch at the returned
(``coef_``, ``bandwidth_``) on public real data sets, by an independent computation that
shares no code with the library:

* Klein–Spady ``loglik_loo_`` and Ichimura ``mse_loo_``: the leave-one-out
  Nadaraya–Watson link from the dense ``n x n`` kernel matrix of the index
  ``X @ coef_`` with bandwidth ``bandwidth_`` (NumPy only).  The Gaussian matrix is
  formed in log space, each row divided by its largest entry (log-sum-exp), so a row
  far from every neighbour (beyond the ~37 bandwidths where ``exp(-u^2/2)``
  underflows) gets the formula's value -- its nearest neighbour's label -- rather than
  an empty denominator; the cases below include such rows (asserted).
* the kernel-score estimator's ``loglik_loo_``: the same dense link (Gaussian) at its
  ``bandwidth_``, clipped at ``clip``;
* the isotonic estimator's ``loglik_``: scikit-learn's ``IsotonicRegression`` (pool
  adjacent violators) of ``y`` on the returned index, clipped at ``clip``;
* the sieve estimator's ``loglik_``: the returned link ``link_`` (its probability clip
  lifted, since the likelihood is not clipped) at the returned index.

Agreement is required to 1e-10 relative.  Data: ``birthwt`` (``tests/reference``,
R np's design), and from statsmodels' bundled data sets (no download): ``spector``
(GRADE on GPA, TUCE, PSI; 32 rows), ``anes96`` (vote == 1 on logpopul, TVnews, selfLR,
ClinLR, DoleLR, age, educ, income; 944 rows, the issue's design), ``fair`` (affairs > 0
on the other eight columns, discrete; 400 rows drawn with seed 0) and ``ccard``
(AVGEXP on AGE, INCOME, INCOMESQ, OWNRENT; the Ichimura regressor).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from semiparam.exceptions import SemiparamWarning
from semiparam.index import (
    IchimuraClassifier,
    IchimuraRegressor,
    IsotonicIndexClassifier,
    KernelScoreIndexClassifier,
    KleinSpadyClassifier,
    SieveIndexClassifier,
)

sm = pytest.importorskip("statsmodels.api")

RTOL = 1e-10
#: exp(-u^2/2) underflows in double precision beyond this many bandwidths
UNDERFLOW = 38.6


def _load(name):
    if name == "birthwt":
        d = pd.read_csv(Path(__file__).parent / "reference" / "birthwt_np.csv")
        return d.drop(columns="low").to_numpy(float), d["low"].to_numpy(float)
    if name == "spector":
        d = sm.datasets.spector.load_pandas().data
        return d[["GPA", "TUCE", "PSI"]].to_numpy(float), d["GRADE"].to_numpy(float)
    if name == "anes96":
        d = sm.datasets.anes96.load_pandas().data
        cols = ["logpopul", "TVnews", "selfLR", "ClinLR", "DoleLR", "age", "educ", "income"]
        return d[cols].to_numpy(float), (d["vote"] == 1).to_numpy(float)
    if name == "fair":
        d = sm.datasets.fair.load_pandas().data.sample(400, random_state=0)
        return d.drop(columns="affairs").to_numpy(float), (d["affairs"] > 0).to_numpy(float)
    if name == "ccard":
        d = sm.datasets.ccard.load_pandas().data
        return d[["AGE", "INCOME", "INCOMESQ", "OWNRENT"]].to_numpy(float), d["AVGEXP"].to_numpy(float)
    raise KeyError(name)


def dense_loo_link(X, y, coef, h, kernel):
    """Leave-one-out Nadaraya–Watson link at the index ``X @ coef`` (dense, NumPy only).

    Returns ``(g, far)``: the link and the number of rows whose nearest neighbour is
    beyond the underflow distance.  A row without neighbour (compact kernels) gets the
    leave-one-out mean of ``y``.
    """
    v = X @ coef
    n = v.size
    U = (v[:, None] - v[None, :]) / h
    off = ~np.eye(n, dtype=bool)
    if kernel == "gaussian":
        L = np.where(off, -0.5 * U * U, -np.inf)
        K = np.exp(L - L.max(axis=1, keepdims=True))  # each row relative to its largest
    else:
        p = {"epanechnikov": 1, "biweight": 2, "triweight": 3}[kernel]
        c = {1: 0.75, 2: 15.0 / 16.0, 3: 35.0 / 32.0}[p]
        K = np.where(off & (np.abs(U) <= 1.0), c * (1.0 - U * U) ** p, 0.0)
    A, B = K @ y, K.sum(axis=1)
    fallback = (y.sum() - y) / (n - 1)
    g = np.where(B > 0, A / np.where(B > 0, B, 1.0), fallback)
    nearest = np.where(off, np.abs(U), np.inf).min(axis=1)
    return g, int(np.sum(nearest > UNDERFLOW))


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemiparamWarning)
        return est.fit(X, y)


# (data, kernel, estimator); the spector Ichimura fit with the Epanechnikov kernel once
# ended on an abnormal L-BFGS-B stop whose ``fun`` belonged to a trial point (issue 8:
# reported 0.1387713, 0.1393677 at the returned parameters); the search now evaluates
# the objective afresh at the point it returns
CASES = [
    ("birthwt", "epanechnikov", "kleinspady"),
    ("birthwt", "epanechnikov", "ichimura"),
    ("birthwt", "gaussian", "kleinspady"),
    ("birthwt", "gaussian", "ichimura"),
    ("spector", "epanechnikov", "kleinspady"),
    ("spector", "epanechnikov", "ichimura"),
    ("spector", "gaussian", "kleinspady"),
    ("spector", "gaussian", "ichimura"),
    ("anes96", "epanechnikov", "kleinspady"),
    ("anes96", "epanechnikov", "ichimura"),
    ("anes96", "gaussian", "kleinspady"),
    ("fair", "epanechnikov", "kleinspady"),
    ("fair", "biweight", "ichimura"),
]
# rows beyond the underflow distance: np's unconstrained search (min_bandwidth=0) ends
# there; the default floored search does not
FAR_CASES = {("spector", "gaussian", "ichimura")}


@pytest.mark.parametrize("data,kernel,name", CASES)
def test_kernel_objective_is_the_dense_objective(data, kernel, name):
    X, y = _load(data)
    kw = dict(kernel=kernel, cov_type=None)
    if (data, kernel, name) in FAR_CASES:
        kw["min_bandwidth"] = 0
    if name == "kleinspady":
        est = _fit(KleinSpadyClassifier(**kw), X, y)
    else:
        est = _fit(IchimuraClassifier(**kw), X, y)
    g, far = dense_loo_link(X, y, est.coef_, est.bandwidth_, kernel)
    if (data, kernel, name) in FAR_CASES:
        assert far > 0, "this case is here for its rows far from every neighbour"
    if name == "kleinspady":
        gc = np.clip(g, est.clip, 1.0 - est.clip)
        ref = float(np.sum(y * np.log(gc) + (1.0 - y) * np.log1p(-gc)))
        assert est.loglik_loo_ == pytest.approx(ref, rel=RTOL)
    else:
        ref = float(np.mean((y - g) ** 2))
        assert est.mse_loo_ == pytest.approx(ref, rel=RTOL)


def test_ichimura_regressor_objective_in_units_of_y():
    X, y = _load("ccard")
    est = _fit(IchimuraRegressor(cov_type=None), X, y)
    g, _ = dense_loo_link(X, y, est.coef_, est.bandwidth_, est.kernel)
    assert est.mse_loo_ == pytest.approx(float(np.mean((y - g) ** 2)), rel=RTOL)


@pytest.mark.parametrize("data", ["birthwt", "spector", "anes96", "fair"])
def test_kernel_score_loglik_is_the_dense_loo_loglik(data):
    X, y = _load(data)
    est = _fit(KernelScoreIndexClassifier(cov_type=None), X, y)
    g, _ = dense_loo_link(X, y, est.coef_, est.bandwidth_, est.kernel)
    g = np.clip(g, est.clip, 1.0 - est.clip)
    ref = float(np.sum(y * np.log(g) + (1.0 - y) * np.log1p(-g)))
    assert est.loglik_loo_ == pytest.approx(ref, rel=RTOL)


@pytest.mark.parametrize("data", ["birthwt", "spector", "anes96", "fair"])
def test_isotonic_loglik_is_the_pav_loglik(data):
    X, y = _load(data)
    est = _fit(IsotonicIndexClassifier(cov_type=None), X, y)
    v = X @ est.coef_
    iso = IsotonicRegression(increasing=bool(est.link_.increasing)).fit(v, y)
    g = np.clip(iso.predict(v), est.clip, 1.0 - est.clip)
    ref = float(np.sum(y * np.log(g) + (1.0 - y) * np.log1p(-g)))
    assert est.loglik_ == pytest.approx(ref, rel=RTOL)


@pytest.mark.parametrize("data", ["birthwt", "spector", "anes96", "fair"])
def test_sieve_loglik_is_the_returned_links_loglik(data):
    X, y = _load(data)
    est = _fit(SieveIndexClassifier(), X, y)
    # the likelihood is that of the fitted sieve, sigmoid(eta): unclipped, and without the
    # pseudo-observation that link_ adds for prediction
    eta = est.link_.logit(X @ est.coef_)
    p = 1.0 / (1.0 + np.exp(-eta))
    ref = float(np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)))
    assert est.loglik_ == pytest.approx(ref, rel=RTOL)
