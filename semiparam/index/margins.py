"""Marginal effects of fitted single-index models, with standard errors.

For ``P(z = 1 | x) = g(x'beta)`` (or ``E[y | x] = g(x'beta)``) the effect of regressor
``j`` at a point ``x`` is

    dydx:  g'(x'beta) beta_j          eydx:  g'(x'beta) beta_j / g(x'beta)
    dyex:  g'(x'beta) beta_j x_j      eyex:  g'(x'beta) beta_j x_j / g(x'beta)

and, for a binary regressor with ``dummy=True``, the discrete change
``g(x'beta | x_j = 1) - g(x'beta | x_j = 0)`` (a difference of logs for ``"ey*"``),
as in statsmodels' ``get_margeff``.  ``at="overall"`` averages the row effects over the
sample (weighted by ``sample_weight``); ``"mean"``, ``"median"`` and ``"zero"`` evaluate
them at one point.  Every quantity is invariant to the normalisation of ``beta``: the
link of the normalised index absorbs the scale.

Which derivative
----------------
``g'`` must be a smooth, consistent estimate with little smoothing bias, because the
bias of an average derivative does not shrink with its standard error.  Spline sieves
have one.  For kernel links (Klein–Spady, Ichimura) the derivative of the
Nadaraya–Watson ratio at the cross-validated bandwidth has a design bias that
understates ``E g'(v)`` (``docs/margins.md``); the effects use the local-linear slope at
the same bandwidth instead (:meth:`~semiparam.links.KernelLink.local_slope`: no design
bias, boundary-adaptive).  The isotonic fit is a step function whose interpolated slope
is zero on flat blocks and huge across jumps; averaging it is not an estimate of
``E g'(v)``.  For isotonic links the effects use the
kernel-smoothed isotonic fit ``g_h(v) = g_1 + sum_j D_j Phi((v - t_j) / h)`` (Groeneboom
& Hendrickx 2018) at the estimator's bandwidth: its derivative is the smoothed monotone
derivative estimate.  Parametric links (logit) use the exact density.

Standard errors (``se="delta"``)
--------------------------------
*Parametric link* (``LogitIndexClassifier``): the effects are smooth functions
``m(theta)`` of the raw coefficients and intercept ``theta``, and
``Var m = J V J'`` with ``V`` the inverse Fisher information and ``J = dm/dtheta``,
computed by complex-step differentiation (exact to rounding), as statsmodels does;
the results equal ``Logit(...).fit().get_margeff()``.

*Estimated link*: the effect depends on the direction ``beta`` and on the link ``g``.
Moving ``beta`` to ``beta + delta`` moves the index ``v = x'beta`` *and* the link, which
is re-estimated on the new index.  To first order, with ``mu(t) = E[x | x'beta = t]``
(``v`` and ``x'delta`` given ``v`` determine the new index),

    g_{beta+delta}(t)  = g(t) - g'(t) mu(t)'delta,
    d/d delta  g_{beta+delta}(x'(beta+delta))  =  g'(v) (x - mu(v)),
    d/d delta  g'_{beta+delta}(x'(beta+delta)) =  g''(v) (x - mu(v)) - g'(v) mu'(v).

(Along ``delta = beta`` both vanish or give ``-g'``: the effects are scale invariant.)
``mu`` and ``mu'`` are Gaussian-kernel regressions of each column of ``X`` on the index
(Silverman bandwidth), ``g''`` a central difference of ``g'`` over ``+-h/2`` with ``h``
the link's smoothing bandwidth (a finer step differentiates the kernel noise of ``g'``;
``docs/margins.md``).  These linearisations
give ``J = d m / d delta`` (complex step again) and the coefficient part ``J V J'`` with
``V = result_.cov``.  The link's own sampling error at the fitted index is added:
``Var_g`` is the variance of ``m`` over ``n_link_bootstrap`` refits of the link (same
kernel, bandwidth, basis or smoothing) on rows resampled with replacement, the index
held at ``x'beta``.  The two parts are asymptotically uncorrelated: the coefficient
estimators' influence functions are ``(z - g(v)) c(v) (x - mu(v))`` for some ``c``,
whose conditional mean given the index is zero against any function of ``(v, z)``.
Inference is conditional on the design (the points averaged over are held fixed), as
in statsmodels.

``se="bootstrap"`` refits the whole estimator on ``n_bootstrap`` resamples (the
multinomial frequency weights of :mod:`semiparam.index.bootstrap`) and reports the
standard deviation of the replicated effects.

Intervals are Wald intervals ``effect +- z_{1-alpha/2} std_err``.

References
----------
Groeneboom, P. and Hendrickx, K. (2018). Current status linear regression. *Ann.
Statist.* 46(4), 1415-1444.
Powell, J. L., Stock, J. H. and Stoker, T. M. (1989). Semiparametric estimation of index
coefficients. *Econometrica* 57(6), 1403-1430.
Newey, W. K. (1994). The asymptotic variance of semiparametric estimators.
*Econometrica* 62(6), 1349-1382.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ..stats import weighted_mean, weighted_quantile
from .bootstrap import bootstrap

__all__ = ["marginal_effects", "effect_link", "AT_OPTIONS", "METHOD_OPTIONS"]

AT_OPTIONS = ("overall", "mean", "median", "zero")
METHOD_OPTIONS = ("dydx", "eyex", "dyex", "eydx")
_SE_OPTIONS = ("delta", "bootstrap")
#: complex step (exact first derivatives of analytic functions)
_CS_STEP = 1e-30


# --------------------------------------------------------------------------- helpers
def _check_options(at, method, dummy, se, alpha):
    if at not in AT_OPTIONS:
        raise ValueError(f"at must be one of {AT_OPTIONS}; got {at!r}.")
    if method not in METHOD_OPTIONS:
        raise ValueError(f"method must be one of {METHOD_OPTIONS}; got {method!r}.")
    if se not in _SE_OPTIONS:
        raise ValueError(f"se must be one of {_SE_OPTIONS}; got {se!r}.")
    if not isinstance(dummy, (bool, np.bool_)):
        raise ValueError(f"dummy must be True or False; got {dummy!r}.")
    if dummy and method in ("eyex", "dyex"):
        raise ValueError(f"method={method!r} is not defined for discrete changes (dummy=True).")
    if dummy and at in ("median", "zero"):
        raise ValueError(f"at={at!r} is not allowed with dummy=True (as in statsmodels).")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")


def _dummy_columns(X):
    """Columns whose values are exactly 0 and 1, both present (statsmodels' rule)."""
    return [j for j in range(X.shape[1])
            if X[:, j].min() == 0 and X[:, j].max() == 1 and np.all(X[:, j] % 1.0 == 0)]


def _points(X, w, at):
    """Evaluation points and the weights that average their effects."""
    if at == "overall":
        return X, w / w.sum()
    if at == "mean":
        x0 = weighted_mean(X, w, check_input=False)
    elif at == "median":
        if np.all(w == w[0]):
            x0 = np.median(X, axis=0)
        else:
            x0 = np.array([weighted_quantile(X[:, j], 0.5, w, method="averaged_inverted_cdf",
                                             check_input=False) for j in range(X.shape[1])])
    else:
        x0 = np.zeros(X.shape[1])
    return x0[None, :], np.ones(1)


def _assemble(coef, P, val, der, vals01, method, weights):
    """Effects from link values/derivatives at the points (complex-step safe)."""
    eff = der[:, None] * coef[None, :]
    if method == "eyex":
        eff = eff * P / val[:, None]
    elif method == "dyex":
        eff = eff * P
    elif method == "eydx":
        eff = eff / val[:, None]
    eff = np.array(eff, dtype=np.result_type(eff, *(a for pair in vals01.values() for a in pair)))
    for j, (v0, v1) in vals01.items():
        eff[:, j] = (np.log(v1) - np.log(v0)) if method.startswith("ey") else v1 - v0
    return weights @ eff


def _complex_jacobian(fun, x0):
    """``d fun / d x`` at ``x0`` by the complex step (fun analytic, real on reals)."""
    x0 = np.asarray(x0, dtype=float)
    cols = []
    for k in range(x0.size):
        x = x0.astype(complex)
        x[k] += 1j * _CS_STEP
        cols.append(np.imag(fun(x)) / _CS_STEP)
    return np.column_stack(cols)


def _with_column(P, j, value):
    Q = np.array(P, dtype=float, copy=True)
    Q[:, j] = value
    return Q


# --------------------------------------------------------------------------- links
class _LocalSlope:
    """A kernel link whose derivative is its local-linear slope (module docstring)."""

    def __init__(self, link):
        self.link = link
        self.bandwidth_ = link.bandwidth_

    def __call__(self, v):
        return self.link(v)

    def derivative(self, v):
        return self.link.local_slope(v)


def effect_link(estimator, v=None, z=None, w=None):
    """The link whose values and derivative the marginal effects use.

    The fitted ``link_`` for sieve and parametric links (the sieve without its prediction
    pseudo-observation); for a kernel link, ``link_`` at the estimator's ``bandwidth_``
    with its local-linear slope as the derivative (:meth:`KernelLink.local_slope`); for an isotonic link, the kernel-smoothed
    isotonic fit (module docstring) refitted on the training index ``v`` with the
    estimator's bandwidth, without the prediction pseudo-observations.
    """
    check_is_fitted(estimator, "link_")
    link = estimator.link_
    from ..links.isotonic import IsotonicLink
    from ..links.kernel import KernelLink

    from ..links.sieve import SieveLink

    # effects are derivatives of the estimated link: the pseudo-observation that the
    # prediction links carry (it pulls thin tails toward the mean) is left out
    if isinstance(link, KernelLink):
        h = getattr(estimator, "bandwidth_", None)
        if h is not None and link.bandwidth_ != h:
            # the prediction link may have chosen a narrower bandwidth; effects keep the
            # estimator's (the one the search and the information use)
            if v is None:
                v, z, w = _training_index(estimator)
            link = KernelLink(kernel=link.kernel_, bandwidth=h, prior_weight=link.prior_weight,
                              monotone=link.monotone).fit(v, z, sample_weight=w)
        return _LocalSlope(link)
    if isinstance(link, IsotonicLink) and (link.interpolation != "smooth"
                                           or link.prior_weight > 0):
        if v is None:
            v, z, w = _training_index(estimator)
        h = getattr(estimator, "bandwidth_", link.bandwidth_)  # the score's bandwidth
        return IsotonicLink(clip=link.clip, interpolation="smooth",
                            bandwidth=h, increasing=link.increasing).fit(v, z, w)
    if isinstance(link, SieveLink) and getattr(link, "prior_weight_", None):
        return link.without_prior()
    return link


def _link_refitter(link):
    """A function ``(v, z, w) -> fitted link`` of the same kind and tuning as ``link``."""
    from ..links.isotonic import IsotonicLink
    from ..links.kernel import KernelLink
    from ..links.sieve import SieveLink

    if isinstance(link, _LocalSlope):
        base = link.link
        return lambda v, z, w: _LocalSlope(KernelLink(
            kernel=base.kernel_, bandwidth=base.bandwidth_).fit(v, z, sample_weight=w))
    if isinstance(link, KernelLink):
        return lambda v, z, w: KernelLink(
            kernel=link.kernel_, bandwidth=link.bandwidth_, prior_weight=link.prior_weight,
            monotone=link.monotone).fit(v, z, sample_weight=w)
    if isinstance(link, IsotonicLink):
        return lambda v, z, w: IsotonicLink(
            clip=link.clip, interpolation="smooth", bandwidth=link.bandwidth_,
            increasing=link.increasing, prior_weight=link.prior_weight).fit(v, z, w)
    if isinstance(link, SieveLink):
        template = clone(link).set_params(n_basis=int(link.n_basis_))
        a = getattr(link, "prior_weight_", None)
        if a is None:
            return lambda v, z, w: clone(template).fit(v, z, sample_weight=w)
        return lambda v, z, w: clone(template).fit(v, z, sample_weight=w).with_prior(
            v, z, w, a)
    raise TypeError(f"no refit rule for a link of type {type(link).__name__}.")


def _training_index(estimator):
    X, z, w = _training_data(estimator)
    return X @ estimator.coef_, z, w


def _training_data(estimator):
    data = getattr(estimator, "_train_data", None)
    if data is None:
        raise ValueError(
            f"{type(estimator).__name__} holds no training data (it was fitted by an older "
            "version or unpickled without it); pass X and y to marginal_effects."
        )
    return data


def _is_parametric(estimator):
    from .logit import ScaledLogisticLink

    return isinstance(estimator.link_, ScaledLogisticLink) and hasattr(estimator, "cov_raw_")


# --------------------------------------------------------------------------- effects
class _Parametric:
    """Logit: effects as functions of the raw ``theta = (b, b0)``."""

    def __init__(self, est, P, dummies, method, weights):
        self.d = est.coef_raw_.size
        self.fit_intercept = bool(getattr(est, "fit_intercept", False))
        self.theta = np.r_[est.coef_raw_, est.intercept_] if self.fit_intercept \
            else np.asarray(est.coef_raw_, dtype=float)
        self.cov = np.asarray(est.cov_raw_, dtype=float)
        self.P, self.dummies, self.method, self.weights = P, dummies, method, weights

    def _prob(self, theta, P):
        t = P @ theta[: self.d] + (theta[self.d] if self.fit_intercept else 0.0)
        return 1.0 / (1.0 + np.exp(-t))

    def effects(self, theta):
        p = self._prob(theta, self.P)
        vals01 = {j: (self._prob(theta, _with_column(self.P, j, 0.0)),
                      self._prob(theta, _with_column(self.P, j, 1.0))) for j in self.dummies}
        return _assemble(theta[: self.d], self.P, p, p * (1.0 - p), vals01, self.method,
                         self.weights)

    def estimate(self):
        eff = np.real(self.effects(self.theta))
        J = _complex_jacobian(self.effects, self.theta)
        return eff, J @ self.cov @ J.T


class _Semiparametric:
    """Estimated link: effects linearised in a perturbation ``delta`` of ``coef_``."""

    def __init__(self, est, link, Xtr, wtr, P, dummies, method, weights):
        self.beta = np.asarray(est.coef_, dtype=float)
        self.link, self.method, self.weights = link, method, weights
        self.dummies, self.P = dummies, P
        vtr = Xtr @ self.beta
        sd = float(np.sqrt(np.cov(vtr, aweights=np.maximum(wtr, 1e-300)))) if vtr.size > 1 else 1.0
        # g'' by a central difference of g' over +-h/2 (h: the link's own smoothing
        # bandwidth, where it has one): a finer step differentiates the kernel noise of g'
        h = getattr(link, "bandwidth_", None)
        self.step = 0.5 * h if h else 1e-3 * (sd if sd > 0 else 1.0)
        self._mu_fits = self._mu_models(Xtr, vtr, wtr)
        self.terms = {"": self._terms(P)}
        for j in dummies:
            self.terms[(j, 0)] = self._terms(_with_column(P, j, 0.0))
            self.terms[(j, 1)] = self._terms(_with_column(P, j, 1.0))

    @staticmethod
    def _mu_models(Xtr, vtr, wtr):
        from ..links.kernel import KernelLink

        models = []
        for k in range(Xtr.shape[1]):
            col = Xtr[:, k]
            models.append(None if np.ptp(col) == 0 else KernelLink(
                kernel="gaussian", bandwidth="silverman").fit(vtr, col, sample_weight=wtr))
        return models

    def _mu(self, v, Q):
        mu = np.empty_like(Q)
        dmu = np.empty_like(Q)
        for k, m in enumerate(self._mu_fits):
            if m is None:
                mu[:, k] = Q[:, k]  # a constant column: E[x | v] is that constant
                dmu[:, k] = 0.0
            else:
                mu[:, k] = m(v)
                dmu[:, k] = m.derivative(v)
        return mu, dmu

    def _terms(self, Q):
        v = Q @ self.beta
        g = np.asarray(self.link(v), dtype=float)
        g1 = np.asarray(self.link.derivative(v), dtype=float)
        s = self.step
        d = self.link.derivative
        g2 = (np.asarray(d(v + s)) - np.asarray(d(v - s))) / (2 * s)
        mu, dmu = self._mu(v, Q)
        R = Q - mu
        return {"g": g, "g1": g1, "dval": g1[:, None] * R,
                "dder": g2[:, None] * R - g1[:, None] * dmu}

    def effects(self, delta):
        def val(t):
            return t["g"] + t["dval"] @ delta

        def der(t):
            return t["g1"] + t["dder"] @ delta

        base = self.terms[""]
        vals01 = {j: (val(self.terms[(j, 0)]), val(self.terms[(j, 1)])) for j in self.dummies}
        return _assemble(self.beta + delta, self.P, val(base), der(base), vals01, self.method,
                         self.weights)

    def effects_with_link(self, link):
        """Effects at the fitted direction with another fitted link (no linearisation)."""
        b = self.beta
        vals01 = {j: (link(_with_column(self.P, j, 0.0) @ b),
                      link(_with_column(self.P, j, 1.0) @ b)) for j in self.dummies}
        v = self.P @ b
        return _assemble(b, self.P, np.asarray(link(v), dtype=float),
                         np.asarray(link.derivative(v), dtype=float), vals01, self.method,
                         self.weights)

    def estimate(self, cov):
        eff = np.real(self.effects(np.zeros_like(self.beta)))
        if cov is None:
            return eff, np.full((eff.size, eff.size), np.nan)
        J = _complex_jacobian(self.effects, np.zeros_like(self.beta))
        return eff, J @ np.asarray(cov, dtype=float) @ J.T


def _link_covariance(model, refit, v, z, w, n_rep, rng):
    """Covariance of the effects over link refits on resampled rows (index fixed)."""
    def effects(wb):
        return model.effects_with_link(refit(v, z, wb)) if wb.sum() > 0 else None

    return bootstrap(effects, v.size, weights=w, n_replicates=n_rep, random_state=rng,
                     dim=model.beta.size).cov


def _bootstrap_effects(est, X, z, w, at, method, dummy, n_bootstrap, rng):
    """Effects of full refits on resampled rows (the estimator's own search each time)."""
    template = clone(est)
    if "cov_type" in template.get_params():
        template.set_params(cov_type=None)
    P, weights = _points(X, w, at)
    dummies = _dummy_columns(X) if dummy else []

    def effects(wb):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = clone(template).fit(X, z, sample_weight=wb)
        return _point_effects(fit, X, z, wb, P, weights, dummies, method)

    return bootstrap(effects, X.shape[0], weights=w, n_replicates=n_bootstrap,
                     random_state=rng)


def _point_effects(est, X, z, w, P, weights, dummies, method):
    if _is_parametric(est):
        return _Parametric(est, P, dummies, method, weights).estimate()[0]
    v = X @ est.coef_
    link = effect_link(est, v, z, w)
    b = est.coef_
    vals01 = {j: (link(_with_column(P, j, 0.0) @ b), link(_with_column(P, j, 1.0) @ b))
              for j in dummies}
    return _assemble(b, P, np.asarray(link(P @ b)), np.asarray(link.derivative(P @ b)),
                     vals01, method, weights)


# --------------------------------------------------------------------------- public
def marginal_effects(estimator, X=None, y=None, *, at="overall", method="dydx", dummy=False,
                     alpha=0.05, se="delta", sample_weight=None, n_link_bootstrap=200,
                     n_bootstrap=200, random_state=0):
    """Marginal effects of a fitted index estimator, with standard errors.

    Parameters
    ----------
    estimator : fitted index classifier or regressor
    X, y : array-like, optional
        Data to evaluate on; default: the training data kept by ``fit``.  ``y`` is
        needed (for an estimated link) when ``X`` is given.
    at : {"overall", "mean", "median", "zero"}, default="overall"
        Average of the row effects, or the effect at the mean, median or zero point.
    method : {"dydx", "eyex", "dyex", "eydx"}, default="dydx"
        Derivative, elasticity or semi-elasticities (module docstring).
    dummy : bool, default=False
        Discrete 0 -> 1 changes for binary (0/1) regressors.
    alpha : float, default=0.05
        Level of the intervals ``ci_low``/``ci_high``.
    se : {"delta", "bootstrap"}, default="delta"
        Delta method (module docstring) or full refits on resampled rows.
    sample_weight : array-like, optional
        Row weights when ``X`` is given (default: the training weights otherwise).
    n_link_bootstrap : int, default=200
        Link refits for the link's share of the delta-method variance (estimated
        links only).
    n_bootstrap : int, default=200
        Refits for ``se="bootstrap"``.
    random_state : int, Generator or None, default=0
        Seeds the resampling (the effects themselves are deterministic).

    Returns
    -------
    DataFrame
        Indexed by feature; columns ``effect``, ``std_err``, ``z``, ``pvalue``,
        ``ci_low``, ``ci_high``.  An estimator fitted without a covariance
        (``cov_type=None``, or ``PairwiseRankingClassifier`` without a bootstrap) has
        NaN delta-method standard errors; ``se="bootstrap"`` gives them.  ``attrs`` holds ``at``, ``method``, ``dummy``, ``se``
        and the effects' covariance matrix (``"cov"``).
    """
    check_is_fitted(estimator, ("coef_", "link_"))
    _check_options(at, method, dummy, se, alpha)
    if X is None:
        Xtr, z, w = _training_data(estimator)
    else:
        Xtr, z, w = _user_data(estimator, X, y, sample_weight)
    rng = np.random.default_rng(random_state)
    P, weights = _points(Xtr, w, at)
    dummies = _dummy_columns(Xtr) if dummy else []
    if se == "bootstrap":
        eff = _point_effects(estimator, Xtr, z, w, P, weights, dummies, method)
        boot = _bootstrap_effects(estimator, Xtr, z, w, at, method, dummy, int(n_bootstrap), rng)
        cov = boot.cov if boot.n_ok >= 2 else np.full((eff.size, eff.size), np.nan)
    elif _is_parametric(estimator):
        eff, cov = _Parametric(estimator, P, dummies, method, weights).estimate()
    else:
        keep = w > 0
        link = effect_link(estimator, Xtr[keep] @ estimator.coef_, z[keep], w[keep])
        model = _Semiparametric(estimator, link, Xtr[keep], w[keep], P, dummies, method, weights)
        eff, cov = model.estimate(getattr(estimator.result_, "cov", None))
        if n_link_bootstrap and n_link_bootstrap >= 2:
            cov = cov + _link_covariance(model, _link_refitter(link),
                                         Xtr[keep] @ estimator.coef_, z[keep], w[keep],
                                         int(n_link_bootstrap), rng)
    return _frame(estimator, eff, cov, alpha, at=at, method=method, dummy=dummy, se=se)


def _user_data(estimator, X, y, sample_weight):
    from sklearn.utils.validation import validate_data

    Xv = validate_data(estimator, X, dtype=np.float64, reset=False)
    n = Xv.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("sample_weight must be finite, nonnegative, of length n_samples and "
                         "not all zero.")
    if y is None:
        if not _is_parametric(estimator):
            raise ValueError("y is needed with X for an estimated link (its sampling error "
                             "is part of the standard errors).")
        z = np.zeros(n)
    else:
        y = np.asarray(y)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},); got {y.shape}.")
        classes = getattr(estimator, "classes_", None)
        if classes is not None:
            if not np.all(np.isin(y, classes)):
                raise ValueError(f"y has labels outside classes_ {list(classes)}.")
            z = (y == classes[1]).astype(float)
        else:
            z = y.astype(float)
    return Xv, z, w


def _frame(estimator, eff, cov, alpha, **attrs):
    names = list(estimator._feature_names())
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = np.where(se > 0, eff / se, np.nan)
    q = stats.norm.ppf(1 - alpha / 2)
    df = pd.DataFrame(
        {"effect": eff, "std_err": se, "z": zval, "pvalue": 2 * stats.norm.sf(np.abs(zval)),
         "ci_low": eff - q * se, "ci_high": eff + q * se},
        index=pd.Index(names, name="feature"),
    )
    df.attrs.update(attrs)
    df.attrs["cov"] = cov
    return df
