"""Shared machinery of the single-index classifiers.

Every estimator in :mod:`semiparam.index` models ``P(y = classes_[1] | x) = link(x'beta)``
with an unknown nondecreasing (or, for kernel links, merely smooth) link.  This base
class owns the scikit-learn contract: parameter and array validation, the binary target,
sample weights, coefficient normalisation, ``index``/``predict``/``predict_proba``/
``decision_function`` and ``summary``.

Predictions (:mod:`.predictions`): ``index(X) = X @ coef_`` is the fitted index,
``predict_proba`` the link there kept inside ``[PROBA_FLOOR, 1 - PROBA_FLOOR]``, and
``decision_function`` the log-odds of that probability (not the index).  A subclass implements ``_fit(X, z, w)`` which must set, at least,

- ``self._direction``: the unnormalised coefficient vector found by the optimiser;
- ``self.link_``: a fitted link object on the *normalised* index ``X @ coef_``;
  (``_finish`` helps: it normalises and hands back the scale used);
- ``self.result_``: an :class:`~semiparam.index.results.IndexResult`;
- ``self.n_iter_``, ``self.converged_``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._threads import single_blas_thread
from .._validation import (
    Options,
    check_binary_target,
    check_design,
    check_sample_weight,
    validate_params,
)
from ..exceptions import InferenceWarning, warn
from .predictions import floor_probability, log_odds
from .results import record_fit, recorded_warnings

__all__ = [
    "BaseIndexClassifier",
    "BaseIndexRegressor",
    "normalize_direction",
    "normalization_jacobian",
]

#: rows of the rarer class per coefficient below which analytic SEs are flagged, for
#: estimators with a kernel link (Klein–Spady, Ichimura).  Measured on seven real designs
#: with labels redrawn from a fitted logit (``benchmarks/se_vs_montecarlo.py``): at 50 and
#: fewer rows per coefficient their SEs fell to 0.75–0.91 of the Monte Carlo SD, at 94 and
#: more they were within 0.91–0.97.
MIN_ROWS_PER_COEF = 60
#: the same for the monotone-link estimators (isotonic, sieve), whose analytic SEs need
#: more data: 0.51–0.87 of the Monte Carlo SD up to 94 rows per coefficient, 0.89–0.92 at 257
MIN_ROWS_PER_COEF_MONOTONE = 200

def normalize_direction(direction, how: str = "unit"):
    """Return ``(coef, scale)`` with ``coef = direction / scale``.

    ``how="unit"``: unit Euclidean norm (scale > 0 keeps the sign).
    ``how="first"``: first coefficient equal to 1 (R np's convention); scale is the
    first coefficient, which may be negative (the index then changes sign).
    """
    direction = np.asarray(direction, dtype=float)
    if how == "unit":
        # the norm of direction / max|direction|: no overflow (1e160 entries) or underflow
        top = float(np.max(np.abs(direction))) if direction.size else 0.0
        scale = top * float(np.linalg.norm(direction / top)) if top > 0 else 0.0
    elif how == "first":
        scale = float(direction[0])
    else:  # pragma: no cover - guarded by validate_params
        raise ValueError(f"normalize must be 'unit' or 'first'; got {how!r}.")
    if not np.isfinite(scale) or scale == 0.0 or abs(scale) < 1e-300:
        raise FloatingPointError(
            "The fitted direction cannot be normalised (zero norm or zero first "
            "coefficient); use normalize='unit' or check the data."
        )
    return direction / scale, scale


def normalization_jacobian(direction, how: str = "unit") -> np.ndarray:
    """Jacobian of the normalisation map at ``direction`` (d x d)."""
    coef, scale = normalize_direction(direction, how)
    d = coef.shape[0]
    if how == "unit":
        return (np.eye(d) - np.outer(coef, coef)) / scale
    e1 = np.zeros(d)
    e1[0] = 1.0
    return (np.eye(d) - np.outer(coef, e1)) / scale


class _SingleIndexMixin:
    """What the classifier and regressor bases share: constraints, the design check,
    feature names and the summary."""

    _parameter_constraints: dict = {"normalize": [Options({"unit", "first"})]}
    #: smallest number of rows a nonparametric link can be estimated from
    _min_rows: int = 10

    def _check_rows(self, X, w):
        check_design(
            X if np.all(w > 0) else X[w > 0],
            min_rows=self._min_rows,
            feature_names=getattr(self, "feature_names_in_", None),
            estimator_name=type(self).__name__,
        )

    def _feature_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return tuple(str(n) for n in names)
        return tuple(f"x{j}" for j in range(self.n_features_in_))

    def summary(self, alpha: float = 0.05):
        """Coefficient table (statsmodels ``Summary``); see :class:`IndexResult`."""
        check_is_fitted(self, "result_")
        return self.result_.summary(alpha)

    def index(self, X):
        """The fitted index ``X @ coef_`` (normalised coefficients)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_

    # -- delegating hooks (marginal effects, plots, formulas) -------------------------
    def marginal_effects(self, X=None, y=None, *, at="overall", method="dydx", **kwargs):
        """Marginal effects with standard errors; see
        :func:`semiparam.index.margins.marginal_effects`."""
        from .margins import marginal_effects

        return marginal_effects(self, X, y, at=at, method=method, **kwargs)

    def plot_link(self, ax=None, *, ci=True, rug=True, **kwargs):
        """Plot the fitted link with a pointwise band and a rug of the index; see
        :func:`semiparam.index.plotting.plot_link`."""
        from .plotting import plot_link

        return plot_link(self, ax=ax, ci=ci, rug=rug, **kwargs)

    @classmethod
    def from_formula(cls, formula, data, *, sample_weight=None, **params):
        """Fit ``cls(**params)`` on ``formula`` (``"y ~ x1 + C(g) + np.log(x2)"``) and
        ``data``; see :func:`semiparam.index.formula.from_formula`."""
        from .formula import from_formula

        return from_formula(cls, formula, data, sample_weight=sample_weight, **params)


class BaseIndexClassifier(_SingleIndexMixin, ClassifierMixin, BaseEstimator, ABC):
    """Base class: scikit-learn binary classifier with a single linear index."""

    #: rows of the rarer class per coefficient below which analytic SEs are flagged
    min_rows_per_coef = MIN_ROWS_PER_COEF

    # -- fitting ---------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Design without an intercept column (the link absorbs location).
        y : array-like of shape (n_samples,)
            Binary labels (any two values; ``classes_[1]`` is the "success").
        sample_weight : array-like of shape (n_samples,), default=None
            Nonnegative row weights.
        """
        validate_params(self)
        X, y = self._validate_Xy(X, y)
        self.classes_, z = check_binary_target(y)
        w = check_sample_weight(sample_weight, X.shape[0])
        if not (np.any(w[z == 1] > 0) and np.any(w[z == 0] > 0)):
            raise ValueError(
                "y has only one class with positive sample_weight; a binary choice model needs "
                "both classes."
            )
        self._check_rows(X, w)
        # ``_fit`` runs in this frame so that its warnings' stacklevels still point at
        # the caller of ``fit``; they are recorded, re-issued and listed on ``result_``.
        # Its small dense algebra runs with one BLAS thread (semiparam._threads)
        with recorded_warnings() as caught, single_blas_thread():
            self._fit(X, z, w)
            self._check_inference(z, w)
        record_fit(self, X, z, w, caught)
        return self

    def _check_inference(self, z, w):
        """Flag analytic standard errors that the sample is too small to support.

        The covariances are asymptotic; below ``min_rows_per_coef`` rows of the rarer
        class per coefficient (a class attribute: :data:`MIN_ROWS_PER_COEF`, or
        :data:`MIN_ROWS_PER_COEF_MONOTONE` for the monotone links) they were measured to
        understate the sampling spread (``docs/soundness.md``, section 5): an
        :class:`InferenceWarning` and a note in ``summary()``.
        """
        res = getattr(self, "result_", None)
        if res is None or res.cov is None or res.cov_type == "bootstrap" or not res.link_estimated:
            return
        pos = w > 0
        rare = min(np.count_nonzero(pos & (z == 1)), np.count_nonzero(pos & (z == 0)))
        d = res.params.shape[0]
        k = self.min_rows_per_coef
        if rare >= k * d:
            return
        msg = (f"only {rare} rows of the rarer class for {d} coefficients (fewer than "
               f"{k} per coefficient): the analytic standard errors are asymptotic and, "
               "at this size, were measured to understate the sampling spread; use "
               "cov_type='bootstrap' where offered")
        warn(f"{type(self).__name__}: {msg}.", InferenceWarning)
        self.result_ = replace(res, notes=res.notes + (f"Standard errors: {msg}.",))

    def _validate_Xy(self, X, y):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_min_samples=1, y_numeric=False,
        )
        return X, y

    @abstractmethod
    def _fit(self, X, z, w):
        """Estimate from validated arrays: X (n, d) float, z (n,) in {0, 1}, w (n,) >= 0."""

    # -- prediction ------------------------------------------------------------
    def _proba1(self, X):
        check_is_fitted(self, "link_")
        return floor_probability(self.link_(self.index(X)))

    def decision_function(self, X):
        """Log-odds of the predicted probability, ``log p - log(1 - p)`` (module docstring):
        positive exactly where ``predict`` gives ``classes_[1]``.  The index itself is
        :meth:`index`."""
        return log_odds(self._proba1(X))

    def predict_proba(self, X):
        """Probabilities of ``classes_``, shape (n, 2): ``[1 - p, p]``, ``p = link_(index)``
        kept inside ``[PROBA_FLOOR, 1 - PROBA_FLOOR]`` (never exactly 0 or 1)."""
        p = self._proba1(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """The more probable class."""
        p = self._proba1(X)
        return self.classes_[(p > 0.5).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = False
        return tags


class BaseIndexRegressor(_SingleIndexMixin, RegressorMixin, BaseEstimator, ABC):
    """Base class: scikit-learn regressor with a single linear index, ``E[y | x] = g(x'beta)``.

    The regression twin of :class:`BaseIndexClassifier` (same validation, normalisation
    and summary); ``predict`` is the fitted link at the index.  A subclass implements
    ``_fit(X, y, w)`` with ``y`` float and sets ``coef_``, ``link_`` and ``result_``.
    """

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Design without an intercept column (the link absorbs location).
        y : array-like of shape (n_samples,)
            Real-valued outcome.
        sample_weight : array-like of shape (n_samples,), default=None
            Nonnegative row weights.
        """
        validate_params(self)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=1, y_numeric=True)
        y = np.asarray(y, dtype=float)
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional; got shape {y.shape}.")
        w = check_sample_weight(sample_weight, X.shape[0])
        self._check_rows(X, w)
        yp = y[w > 0]
        if np.ptp(yp) <= 1e-12 * max(np.abs(yp).max(), 1e-300):
            raise ValueError(
                "y is constant (among rows with positive weight); there is no index to estimate."
            )
        with recorded_warnings() as caught, single_blas_thread():  # as in BaseIndexClassifier.fit
            self._fit(X, y, w)
        record_fit(self, X, y, w, caught)
        return self

    @abstractmethod
    def _fit(self, X, y, w):
        """Estimate from validated arrays: X (n, d) float, y (n,) float, w (n,) >= 0."""

    def predict(self, X):
        """``link_(X @ coef_)``, the estimated conditional mean."""
        check_is_fitted(self, "link_")
        return np.asarray(self.link_(self.index(X)), dtype=float)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
