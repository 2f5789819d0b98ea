"""The monotone single-index model with the link profiled out by isotonic regression.

Model: ``P(z = 1 | x) = psi(x'beta)`` with ``psi`` unknown and nondecreasing, ``beta`` on
the unit sphere (the link absorbs location and scale; monotonicity fixes the sign).  For
a fixed ``beta`` the nonparametric maximum-likelihood (and least-squares) estimate of
``psi`` is the isotonic regression ``psi_beta`` of ``z`` on ``v = x'beta`` (Ayer et al.
1955); plugging it in gives Cosslett's (1983) profile likelihood.  That profile is
piecewise constant in ``beta``: it has no useful gradient, and maximising it is a
combinatorial search whose solution is only known to converge at a cube-root rate at best.

Estimator: a score equation (Balabdaoui, Groeneboom & Hendrickx 2019)
---------------------------------------------------------------------
``beta_hat`` solves, in the ``d - 1`` directions tangent to the sphere,

    U(beta) = sum_i w_i c_i (x_i - m(v_i)) (z_i - psi_beta(v_i)) = 0,

with ``psi_beta`` the isotonic fit (scikit-learn's PAVA) at the current index,
``m(v) = E[x | v]`` a Nadaraya-Watson estimate (Gaussian kernel, bandwidth
``sigma n^(-1/5)``) and weights

- ``method="efficient"`` (default): ``c = psi_h' / (psi_h (1 - psi_h))`` with ``psi_h``
  the kernel-smoothed isotonic fit (bandwidth ``h = bandwidth_factor * sigma * n^(-1/7)``,
  :func:`~semiparam.links.isotonic.default_bandwidth`).  This is the efficient score of
  the binary single-index model (Cosslett 1987; Klein & Spady 1993) with the link and its
  derivative replaced by their isotonic estimates: the binary-likelihood version of the
  "efficient score estimator" of Balabdaoui, Groeneboom & Hendrickx (2019) and of the
  current-status score estimators of Groeneboom & Hendrickx (2018).
- ``method="simple"``: ``c = 1``, their "simple score estimator" (no smoothing enters the
  equation; only the step matrix uses ``psi_h'``).

Rates: Balabdaoui, Groeneboom & Hendrickx (2019) prove both score estimators
``sqrt(n)``-consistent and asymptotically normal for least squares (although ``psi_beta``
converges at ``n^(-1/3)``), and Groeneboom & Hendrickx (2018) prove it, with efficiency for
smooth plug-in weights, for current status regression, a binary model
``P(z = 1 | t, x) = F(t - x'beta)``.  The binary weighting here carries that construction to
the single-index model; its efficiency is measured, not proved (``docs/isotonic.md``).
Centring by ``m(v)`` makes the score insensitive to first-order error in the link (Neyman
orthogonality), so the link needs no cross-fitting.

Algorithm
---------
Start from a logit fit with an intercept (the intercept is dropped: the link absorbs it;
L-BFGS on standardised columns with a negligible ridge, so a start exists under
separation), keep the sign whose increasing isotonic fit has the larger likelihood, then
take Fisher-scoring steps ``beta <- normalise(beta + H^+ U)`` with
``H = sum_i w_i c_i psi_h'(v_i) (x_i - m_i)(x_i - m_i)'`` restricted to the tangent space
(step length capped at 0.5 radians; a step reversing the previous one halves the rest).
The loop is the shared engine :func:`semiparam.index.efficient_score.solve_efficient_score`;
this module supplies its nuisance provider (the isotonic fit, the weights, the centring):

1. *pilot* (at least 3 iterations, and until the step is below one standard error per
   direction): the weights ``c_i``, the centring ``m_i`` and ``H`` are recomputed at every
   iterate;
2. *frozen*: ``c_i``, ``m_i`` and ``H`` are held at their values for the pilot iterate and
   only the isotonic fit follows ``beta``.  With weights that depend on the data only
   through ``x_i`` the equation stays unbiased at the true ``beta`` (``E[z - psi | x] = 0``)
   and is asymptotically the same estimator; the point is numerical.  ``U`` is piecewise
   constant in ``beta``; when the weights move with ``beta`` too, their data-dependent
   part adds a noise term to the Jacobian that is comparable to ``H`` when ``d`` is large
   and ``h`` small, and the iterates jitter instead of settling (``docs/isotonic.md``,
   section 2.2).

We stop at the first frozen iterate whose decrement per direction ``U'H^+U / (d - 1)``
(the squared remaining step in standard-error units) is below ``tol`` (default 0.05, a
step of about a fifth of a standard error), after one more free Newton step if that
lowers it; otherwise we return the iterate with the smallest decrement and warn
(:class:`~semiparam.exceptions.ConvergenceWarning`).  One iteration costs a sort
(``O(n log n)``), PAVA (``O(n)``) and ``O(n d)`` for the score; a pilot iteration adds the
centring (``O(n d)`` by linear binning on a grid) and ``H`` (``O(n d^2)``, BLAS ``syrk``).

Inference
---------
``cov_type="sandwich"`` (default): ``H^+ S H^+`` with ``S = sum_i (w_i c_i r_i)^2
(x_i - m_i)(x_i - m_i)'``, the Z-estimator sandwich in the tangent space (one extra
``O(n d^2)`` product), with residuals ``r_i`` from 5-fold cross-fitted isotonic fits
(in-sample isotonic residuals are too small); an asymptotic approximation (its coverage
is measured in ``docs/isotonic.md``, section 2.5).  ``cov_type="bootstrap"``:
``n_bootstrap`` row resamples (:mod:`semiparam.index.bootstrap`, ``scheme="rows"``,
seeded by ``random_state``), each refitted by the unchecked
:meth:`IsotonicIndexClassifier._fit_core` started at the full-sample estimate; off by
default because each replicate costs about a third of a fit, and neither covariance
accounts for the second-order error of estimating the link.  ``cov_type=None`` or
``n_bootstrap=0`` (with ``"bootstrap"``) computes no covariance.  Weights are scaled to
mean one (they are not frequencies), so both covariances are invariant to rescaling them.

References
----------
Ayer, M., Brunk, H. D., Ewing, G. M., Reid, W. T. and Silverman, E. (1955). An empirical
distribution function for sampling with incomplete information. *Ann. Math. Statist.*
26(4), 641-647.
Balabdaoui, F., Groeneboom, P. and Hendrickx, K. (2019). Score estimation in the monotone
single-index model. *Scand. J. Statist.* 46(2), 517-544.
Cosslett, S. R. (1983). Distribution-free maximum likelihood estimator of the binary
choice model. *Econometrica* 51(3), 765-782.
Cosslett, S. R. (1987). Efficiency bounds for distribution-free estimators of the binary
choice and the censored regression models. *Econometrica* 55(3), 559-585.
Groeneboom, P. and Hendrickx, K. (2018). Current status linear regression. *Ann.
Statist.* 46(4), 1415-1444.
Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for binary
response models. *Econometrica* 61(2), 387-421.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.utils.validation import check_is_fitted

from .._validation import InstanceOf, Interval, NoneOK, Options
from ..exceptions import ConvergenceWarning, FlatLikelihoodWarning, warn
from ..links.isotonic import (
    IsotonicLink,
    isotonic_fit,
    level_jumps,
    pava_pooled,
    pool_ties,
    row_values,
    smooth_link,
    trimmed_knots,
)
from ..stats import effective_sample_size, robust_spread, standardize
from ._base import MIN_ROWS_PER_COEF_MONOTONE, BaseIndexClassifier, normalize_direction
from ._inference import to_normalised
from .bootstrap import bootstrap
from .efficient_score import Nuisances, solve_efficient_score
from .newton import logit_pilot
from .results import IndexResult, cov_type_constraint
from .separation import check_separation, warn_separation

__all__ = ["IsotonicIndexClassifier"]

# --------------------------------------------------------------------------------------
# building blocks (no validation)
# --------------------------------------------------------------------------------------
class _Bins:
    """Linear binning of an index on a regular grid of ``G`` points.

    Row ``i`` puts weight ``1 - f_i`` on grid point ``i0_i`` and ``f_i`` on ``i0_i + 1``;
    ``m(v_i) = (1 - f_i) Mg[i0_i] + f_i Mg[i0_i + 1]`` for grid values ``Mg``.
    """

    #: above this many columns bin sums of a matrix use a sparse product, below it
    #: one ``bincount`` per column (faster for few columns; measured)
    _SPARSE_FROM = 16

    def __init__(self, v, h):
        n = v.shape[0]
        lo, hi = float(v.min()), float(v.max())
        self.G = int(np.clip(np.ceil(4.0 * (hi - lo) / h), 16, 1024)) if hi > lo else 2
        step = (hi - lo) / (self.G - 1) if hi > lo else 1.0
        pos = (v - lo) / step
        self.i0 = np.minimum(pos.astype(np.int64), self.G - 2)
        self.f = pos - self.i0
        self.grid = lo + step * np.arange(self.G)
        self.n = n

    def sum(self, a):
        """``B'a`` for a vector ``a`` (length G)."""
        return (np.bincount(self.i0, a * (1.0 - self.f), self.G)
                + np.bincount(self.i0 + 1, a * self.f, self.G))

    def sum_matrix(self, a, X):
        """``B' diag(a) X`` (G x d)."""
        wl, wr = a * (1.0 - self.f), a * self.f
        if X.shape[1] <= self._SPARSE_FROM:
            out = np.empty((self.G, X.shape[1]))
            for j in range(X.shape[1]):
                xj = X[:, j]
                out[:, j] = (np.bincount(self.i0, wl * xj, self.G)
                             + np.bincount(self.i0 + 1, wr * xj, self.G))
            return out
        Bt = sparse.csr_matrix(
            (np.column_stack([wl, wr]).ravel(),
             np.column_stack([self.i0, self.i0 + 1]).ravel(), np.arange(0, 2 * self.n + 1, 2)),
            shape=(self.n, self.G),
        ).T.tocsr()
        return np.asarray(Bt @ X)

    def quad(self, q):
        """``B' diag(q) B`` (G x G, tridiagonal)."""
        f, g = self.f, 1.0 - self.f
        out = np.diag(np.bincount(self.i0, q * g * g, self.G)
                      + np.bincount(self.i0 + 1, q * f * f, self.G))
        off = np.bincount(self.i0, q * f * g, self.G)[:-1]
        out[np.arange(self.G - 1), np.arange(1, self.G)] += off
        out[np.arange(1, self.G), np.arange(self.G - 1)] += off
        return out


