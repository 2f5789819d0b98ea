"""Logistic regression on a single index, without an intercept by default (DPO's engine).

The model is ``P(z = 1 | x) = sigmoid(x'b + b0)`` with ``b0 = 0`` unless
``fit_intercept=True``.  For preference data the design is a difference
``D = phi(x, a1) - phi(x, a0)`` and the index has no intercept, so maximum likelihood
here *is* DPO for a feature-based policy; with ``fit_intercept=True`` it is the classical
logit whose slopes are compared with the semiparametric directions.

Fit
---
Newton's method by the package's one logistic engine (:mod:`semiparam.index.newton`:
standardised columns, step halving, the Gordan certificate of overlap and the separation
checks, the one separation policy); unpenalised it equals statsmodels' ``Logit`` to
about 1e-10.  What happens under separation (``separation=``): ``"warn"`` (default)
issues a :class:`~semiparam.exceptions.SeparationWarning` and refits with the ridge
penalty ``||b||^2 / (2 C)`` (intercept unpenalised; ``C = 1`` by default,
scikit-learn's convention, in which the loss is a *sum* over rows), which always has a
unique finite solution; ``"silent"`` does the same without the warning (``separated_``
still says so); ``"raise"`` raises ``ValueError``.  As ``C`` grows the ridge direction
tends to the maximum-margin separating direction (Rosset, Zhu & Hastie 2004), so ``C``
trades the direction between shrinkage and the separating limit; the scale of a policy
is chosen later by a divergence budget.  With ``penalty="l2"`` the problem always has a
solution and separation is not checked (``separated_ = None``).

References
----------
Rosset, S., Zhu, J. and Hastie, T. (2004). Boosting as a regularized path to a maximum
margin classifier. *JMLR* 5, 941-973.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy import special

from .._validation import Interval, NoneOK, Options
from ..links.families import LogisticLink
from ._base import BaseIndexClassifier, normalization_jacobian, normalize_direction
from .newton import fit_logit
from .results import IndexResult

__all__ = ["LogitIndexClassifier", "ScaledLogisticLink"]

class ScaledLogisticLink(LogisticLink):
    """The logistic link on the normalised index: ``g(v) = sigmoid(scale * v + intercept)``.

    Parameters
    ----------
    scale : float
        Multiplier of the normalised index (the norm, or first coefficient, of the
        raw coefficients).
    intercept : float, default=0.0
        Added after scaling.
    """

    name = "scaled_logistic"

    def __init__(self, scale: float, intercept: float = 0.0):
        self.scale = float(scale)
        self.intercept = float(intercept)

    def cdf(self, u):
        """``sigmoid(scale * u + intercept)``."""
        return special.expit(self.scale * np.asarray(u, dtype=float) + self.intercept)

    def pdf(self, u):
        """Derivative with respect to the normalised index ``u``."""
        p = self.cdf(u)
        return self.scale * p * (1.0 - p)


class LogitIndexClassifier(BaseIndexClassifier):
    """Logistic regression of ``z`` on ``X``, without an intercept by default.

    .. warning::

       **No intercept by default** (``fit_intercept=False``): the model is
       ``sigmoid(x'b)``, the right one for preference data (difference designs) but not
       the classical logit.  Its slopes differ from statsmodels' ``Logit`` with a
       constant (``sm.add_constant(X)``) and from scikit-learn's
       ``LogisticRegression``, which fit one by default (on
       ``statsmodels.datasets.fair``, ``age`` gets +0.027 here against statsmodels'
       -0.072).  Pass ``fit_intercept=True`` to compare with them; the summary says
       which model was fitted.

    The parametric benchmark of the single-index family and the engine of DPO:
    ``P(z = 1 | x) = sigmoid(x'b + b0)``, ``b0 = 0`` unless ``fit_intercept=True``.
    Fitted by Newton's method; unpenalised it equals statsmodels' ``Logit`` and
    scikit-learn's ``LogisticRegression(C=np.inf)`` (same intercept choice).

    Parameters
    ----------
    fit_intercept : bool, default=False
        Estimate ``b0``.  Off for preference data (difference designs have no
        intercept); on for the classical logit.
    penalty : {None, "l2"}, default=None
        ``"l2"`` adds ``||b||^2 / (2 C)`` to the *summed* negative log-likelihood
        (scikit-learn's convention; the intercept is not penalised).
    C : float > 0, default=1.0
        Inverse ridge strength.  Used when ``penalty="l2"`` and, with
        ``penalty=None``, as the fallback when the data are separated.
    separation : {"warn", "silent", "raise"}, default="warn"
        What to do when the classes are (quasi-)separated and the MLE does not exist
        (``penalty=None`` only): refit with the ridge penalty of strength ``1/C``
        with a :class:`~semiparam.exceptions.SeparationWarning` (``"warn"``) or
        without (``"silent"``), or raise ``ValueError`` (``"raise"``).  Detection:
        see the module docstring.
    normalize : {"unit", "first"}, default="unit"
        Normalisation of ``coef_``: unit Euclidean norm or first coefficient = 1.
    max_iter : int, default=100
        Newton iterations.
    tol : float, default=1e-8
        Convergence when the largest Newton step is below ``tol * (1 + max|b|)``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Normalised slopes.
    coef_raw_ : ndarray of shape (n_features,)
        The fitted (unnormalised) slopes: DPO's scale.
    intercept_ : float
        Fitted intercept (0.0 without ``fit_intercept``).
    scale_ : float
        ``coef_raw_ = scale_ * coef_``.
    link_ : ScaledLogisticLink
        ``g(v) = sigmoid(scale_ * v + intercept_)`` on the normalised index.
    cov_raw_ : ndarray of shape (n_features, n_features) or (n_features + 1, n_features + 1)
        Wald covariance of ``(coef_raw_, intercept_)`` (intercept last, when fitted):
        the inverse Fisher information ``(X' W X)^-1``, sample weights acting as
        frequency weights; for a penalised fit the sandwich
        ``(I + P/C)^-1 I (I + P/C)^-1``.
    separated_ : bool or None
        True when separation was detected (the estimate is then the ridge fit),
        False when the MLE was certified to exist, None when not checked
        (``penalty="l2"``).
    separation_kind_ : {"complete", "quasi-complete", "numerical"} or None
        How separation was established (module docstring of
        :mod:`semiparam.index.newton`); None when not separated.
    alpha_ : float
        Ridge strength actually used (``0.0`` for the plain MLE).
    loglik_ : float
        Log-likelihood at the estimate (without the penalty).
    n_iter_ : int
        Newton iterations of the final fit.
    converged_ : bool
        Whether the final Newton run met its tolerance.
    result_ : IndexResult
        Normalised coefficients with the covariance ``J cov J'`` (``J`` the Jacobian of
        the normalisation), ``summary()``.
    classes_, n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    semiparam.index.PairwiseRankingClassifier : the link-free counterpart (RSPO).

    Examples
    --------
    >>> from semiparam.simulate import make_single_index
    >>> X, z = make_single_index(500, [1.0, -1.0, 0.5], link="logistic", random_state=0)
    >>> est = LogitIndexClassifier().fit(X, z)
    >>> est.coef_.round(2)
    array([ 0.69, -0.67,  0.28])
    """

    _parameter_constraints: dict = {
        **BaseIndexClassifier._parameter_constraints,
        "fit_intercept": [Options({True, False})],
        "penalty": [NoneOK(), Options({"l2"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "separation": [Options({"warn", "silent", "raise"})],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, fit_intercept=False, penalty=None, C=1.0, separation="warn",
                 normalize="unit", max_iter=100, tol=1e-8):
        self.fit_intercept = fit_intercept
        self.penalty = penalty
        self.C = C
        self.separation = separation
        self.normalize = normalize
        self.max_iter = max_iter
        self.tol = tol

    def _fit(self, X, z, w):
        d = X.shape[1]
        fit = fit_logit(X, z, w, fit_intercept=self.fit_intercept,
                        alpha=1.0 / self.C if self.penalty == "l2" else 0.0, C=self.C,
                        separation=self.separation, name=type(self).__name__,
                        max_iter=self.max_iter, tol=self.tol)
        alpha = fit.alpha
        self.separated_ = bool(fit.separated) if fit.checked else None
        self.separation_kind_ = fit.separated
        self.alpha_ = float(alpha)
        self.n_iter_ = fit.n_iter
        self.converged_ = fit.converged
        self.coef_raw_ = fit.coef
        self.intercept_ = fit.intercept
        self.coef_, self.scale_ = normalize_direction(self.coef_raw_, self.normalize)
        self._direction = self.coef_raw_
        self.link_ = ScaledLogisticLink(self.scale_, self.intercept_)
        self.link_.fit(X @ self.coef_)
        self.loglik_ = fit.loglik
        self.cov_raw_ = fit.cov
        J = normalization_jacobian(self.coef_raw_, self.normalize)
        cov = J @ self.cov_raw_[:d, :d] @ J.T
        info = {"Scale": self.scale_}
        info["Intercept"] = self.intercept_ if self.fit_intercept else "none (fit_intercept=False)"
        if self.separated_ is not None:
            info["Separated"] = "yes (ridge fit)" if self.separated_ else "no"
        if alpha > 0:
            info["Ridge C"] = float(self.C)
        self.result_ = IndexResult(
            params=self.coef_, cov=cov, names=self._feature_names(), nobs=int(np.sum(w > 0)),
            model=type(self).__name__, normalize=self.normalize, llf=self.loglik_,
            converged=self.converged_,
            cov_type="fisher" if alpha == 0 else "fisher (ridge sandwich)", info=info,
            link_estimated=False,
            notes=() if self.fit_intercept else (
                "NO INTERCEPT: fit_intercept=False fits sigmoid(x'b) without a constant, "
                "unlike statsmodels Logit(y, add_constant(X)) and scikit-learn's "
                "LogisticRegression; pass fit_intercept=True to compare with them.",),
        )
