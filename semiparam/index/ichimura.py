"""Ichimura's semiparametric least squares (SLS) for single-index models.

The model is ``E[y | x] = g(x'beta)`` with an unknown link ``g``.  Ichimura (1993)
minimises the leave-one-out mean squared error

    (1 / sum_i w_i) sum_i w_i (y_i - g_{-i}(x_i'beta))^2,

with ``g_{-i}`` the leave-one-out Nadaraya–Watson regression of ``y`` on the index.  R np
offers it as ``npindexbw(method="ichimura")`` and reports this quantity as ``fval``.
:class:`IchimuraClassifier` applies it to a binary outcome (then ``g`` estimates
``P(z = 1 | x'beta)``), :class:`IchimuraRegressor` to a real outcome.

The objective, its analytic gradient, the bandwidth parametrisation (``gamma = beta / h``,
joint cross-validation of direction and bandwidth with ``bandwidth="cv"``) and the global
search (pilot directions, a bandwidth profile, a screened multistart of L-BFGS runs,
deterministic basin hopping and a verified final polish) are shared with
:class:`~semiparam.index.KleinSpadyClassifier`; see :mod:`semiparam.index._search`.  Pilot directions are logit, probit
and least squares for a binary outcome; least squares and sliced inverse regression
(Li 1991) for a real one.  The regressor standardises ``y`` internally (the objective is
equivariant to affine maps of ``y``) and reports ``mse_loo_`` in the units of ``y``.

Inference: Ichimura's asymptotic covariance is a sandwich,
``V = H^- S H^-`` with ``H = sum_i w_i g'_i^2 R_i R_i'`` and
``S = sum_i w_i (y_i - g_i)^2 g'_i^2 R_i R_i'``, ``R_i = x_i - E[x | x_i'beta]``
(Ichimura 1993, Theorem 5.2), estimated with the leave-one-out link and its derivative;
or a bootstrap (:mod:`semiparam.index._inference`).

References
----------
Ichimura, H. (1993). Semiparametric least squares (SLS) and weighted SLS estimation of
single-index models. *Journal of Econometrics* 58, 71-120.
Härdle, W., Hall, P. and Ichimura, H. (1993). Optimal smoothing in single-index
models. *Annals of Statistics* 21(1), 157-178.
Li, K.-C. (1991). Sliced inverse regression for dimension reduction. *JASA* 86, 316-327.
"""

from __future__ import annotations

import numpy as np

from ..stats import weighted_sd
from ._base import BaseIndexClassifier, BaseIndexRegressor
from ._objective import SquaredLoss
from .kleinspady import _COMMON_CONSTRAINTS, _LOOIndexMixin
from .results import cov_type_constraint

__all__ = ["IchimuraClassifier", "IchimuraRegressor"]

_PARAMS_DOC = """
    Parameters
    ----------
    kernel : {"epanechnikov", "biweight", "triweight", "gaussian"}, default="epanechnikov"
        Kernel of the leave-one-out link.
    bandwidth : "cv", "silverman" or float, default="cv"
        ``"cv"``: chosen jointly with the direction by minimising the leave-one-out
        squared error (R np's choice).  A float: fixed, in standard deviations of the
        index.  ``"silverman"``: ``1.06 n^(-1/5)`` standard deviations, rescaled to the
        kernel by canonical bandwidths.
    normalize : {"unit", "first"}, default="unit"
        Unit-norm coefficients or first coefficient equal to 1 (R np).
    cov_type : {"sandwich", "bootstrap"} or None, default="sandwich"
        Covariance of the normalised coefficients.
    n_bootstrap : int, default=200
        Bootstrap replicates (``cov_type="bootstrap"``).
    n_restarts : int or "auto", default="auto"
        Random starts of the deterministic global search (``"auto"``: none with the
        bandwidth floor, ``min(16, 2400 // n)`` with ``min_bandwidth=0``; as in
        :class:`~semiparam.index.KleinSpadyClassifier`).
    n_simplex_starts : int, default=0
        Nelder–Mead runs of R np's kind added to the search (as in
        :class:`~semiparam.index.KleinSpadyClassifier`).
    min_bandwidth : "auto" or float >= 0, default="auto"
        Smallest cross-validated bandwidth, in index standard deviations (as in
        :class:`~semiparam.index.KleinSpadyClassifier`; 0: R np's search).
    max_iter : int, default=500
        Iteration cap of each quasi-Newton polish.
    tol : float, default=1e-9
        Tolerance of the final polish.
    random_state : None, int or numpy Generator, default=None
        Seeds the bootstrap only; the point estimate is deterministic.
"""