def _center_grid(v, X, w, h):
    """Nadaraya-Watson estimate of E[x | v] (Gaussian kernel, bandwidth h), linear binning.

    Returns ``(bins, Mg)`` with ``Mg`` the (G, d) smoothed means on the grid, so that
    ``m(v_i) = (B @ Mg)[i]``.  Cost ``O(n d + G^2 d)``, with ``G <= 1024`` grid points
    spaced at most ``h / 4`` apart.
    """
    bins = _Bins(v, h)
    Wg = bins.sum(w)
    Sg = bins.sum_matrix(w, X)
    K = np.exp(-0.5 * ((bins.grid[:, None] - bins.grid[None, :]) / h) ** 2)
    den = K @ Wg
    ok = den > 1e-300
    Mg = (K @ Sg) / np.where(ok, den, 1.0)[:, None]
    Mg[~ok] = (w @ X) / w.sum()
    return bins, Mg


#: candidate smoothing bandwidths of the prediction link, multiples of ``bandwidth_``
_LINK_BANDWIDTHS = (1.0, 0.5, 0.25, 0.125)


@dataclass
class _Nuisances(Nuisances):
    """The isotonic provider's nuisances at one (pilot) index."""

    X: np.ndarray  # the design (centred and scaled by the caller)
    wc: np.ndarray  # w_i c_i
    q: np.ndarray  # w_i c_i psi_h'(v_i): weights of the step matrix
    residual: np.ndarray  # z - psi_b(v) at the pilot index
    h: float  # bandwidth of psi_h'
    bins: _Bins  # linear binning of the pilot index
    Mg: np.ndarray  # E[x | v] on the grid (G x d)
    informative: bool = True

    def score(self, a):
        """``sum_i a_i (x_i - m_i)`` with ``m = B @ Mg``."""
        return self.X.T @ a - self.Mg.T @ self.bins.sum(a)

    def gram(self, q):
        """``sum_i q_i (x_i - m_i)(x_i - m_i)'`` for ``q >= 0``.

        Expanded as ``Xq'Xq - C Mg - Mg'C' + Mg'(B'QB)Mg`` with ``Xq = diag(sqrt q) X``,
        ``Q = diag(q)`` and ``C = X'QB``: one BLAS ``syrk`` and binned sums, no dense
        ``n x d`` centred copy (``X`` is centred by the caller, so nothing cancels badly).
        """
        Xq = self.X * np.sqrt(q)[:, None]
        H = Xq.T @ Xq
        CM = self.bins.sum_matrix(q, self.X).T @ self.Mg
        H += self.Mg.T @ self.bins.quad(q) @ self.Mg - CM - CM.T
        return 0.5 * (H + H.T)


