"""KleinSpadyClassifier: objective and gradient against brute force, recovery, inference,
the scikit-learn contract, bad inputs and warnings."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.utils.estimator_checks import parametrize_with_checks

from _kleinspady_helpers import (
    brute_loo_link,
    install_brute_kernels_if_missing,
    kernel_and_derivative,
)
from semiparam.exceptions import (
    ConvergenceWarning,
    FlatLikelihoodWarning,
    SeparationWarning,
)
from semiparam.index import KleinSpadyClassifier
from semiparam.index._objective import (
    BernoulliLoss,
    LOOObjective,
    RelativeBandwidthObjective,
    SquaredLoss,
)
from semiparam.links import KernelLink
from semiparam.simulate import angle, make_single_index

install_brute_kernels_if_missing()

KERNELS = ["epanechnikov", "biweight", "triweight", "gaussian"]

# --------------------------------------------------------------------------- sklearn contract
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "two reasons: the check's design (15 rows x 30 columns) is rejected by check_design "
        "(direction not identified), and integer weights are not row repetition for a "
        "leave-one-out link (a repeated row would be predicted by its own copies)"),
    "check_non_transformer_estimators_n_iter": (
        "on iris (setosa against the rest, perfectly separated) the first pilot already "
        "attains the smallest possible objective (every leave-one-out probability at the "
        "clip), so no quasi-Newton iteration runs and n_iter_ = 0 is the honest count"),
}


@parametrize_with_checks(
    [KleinSpadyClassifier(n_restarts=0, cov_type=None)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# --------------------------------------------------------------------------- objective
def _toy(n=80, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    z = (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ np.r_[1.0, -0.5, 0.25][:d]))).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    return X, z, w


@pytest.mark.parametrize("kernel", KERNELS)
def test_objective_matches_brute_force(kernel):
    X, z, w = _toy()
    mask = np.arange(z.size) % 7 != 0
    gamma = np.array([1.5, -0.7, 0.4])
    for loss, f in [(BernoulliLoss(1e-4), lambda g: -(z * np.log(g) + (1 - z) * np.log(1 - g))),
                    (SquaredLoss(), lambda g: (z - g) ** 2)]:
        obj = LOOObjective(X, z, w, kernel=kernel, loss=loss, mask=mask)
        g = brute_loo_link(X @ gamma, z, 1.0, kernel, w)
        ok = np.isfinite(g)
        fallback = (np.sum(w * z) - w * z) / (np.sum(w) - w)
        g = np.where(ok, g, fallback)
        if isinstance(loss, BernoulliLoss):
            g = np.clip(g, 1e-4, 1 - 1e-4)
        c = w * mask
        expected = np.sum(c * f(g)) / np.sum(c)
        assert obj.value(gamma) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("loss", [BernoulliLoss(1e-6), SquaredLoss()], ids=["bernoulli", "squared"])
def test_gradient_matches_finite_differences(kernel, loss):
    X, z, w = _toy(seed=1)
    obj = LOOObjective(X, z, w, kernel=kernel, loss=loss, mask=np.arange(z.size) % 5 != 0)
    gamma = np.array([2.0, -1.0, 0.6])
    eps = 1e-6
    for fun in (obj, RelativeBandwidthObjective(obj, 0.4)):
        _, grad = fun.value_and_grad(gamma)
        fd = np.array([(fun.value(gamma + eps * e) - fun.value(gamma - eps * e)) / (2 * eps)
                       for e in np.eye(3)])
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8 * np.abs(fd).max())
    # the fixed-bandwidth objective is scale invariant: its gradient is orthogonal to gamma
    _, grad = RelativeBandwidthObjective(obj, 0.4).value_and_grad(gamma)
    assert abs(grad @ gamma) <= 1e-10 * np.linalg.norm(grad) * np.linalg.norm(gamma)


def test_isolated_rows_fall_back_to_loo_mean():
    X = np.array([[0.0, 0], [0.1, 0], [0.2, 0], [10.0, 0], [10.1, 0], [30.0, 0]]) + [0, 1e-3]
    X[:, 1] = [0.0, 1, 0, 1, 0, 1]
    z = np.array([0.0, 1, 0, 1, 1, 0])
    obj = LOOObjective(X, z, np.ones(6), kernel="epanechnikov", loss=SquaredLoss())
    g, ok = obj.link_loo(X @ np.array([1.0, 0.0]))
    assert not ok[5] and g[5] == pytest.approx(np.mean(z[:5]))
    assert ok[:5].all()


def test_inference_terms_match_brute_force():
    X, z, w = _toy(n=60, seed=3)
    gamma = np.array([1.2, -0.6, 0.3])
    obj = LOOObjective(X, z, w, kernel="gaussian", loss=BernoulliLoss(1e-6))
    H, S, dg = obj.inference_terms(gamma)
    v = X @ gamma
    K, dK = kernel_and_derivative("gaussian")
    W = K(v[:, None] - v[None, :]) * w[None, :]
    D = dK(v[:, None] - v[None, :]) * w[None, :]
    np.fill_diagonal(W, 0)
    np.fill_diagonal(D, 0)
    g = (W @ z) / W.sum(1)
    g_prime = (D @ z - g * D.sum(1)) / W.sum(1)
    R = X - (W @ X) / W.sum(1)[:, None]
    np.testing.assert_allclose(dg, g_prime, rtol=1e-8)
    psi = ((z - g) / (g * (1 - g)) * g_prime)[:, None] * R
    np.testing.assert_allclose(S, psi, rtol=1e-7, atol=1e-12)
    Hb = (R * (w * g_prime**2 / (g * (1 - g)))[:, None]).T @ R
    np.testing.assert_allclose(H, Hb, rtol=1e-7)


def test_loglik_is_the_objective_at_the_reported_fit():
    X, y = make_single_index(400, [1.0, -1.0, 0.5], link="cloglog", random_state=2)
    est = KleinSpadyClassifier(kernel="biweight", cov_type=None).fit(X, y)
    v = X @ est.coef_
    g = np.clip(brute_loo_link(v, y, est.bandwidth_, "biweight"), 1e-6, 1 - 1e-6)
    assert est.loglik_loo_ == pytest.approx(np.sum(y * np.log(g) + (1 - y) * np.log(1 - g)),
                                            rel=1e-7)
    assert isinstance(est.link_, KernelLink) and est.link_.bandwidth_ == est.bandwidth_


# --------------------------------------------------------------------------- recovery
LINKS = {
    "shifted_logistic": {"s": 1.5, "tau": 0.25},
    "cloglog": {},
    "cauchit": {},
    "skew_logistic": {},
}


@pytest.mark.parametrize("link", list(LINKS))
def test_recovery_rate(link):
    """Median angle over 3 seeds shrinks roughly like n^-1/2 (n = 500, 2000, 8000)."""
    truth = np.array([1.0, -1.0, 0.5])
    med = {}
    for n in (500, 2000, 8000):
        angles = []
        for seed in range(3):
            X, y = make_single_index(n, truth, link=link, link_params=LINKS[link], scale=1.5,
                                     random_state=100 * seed + n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = KleinSpadyClassifier(cov_type=None).fit(X, y)
            angles.append(angle(est.coef_, truth))
        med[n] = np.median(angles)
    # n^-1/2 predicts a factor 4 from 500 to 8000; allow noise from 3 seeds
    assert med[8000] < med[500] / 2, med
    assert med[8000] < 3.0, med


def test_logistic_link_agrees_with_statsmodels_logit():
    truth = np.array([1.0, -1.0, 0.5, 0.0])
    X, y = make_single_index(4000, truth, link="logistic", random_state=7)
    logit = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    slopes = np.asarray(logit.params[1:])
    est = KleinSpadyClassifier().fit(X, y)
    # sampling spread of the direction (degrees) from our own efficient covariance
    spread = np.degrees(np.sqrt(np.trace(est.result_.cov)))
    assert angle(est.coef_, slopes) < 3 * spread, (angle(est.coef_, slopes), spread)
    assert angle(est.coef_, truth) < 3 * spread


# --------------------------------------------------------------------------- inference
def test_efficient_covariance_structure():
    X, y = make_single_index(1500, [1.0, -1.0, 0.5], link="cauchit", random_state=4)
    est = KleinSpadyClassifier().fit(X, y)
    res = est.result_
    assert res.cov_type == "efficient"
    np.testing.assert_allclose(res.cov @ est.coef_, 0.0, atol=1e-10)  # unit norm: tangent
    assert np.all(res.std_errors > 0)
    ci = res.conf_int(0.05)
    assert np.all(ci["lower"] < est.coef_) and np.all(est.coef_ < ci["upper"])
    first = KleinSpadyClassifier(normalize="first").fit(X, y)
    assert first.coef_[0] == 1.0 and first.result_.std_errors[0] == 0.0
    assert "(fixed)" in first.summary().as_text()
    assert "<table" in first.summary().as_html()
    sand = KleinSpadyClassifier(cov_type="sandwich").fit(X, y)
    ratio = sand.result_.std_errors / res.std_errors
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio  # information equality, roughly


def test_bootstrap_reproducible_and_sane():
    X, y = make_single_index(300, [1.0, -1.0], link="cloglog", random_state=5)
    kw = dict(cov_type="bootstrap", n_bootstrap=12, random_state=3, n_restarts=0)
    a = KleinSpadyClassifier(**kw).fit(X, y)
    b = KleinSpadyClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.result_.cov, b.result_.cov)
    assert a.bootstrap_replicates_.shape == (12, 2)
    assert np.all(a.result_.std_errors > 0) and np.all(a.result_.std_errors < 0.5)
    assert a.result_.cov_type == "bootstrap"
    assert a.result_.params.to_numpy().flags.writeable is False


# --------------------------------------------------------------------------- parameters
def test_fixed_and_rule_of_thumb_bandwidths():
    X, y = make_single_index(600, [1.0, -1.0, 0.5], link="probit", random_state=6)
    est = KleinSpadyClassifier(bandwidth=0.3, cov_type=None).fit(X, y)
    assert est.bandwidth_ == pytest.approx(0.3 * np.std(X @ est.coef_), rel=1e-9)
    sil = KleinSpadyClassifier(bandwidth="silverman", kernel="gaussian", cov_type=None).fit(X, y)
    assert sil.bandwidth_ == pytest.approx(1.06 * 600 ** -0.2 * np.std(X @ sil.coef_), rel=1e-9)
    assert angle(est.coef_, [1, -1, 0.5]) < 10 and angle(sil.coef_, [1, -1, 0.5]) < 10


def test_trimming_drops_rows_from_the_objective():
    X, y = make_single_index(500, [1.0, -1.0], link="logistic", random_state=8)
    est = KleinSpadyClassifier(trim=0.05, cov_type=None).fit(X, y)
    assert est.n_trimmed_ == pytest.approx(50, abs=2)
    assert est.result_.info["Trimmed rows"] == est.n_trimmed_


def test_pandas_names_and_prediction_api():
    X, y = make_single_index(300, [1.0, -1.0, 0.5], link="cloglog", random_state=9)
    df = pd.DataFrame(X, columns=["age", "income", "score"])
    est = KleinSpadyClassifier().fit(df, np.where(y == 1, "yes", "no"))
    assert list(est.feature_names_in_) == ["age", "income", "score"]
    assert est.result_.names == ("age", "income", "score")
    assert "income" in est.summary().as_text()
    P = est.predict_proba(df)
    assert P.shape == (300, 2) and np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(est.index(df), X @ est.coef_)
    assert set(est.predict(df)) <= {"no", "yes"}
    assert est.score(df, np.where(y == 1, "yes", "no")) > 0.6


def test_sample_weights():
    X, y = make_single_index(400, [1.0, -1.0, 0.5], link="cloglog", random_state=10)
    w = np.ones(400)
    w[::4] = 0.0
    # a zero weight is a dropped row: the objectives are the same function ...
    gamma = np.array([2.0, -2.0, 1.0])
    full = LOOObjective(X, y, w, kernel="epanechnikov", loss=BernoulliLoss(1e-6))
    sub = LOOObjective(X[w > 0], y[w > 0], w[w > 0], kernel="epanechnikov",
                       loss=BernoulliLoss(1e-6))
    assert full.value(gamma) == pytest.approx(sub.value(gamma), rel=1e-12)
    # ... and the fits agree (rounding can steer a multistart search to a neighbouring
    # optimum, so only approximately)
    a = KleinSpadyClassifier(cov_type=None).fit(X, y, sample_weight=w)
    b = KleinSpadyClassifier(cov_type=None).fit(X[w > 0], y[w > 0])
    assert angle(a.coef_, b.coef_) < 2
    assert a.loglik_loo_ == pytest.approx(b.loglik_loo_, rel=1e-2)
    # integer weights only approximate repetition (leave-one-out leaves all copies out)
    k = np.where(np.arange(400) % 3 == 0, 2.0, 1.0)
    c = KleinSpadyClassifier(cov_type=None).fit(X, y, sample_weight=k)
    rep = np.repeat(np.arange(400), k.astype(int))
    d = KleinSpadyClassifier(cov_type=None).fit(X[rep], y[rep])
    assert angle(c.coef_, d.coef_) < 15


def test_simplex_starts_never_hurt():
    """np-kind Nelder–Mead starts (step 6 of the search) can only lower the objective.

    Data: a 100-row subsample of np's birthwt design (``tests/reference``; the held-out
    set ``heldout-bw-n100-s10`` of ``benchmarks/search_vs_np.py``), where the default
    search ends at 0.3808 and an np-style 10-start Nelder–Mead at 0.2944.
    """
    df = pd.read_csv(Path(__file__).parent / "reference" / "birthwt_np.csv")
    rows = np.sort(np.random.default_rng(10).choice(len(df), 100, replace=False))
    X, y = df.iloc[rows, 1:].to_numpy(float), df.iloc[rows, 0].to_numpy(float)
    kw = dict(kernel="gaussian", clip=np.sqrt(np.finfo(float).eps), trim=None, min_bandwidth=0,
              normalize="first", cov_type=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = KleinSpadyClassifier(**kw).fit(X, y)
        more = KleinSpadyClassifier(n_simplex_starts=3, **kw).fit(X, y)
    assert more.loglik_loo_ >= base.loglik_loo_ - 1e-9
    assert more.n_evals_ > base.n_evals_ + 300  # the simplex runs did happen
    # a fit reported from a simplex end point is a genuine optimum of the same objective
    obj = more._core.objective
    x = more._core.gamma_std
    assert -more.loglik_loo_ / len(y) == pytest.approx(obj.value(x), rel=1e-10)


# --------------------------------------------------------------------------- bad input, warnings
@pytest.mark.parametrize("params, match", [
    ({"kernel": "box"}, "'kernel' parameter"),
    ({"bandwidth": -1.0}, "'bandwidth' parameter"),
    ({"bandwidth": "scott"}, "'bandwidth' parameter"),
    ({"trim": 0.6}, "'trim' parameter"),
    ({"clip": 0.0}, "'clip' parameter"),
    ({"normalize": "max"}, "'normalize' parameter"),
    ({"cov_type": "robust"}, "'cov_type' parameter"),
    ({"n_restarts": -1}, "'n_restarts' parameter"),
    ({"n_simplex_starts": -1}, "'n_simplex_starts' parameter"),
    ({"max_iter": 0}, "'max_iter' parameter"),
])
def test_bad_parameters(params, match):
    X, y = make_single_index(50, [1.0, -1.0], random_state=0)
    with pytest.raises(ValueError, match=match):
        KleinSpadyClassifier(**params).fit(X, y)


def test_bad_data():
    X, y = make_single_index(60, [1.0, -1.0, 0.5], random_state=0)
    est = KleinSpadyClassifier(cov_type=None)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad, y)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity|inf"):
        est.fit(bad, y)
    with pytest.raises(ValueError, match="binary|class"):
        est.fit(X, np.arange(60) % 3)
    with pytest.raises(ValueError, match="one class"):
        est.fit(X, np.ones(60))
    with pytest.raises(ValueError, match="at least 10 rows"):
        est.fit(X[:5], y[:5])
    with pytest.raises(ValueError, match="at least 2 columns"):
        est.fit(X[:, :1], y)
    with pytest.raises(ValueError, match="constant"):
        est.fit(np.column_stack([X, np.ones(60)]), y)
    with pytest.raises(ValueError, match="collinear"):
        est.fit(np.column_stack([X, X[:, 0] - 2 * X[:, 1]]), y)
    with pytest.raises(ValueError, match="inconsistent|samples"):
        est.fit(X, y[:-1])
    with pytest.raises(ValueError, match="negative"):
        est.fit(X, y, sample_weight=-np.ones(60))


def test_separation_warns_and_returns_a_result():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = (X @ [1.0, 1.0] > 0).astype(int)
    with pytest.warns(SeparationWarning):
        est = KleinSpadyClassifier(cov_type=None).fit(X, y)
    assert np.all(np.isfinite(est.coef_)) and angle(est.coef_, [1, 1]) < 20


def test_flat_likelihood_warns():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 2))
    y = (rng.uniform(size=300) < 0.5).astype(int)
    with pytest.warns(FlatLikelihoodWarning):
        est = KleinSpadyClassifier(cov_type=None).fit(X, y)
    assert np.all(np.isfinite(est.coef_))


def test_non_convergence_warns():
    X, y = make_single_index(300, [1.0, -1.0, 0.5], link="cloglog", random_state=11)
    with pytest.warns(ConvergenceWarning):
        est = KleinSpadyClassifier(max_iter=1, n_restarts=0, cov_type=None).fit(X, y)
    assert est.converged_ is False
    assert "did not converge" in est.summary().as_text()


@pytest.mark.slow
def test_coverage_of_95_percent_intervals():
    """Monte Carlo (benchmarks/coverage_kleinspady.py): 100 data sets, cloglog, n = 2000."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from coverage_kleinspady import coverage

    rows = coverage(2000, "cloglog", reps=100)
    eff = next(r for r in rows if r["cov_type"] == "efficient")
    assert np.all(eff["coverage"] > 0.85), eff
    assert np.all(eff["coverage"] <= 1.0)