_ATTRS_DOC = """
    Attributes
    ----------
    coef_ : ndarray (n_features,)
        Normalised coefficients (under ``"unit"`` the index is positively correlated
        with the outcome).
    link_ : KernelLink
        Kernel link fitted on ``X @ coef_`` with ``bandwidth_`` (binary outcomes: the
        monotone prediction link with one pseudo-observation, at ``bandwidth_`` or the
        narrower multiple of it, down to a quarter, with the smallest leave-one-out log loss;
        ``link_.bandwidth_`` says which).
    bandwidth_ : float
        Bandwidth in units of the normalised index.
    mse_loo_ : float
        Minimised leave-one-out mean squared error (weighted mean; R np's ``fval``).
    n_iter_, n_evals_ : int
    converged_ : bool
    separated_, separation_kind_ : bool, str or None
        The classifier's separation check (:mod:`semiparam.index.separation`); False and
        None for the regressor.
    result_ : IndexResult
"""


class _IchimuraMixin(_LOOIndexMixin):
    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "cov_type": cov_type_constraint("sandwich", "bootstrap"),
    }

    def __init__(self, *, kernel="epanechnikov", bandwidth="cv", normalize="unit",
                 cov_type="sandwich", n_bootstrap=200, n_restarts="auto", n_simplex_starts=0,
                 min_bandwidth="auto", max_iter=500, tol=1e-9, random_state=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.min_bandwidth = min_bandwidth
        self.normalize = normalize
        self.cov_type = cov_type
        self.n_bootstrap = n_bootstrap
        self.n_restarts = n_restarts
        self.n_simplex_starts = n_simplex_starts
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _loss(self):
        return SquaredLoss()

    def _fit_ichimura(self, X, target, w, y_scale, model):
        core = self._fit_common(X, target, w, link_target=target * y_scale[1] + y_scale[0])
        self.mse_loo_ = float(core.fun) * y_scale[1] ** 2
        cov, extra = self._covariance(X, target, w, core, self.cov_type)
        self.result_ = self._result(
            cov, extra, objective=self.mse_loo_, cov_type=self.cov_type or "none", model=model
        )
        return self


class IchimuraClassifier(_IchimuraMixin, BaseIndexClassifier):
    __doc__ = (
        """Ichimura's semiparametric least squares for a binary outcome.

    Minimises the leave-one-out squared error of a kernel estimate of
    ``P(z = 1 | x'beta)``; ``predict_proba`` is the fitted kernel link at the index.
    """
        + _PARAMS_DOC
        + _ATTRS_DOC
        + """
    Examples
    --------
    >>> from semiparam.index import IchimuraClassifier
    >>> from semiparam.simulate import make_single_index
    >>> X, y = make_single_index(500, [1.0, -1.0], link="cauchit", random_state=0)
    >>> bool(IchimuraClassifier().fit(X, y).coef_ @ [0.7071, -0.7071] > 0.99)
    True
    """
    )

    def _fit(self, X, z, w):
        return self._fit_ichimura(X, z, w, (0.0, 1.0), "Ichimura (binary)")


class IchimuraRegressor(_IchimuraMixin, BaseIndexRegressor):
    __doc__ = (
        """Ichimura's semiparametric least squares, ``E[y | x] = g(x'beta)``.

    A scikit-learn regressor: ``predict(X)`` is the fitted kernel link at the index
    ``X @ coef_`` and ``score`` the coefficient of determination.
    """
        + _PARAMS_DOC
        + _ATTRS_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from semiparam.index import IchimuraRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 2))
    >>> y = np.sin(X @ [1.0, 1.0]) + 0.1 * rng.standard_normal(400)
    >>> bool(IchimuraRegressor().fit(X, y).coef_ @ [0.7071, 0.7071] > 0.99)
    True
    """
    )

    _binary_outcome = False

    def _fit(self, X, y, w):
        sw = w.sum()
        # moments of y / 2^k (exact), so that y of any magnitude (1e200) cannot overflow
        top = float(np.max(np.abs(y)))
        a = 2.0 ** np.floor(np.log2(top)) if top > 0 else 1.0
        y1 = y / a
        m1 = (w @ y1) / sw
        s1 = float(weighted_sd(y1, w, check_input=False))
        s1 = s1 if s1 > 0 else 1.0
        m, s = m1 * a, s1 * a
        return self._fit_ichimura(X, (y1 - m1) / s1, w, (m, s), "Ichimura (regression)")