class _IsotonicProvider:
    """Nuisance provider of :func:`~semiparam.index.efficient_score.solve_efficient_score`:
    the isotonic fit at the index, efficient (or unit) weights from its smoothed version
    and the binned centring (module docstring).  Remembers the last sort order as a hint.
    """

    def __init__(self, X, z, w, method, factor, clip):
        self.X, self.z, self.w = X, z, w
        self.method, self.factor, self.clip = method, factor, clip
        self.n_eff = effective_sample_size(w, check_input=False)
        self.hint = None

    def fit(self, b):
        """Isotonic fit of ``z`` on ``X @ b``: ``(pooled, fu, fitted, n_blocks)``."""
        pooled, fu, fitted = isotonic_fit(self.X @ b, self.z, self.w, hint=self.hint)
        self.hint = pooled.order
        return pooled, fu, fitted, int(1 + np.count_nonzero(np.diff(fu)))

    def pilot(self, b):
        X, w = self.X, self.w
        pooled, fu, fitted, n_blocks = self.fit(b)
        v = X @ b
        scale = robust_spread(pooled.xu, pooled.wu, check_input=False)
        if not scale > 0:
            scale = 1.0
        h = self.factor * scale * self.n_eff ** (-1.0 / 7.0)
        g, dg = smooth_link(v, *level_jumps(pooled.xu, fu), h)
        if self.method == "efficient":
            clip = max(self.clip, 1e-10)
            g = np.clip(g, clip, 1.0 - clip)
            c = dg / (g * (1.0 - g))
        else:
            c = np.ones_like(v)
        bins, Mg = _center_grid(v, X, w, scale * self.n_eff ** (-0.2))
        return _Nuisances(X, w * c, w * c * dg, self.z - fitted, h, bins, Mg,
                          informative=n_blocks > 1)

    def residual(self, b, nuisances):
        _, _, fitted, n_blocks = self.fit(b)
        return self.z - fitted if n_blocks > 1 else None


def _crossfit_residuals(v, z, w, order, folds=5):
    """``z_i - psi^(-k)(v_i)``: residuals from isotonic fits on the other folds.

    In-sample isotonic residuals are too small (the fit follows the data within its
    blocks), which makes a sandwich built from them undercover; the cross-fitted ones
    do better (docs/isotonic.md).  Folds are every ``folds``-th row along the sorted
    index (``order``), so each spans the whole index range; evaluation is scikit-learn's
    linear interpolation, flat beyond the ends.  The training rows arrive sorted, so
    their sort is linear.
    """
    n = v.shape[0]
    rank = np.arange(n) % folds
    r = np.empty(n)
    for k in range(folds):
        train, test = order[rank != k], order[rank == k]
        pooled, fu, _ = isotonic_fit(v[train], z[train], w[train],
                                      hint=np.arange(train.shape[0]))
        xk, gk = trimmed_knots(pooled.xu, fu)
        r[test] = z[test] - (np.interp(v[test], xk, gk) if xk.shape[0] > 1 else gk[0])
    return r


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------
class IsotonicIndexClassifier(BaseIndexClassifier):
    """Monotone single-index binary classifier with an isotonic (PAVA) link.

    Fits ``P(y = classes_[1] | x) = psi(x'beta)`` with ``psi`` nondecreasing and otherwise
    unknown, by the score equation of Balabdaoui, Groeneboom & Hendrickx (2019) with the
    link profiled out by isotonic regression (module docstring: method, rate, algorithm).

    Parameters
    ----------
    normalize : {"unit", "first"}, default="unit"
        Report ``coef_`` with unit norm, or with the first coefficient equal to 1 (R np's
        convention; the index then changes sign when that coefficient is negative, and
        ``link_`` is decreasing).
    method : {"efficient", "simple"}, default="efficient"
        Weights of the score equation: efficient binary-likelihood weights
        ``psi'/(psi(1-psi))`` from the smoothed isotonic fit, or ``1`` (the tuning-free
        simple score estimator; less efficient when the link is far from logistic).
    clip : float in (0, 0.5), default=1e-4
        Probabilities are clipped to ``[clip, 1 - clip]`` in ``link_``, the weights and
        the log-likelihood.
    bandwidth_factor : float > 0, default=0.5
        ``h = bandwidth_factor * min(sd, IQR/1.349) * n^(-1/7)`` of the index for the
        smoothed link derivative in the weights (efficiency only, not consistency).
    max_iter : int >= 1, default=30
        Maximum number of Fisher-scoring iterations.
    tol : float > 0, default=0.05
        Stop when the Newton decrement per direction ``U'H^+U / (d - 1)`` (the squared
        remaining step in standard-error units) is below ``tol``: 0.05 means a step of
        about a fifth of a standard error.  The score is piecewise constant, so much
        smaller values are often unreachable at small ``n``.
    cov_type : {"sandwich", "bootstrap", None}, default="sandwich"
        Covariance of ``coef_`` in ``result_``.
    n_bootstrap : int >= 0, default=200
        Bootstrap replicates when ``cov_type="bootstrap"`` (0: none).
    random_state : int, numpy Generator or None, default=None
        Seeds the bootstrap resampling (``np.random.default_rng(random_state)``); the fit
        itself is deterministic.

    Attributes
    ----------
    coef_ : ndarray (n_features,)
        Normalised direction.
    link_ : IsotonicLink
        The prediction link: the isotonic regression of ``z`` on ``X @ coef_`` with one
        pseudo-observation per block, smoothed at ``bandwidth_`` or a narrower multiple of
        it (down to an eighth) chosen by 5-fold cross-validated log loss
        (``link_.bandwidth_`` says which), clipped to ``[clip, 1 - clip]``.
    n_iter_ : int
        Fisher-scoring iterations used.
    converged_ : bool
        Whether the decrement criterion was met.
    separation_kind_ : {"complete", "quasi-complete", "numerical"} or None
        From :func:`semiparam.index.separation.check_separation`.
    separated_ : bool
        True when a linear index separates the classes, completely or quasi-completely
        (:mod:`semiparam.index.separation`; under complete separation every
        separating direction solves the score equation: the direction is not identified).
    loglik_ : float
        Profile log-likelihood at the fit, ``sum w [z log g + (1 - z) log(1 - g)]`` with
        ``g`` the clipped isotonic fit.
    bandwidth_ : float
        Bandwidth of the smoothed link derivative at the fit, in units of ``X @ coef_``.
    decrement_ : float
        Final Newton decrement per direction.
    result_ : IndexResult
        Coefficients, covariance, ``summary()``.
    classes_, n_features_in_, feature_names_in_
        As in scikit-learn.

    Examples
    --------
    >>> from semiparam.simulate import make_single_index
    >>> X, y = make_single_index(5000, [1.0, -1.0, 0.5], link="cloglog", scale=2.0,
    ...                          random_state=0)
    >>> clf = IsotonicIndexClassifier().fit(X, y)  # truth: [0.67, -0.67, 0.33]
    >>> clf.coef_.round(2)
    array([ 0.68, -0.66,  0.33])
    """

    min_rows_per_coef = MIN_ROWS_PER_COEF_MONOTONE

    _parameter_constraints = {
        **BaseIndexClassifier._parameter_constraints,
        "method": [Options({"efficient", "simple"})],
        "clip": [Interval(Real, 0.0, 0.5, closed="neither")],
        "bandwidth_factor": [Interval(Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "cov_type": cov_type_constraint("sandwich", "bootstrap"),
        "n_bootstrap": [Interval(Integral, 0, None)],
        "random_state": [NoneOK(), InstanceOf(Integral, np.random.Generator)],
    }

    def __init__(self, *, normalize="unit", method="efficient", clip=1e-4,
                 bandwidth_factor=0.5, max_iter=30, tol=0.05, cov_type="sandwich",
                 n_bootstrap=200, random_state=None):
        self.normalize = normalize
        self.method = method
        self.clip = clip
        self.bandwidth_factor = bandwidth_factor
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def predict_proba(self, X):
        """Probabilities of ``classes_``, shape (n, 2): ``[1 - p, p]``, ``p = link_(X @ coef_)``."""
        check_is_fitted(self, ("coef_", "link_"))
        return super().predict_proba(X)

    # -- the unchecked core --------------------------------------------------------------
    def _fit_core(self, X, z, w, start):
        """Solve the score equation from ``start``; no validation, no warnings.

        ``X`` (n, d) float, ``z`` in {0, 1}, ``w > 0`` with mean 1, ``start`` (d,) nonzero.
        Called once by :meth:`fit` and once per bootstrap replicate; returns the
        engine's :class:`~semiparam.index.efficient_score.ScoreSolution`.
        """
        provider = _IsotonicProvider(X, z, w, self.method, self.bandwidth_factor, self.clip)
        return solve_efficient_score(provider, start, max_iter=self.max_iter, tol=self.tol)

    # -- fit ---------------------------------------------------------------------------
    def _fit(self, X, z, w):
        w_user = w
        keep = w > 0
        if not np.all(keep):
            X, z, w_user = X[keep], z[keep], w[keep]
        w = w_user / w_user.mean()
        if np.unique(z).shape[0] < 2:
            raise ValueError("Rows with positive weight contain only one class.")
        X_user = X
        # the estimator is invariant to shifting X; centring keeps the expanded Gram
        # matrices of _Nuisances.gram free of cancellation.  Scaling each column by its weighted
        # sd makes the iteration (unit-norm iterates, step cap) independent of units:
        # the direction is estimated in standard units and mapped back.
        X, _, sd = standardize(X, w, check_input=False)
        self._sd = sd
        start = logit_pilot(X, z, w)[0]
        if not np.all(np.isfinite(start)) or not np.any(start != 0):
            start = np.ones(X.shape[1])
        start = start / np.linalg.norm(start)
        start = self._orient(X, z, w, start)
        core = self._fit_core(X, z, w, start)
        if core.status == "flat":
            warn(
                "The isotonic fit of y on the index is constant (or the step matrix "
                "vanishes): the data carry no "
                "information about the direction (flat profile likelihood). coef_ is the "
                "iterate where this happened (the logit start if it was the first) and "
                "converged_ is False.",
                FlatLikelihoodWarning,
            )
        elif not core.converged:
            warn(
                f"The score equation was not solved to tol={self.tol} in "
                f"max_iter={self.max_iter} iterations (final decrement per direction "
                f"{core.decrement:.3g}); returning the iterate with the smallest decrement.",
                ConvergenceWarning,
            )
        pooled, _, fitted, _ = _IsotonicProvider(X, z, w, self.method, self.bandwidth_factor,
                                                 self.clip).fit(core.b)
        self._order = pooled.order
        self._direction = core.b / sd
        self.coef_, scale = normalize_direction(self._direction, self.normalize)
        self.n_iter_ = core.n_iter
        self.converged_ = bool(core.converged)
        self.decrement_ = core.decrement
        self.bandwidth_ = float(core.nuisances.h / abs(scale))
        g = np.clip(fitted, self.clip, 1.0 - self.clip)
        self.loglik_ = float(w_user @ (z * np.log(g) + (1.0 - z) * np.log1p(-g)))
        self.separation_kind_ = check_separation(X, z, w)
        self.separated_ = self.separation_kind_ is not None
        if self.separated_:
            warn_separation(
                "IsotonicIndexClassifier", self.separation_kind_,
                "the direction is not identified by the score equation (every separating "
                "direction solves it; coef_ is the iterate reached from the ridge-logit "
                "start) and no standard errors are reported.")
        # prediction: one pseudo-observation per block keeps end blocks off 0 and 1;
        # smoothed with the score's bandwidth or a narrower multiple of it, chosen by
        # cross-validation (a steep link at large n is predicted better with less)
        self.link_ = IsotonicLink(clip=self.clip, increasing=bool(scale > 0),
                                  prior_weight=1.0, interpolation="smooth",
                                  bandwidth=[m * self.bandwidth_ for m in _LINK_BANDWIDTHS])
        self.link_.fit(X_user @ self.coef_, z, w_user)
        cov, cov_type, info = self._covariance(X, z, w, core)
        info = {"Method": f"{self.method} score", "Bandwidth": self.bandwidth_,
                "Blocks": self.link_.n_blocks_, "Iterations": self.n_iter_, **info}
        self.result_ = IndexResult(
            params=self.coef_, cov=cov, names=self._feature_names(), nobs=int(X.shape[0]),
            model="IsotonicIndexClassifier", normalize=self.normalize, llf=self.loglik_,
            converged=self.converged_, cov_type=cov_type, info=info,
        )

    def _orient(self, X, z, w, b):
        """Monotonicity identifies the sign: keep the one with the better isotonic fit.

        The increasing fit on ``-v`` is the decreasing fit on ``v``: one sort, two PAVAs.
        """
        pooled = pool_ties(X @ b, z, w)
        out = []
        for increasing in (True, False):
            g = np.clip(row_values(pooled, pava_pooled(pooled, increasing)),
                        self.clip, 1.0 - self.clip)
            out.append(w @ (z * np.log(g) + (1.0 - z) * np.log1p(-g)))
        return b if out[0] >= out[1] else -b

    # -- inference ---------------------------------------------------------------------
    def _covariance(self, X, z, w, core):
        if self.cov_type is None or core.status == "flat" or self.separated_:
            return None, "none", {}
        if self.cov_type == "sandwich":
            nu, Hp = core.nuisances, core.pinv
            r = _crossfit_residuals(X @ core.b, z, w, self._order)
            cov = Hp @ nu.gram((nu.wc * r) ** 2) @ Hp
            cov = to_normalised(cov, self._sd, core.b / self._sd, self.normalize)
            return cov, "sandwich", {}
        else:
            if self.n_bootstrap == 0:
                return None, "none", {}
            cov, info = self._bootstrap(X, z, w, core.b)
            if cov is None:
                return None, "none", info
            return cov, "bootstrap", info

    def _bootstrap(self, X, z, w, b):
        def refit(idx):
            zb = z[idx]
            if zb.min() == zb.max():
                return None
            core = self._fit_core(X[idx], zb, w[idx] / w[idx].mean(), b)
            if core.status == "flat":
                return None
            return normalize_direction(core.b / self._sd, self.normalize)[0]

        boot = bootstrap(refit, X.shape[0], scheme="rows", n_replicates=self.n_bootstrap,
                         random_state=self.random_state, dim=X.shape[1])
        return (None if boot.n_ok < 2 else boot.cov), boot.info()
