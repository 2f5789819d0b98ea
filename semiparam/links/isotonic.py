"""Isotonic link: the monotone least-squares (PAVA) estimate of ``P(z = 1 | v)``.

Three layers, as in ``sklearn/isotonic.py``:

- private, unchecked helpers that the index estimators call in their inner loops
  (:func:`isotonic_fit`, :func:`smooth_link`, :func:`default_bandwidth`);
- :func:`pava`, a validated public function (scikit-learn's
  :func:`sklearn.isotonic.isotonic_regression`);
- :class:`IsotonicLink`, the estimator that holds the fitted link.

Algorithm
---------
Sort ``v``, pool tied index values (weighted mean of ``z``, summed weights; values closer
than ``numpy.finfo(float).resolution`` count as tied, as in scikit-learn), and run the
pool-adjacent-violators algorithm (PAVA) on the pooled values.  For a binary ``z`` the
isotonic least-squares fit is also the nonparametric maximum-likelihood estimate of a
monotone probability (Ayer et al. 1955), so it is the link that Cosslett (1983) profiles
out.  Cost: ``O(n log n)`` for the sort, ``O(n)`` for PAVA.

The PAVA itself is scikit-learn's: ``sklearn.isotonic.isotonic_regression`` delegates to
``scipy.optimize.isotonic_regression`` (scipy >= 1.12).  :func:`pava` calls scikit-learn's
function; the private inner-loop helper calls the scipy routine it delegates to directly,
because scikit-learn's parameter validation costs far more than the PAVA itself at
moderate ``n`` (measured in ``docs/isotonic.md``, section 1).  Both give the same numbers.

Evaluation between the fitted points
------------------------------------
``interpolation="linear"`` (default) is scikit-learn's ``IsotonicRegression(
out_of_bounds="clip")``: piecewise linear between the knots ``thresholds_v_`` (the first
and last index value of every constant block), flat beyond the ends; the value is then
clipped to ``[clip, 1 - clip]``.  Its ``derivative`` is the slope of that interpolant
(right-continuous; zero on flat blocks, beyond the ends and where the clip binds): exact,
but zero almost everywhere, so useless as a gradient for most rows.

``interpolation="smooth"`` is the kernel-smoothed isotonic estimate

    g_h(v) = g_1 + sum_j D_j Phi((v - t_j) / h),

where ``D_j`` are the jumps of the step function between consecutive blocks, ``t_j`` the
midpoints of the gaps where they happen and ``Phi`` the standard normal cdf: the isotonic
fit convolved with a Gaussian kernel of bandwidth ``h``.  It is monotone and infinitely
differentiable, its derivative ``sum_j D_j phi((v - t_j)/h) / h`` is the smoothed
derivative estimate of Groeneboom & Hendrickx (2018) and Balabdaoui, Groeneboom &
Hendrickx (2019), and it tends to the step function as ``h -> 0``.  Default bandwidth
``h = 0.5 sigma n_eff^(-1/7)`` with ``sigma`` the robust spread
:func:`semiparam.stats.robust_spread` of the index (the rate for derivative estimation;
the constant chosen by measurement, ``docs/isotonic.md``).

References
----------
Ayer, M., Brunk, H. D., Ewing, G. M., Reid, W. T. and Silverman, E. (1955). An empirical
distribution function for sampling with incomplete information. *Ann. Math. Statist.*
26(4), 641-647.
Cosslett, S. R. (1983). Distribution-free maximum likelihood estimator of the binary
choice model. *Econometrica* 51(3), 765-782.
Groeneboom, P. and Hendrickx, K. (2018). Current status linear regression. *Ann.
Statist.* 46(4), 1415-1444.
Balabdaoui, F., Groeneboom, P. and Hendrickx, K. (2019). Score estimation in the monotone
single-index model. *Scand. J. Statist.* 46(2), 517-544.
"""

from __future__ import annotations

from numbers import Real
from typing import NamedTuple

import numpy as np
from scipy import special
from scipy.optimize import isotonic_regression as _scipy_isotonic
from sklearn.base import BaseEstimator

from .._validation import (
    Interval,
    NoneOK,
    Options,
    PositiveFloats,
    check_sample_weight,
    validate_params,
)
from ..stats import effective_sample_size, robust_spread
from ._base import BaseLink, one_se_choice, prediction_loss

__all__ = ["IsotonicLink", "pava", "default_bandwidth"]

#: index values closer than this are tied (scikit-learn's ``_make_unique`` tolerance)
_TIE_EPS = float(np.finfo(np.float64).resolution)
#: rows of ``v`` evaluated at once by the exact smoothed link (bounds memory)
_CHUNK = 4096


# --------------------------------------------------------------------------------------
# private layer: no validation
# --------------------------------------------------------------------------------------
class _Pooled(NamedTuple):
    """Rows sorted by the index, tied values pooled."""

    order: np.ndarray  # argsort of v (stable)
    gid: np.ndarray  # pooled group of each sorted row
    xu: np.ndarray  # distinct index values, increasing
    yu: np.ndarray  # weighted mean of z per distinct value
    wu: np.ndarray  # summed weight per distinct value


def pool_ties(v, z, w, hint=None):
    """Sort ``v`` (after the permutation ``hint``, if given) and pool ties; no checks.

    A ``hint`` that nearly sorts ``v`` (the order at the previous iterate of an optimiser)
    makes the stable sort (timsort) almost linear.
    """
    if hint is None:
        order = np.argsort(v, kind="stable")
    else:
        order = hint[np.argsort(v[hint], kind="stable")]
    vs = v[order]
    new = np.empty(vs.shape[0], dtype=bool)
    new[0] = True
    np.greater_equal(np.diff(vs), _TIE_EPS, out=new[1:])
    gid = np.cumsum(new) - 1
    wu = np.bincount(gid, weights=w[order])
    yu = np.bincount(gid, weights=(w * z)[order]) / wu
    return _Pooled(order, gid, vs[new], yu, wu)


def pava_pooled(pooled, increasing=True):
    """PAVA on pooled values: scipy's routine, the one scikit-learn delegates to."""
    return _scipy_isotonic(pooled.yu, weights=pooled.wu, increasing=increasing).x


def row_values(pooled, fu):
    """Fitted value of every row, in the original row order."""
    fitted = np.empty(pooled.order.shape[0])
    fitted[pooled.order] = fu[pooled.gid]
    return fitted


def isotonic_fit(v, z, w, increasing=True, hint=None):
    """Isotonic regression of ``z`` on ``v`` with pooled ties; no checks.

    Parameters
    ----------
    v, z, w : ndarray (n,)
        Finite floats; ``w > 0``.
    increasing : bool
    hint : ndarray of int, optional
        A permutation that nearly sorts ``v`` (speeds up the sort only).

    Returns
    -------
    pooled : _Pooled
        Sorted, pooled data (``xu`` the distinct index values).
    fu : ndarray (m,)
        Fitted (unclipped) values at ``pooled.xu``, monotone.
    fitted : ndarray (n,)
        Fitted value of every row, in the original row order.
    """
    pooled = pool_ties(v, z, w, hint)
    fu = pava_pooled(pooled, increasing)
    return pooled, fu, row_values(pooled, fu)


def _shrink_blocks(fu, wu, prior, zbar, increasing):
    """Block levels shrunk by ``prior`` weight toward ``zbar``, pooled again (monotone)."""
    from sklearn.isotonic import isotonic_regression

    start = np.r_[0, np.flatnonzero(np.diff(fu) != 0.0) + 1]
    Wb = np.add.reduceat(wu, start)
    fb = (Wb * fu[start] + prior * zbar) / (Wb + prior)
    fb = isotonic_regression(fb, sample_weight=Wb + prior, increasing=increasing)
    return np.repeat(fb, np.diff(np.r_[start, fu.size]))


def trimmed_knots(xu, fu):
    """scikit-learn's trimmed thresholds: drop interior points of constant runs."""
    if fu.shape[0] <= 2:
        return xu.copy(), fu.copy()
    keep = np.ones(fu.shape[0], dtype=bool)
    keep[1:-1] = (fu[1:-1] != fu[:-2]) | (fu[1:-1] != fu[2:])
    return xu[keep], fu[keep]


def level_jumps(xu, fu):
    """Level of the first block, and the jumps ``D_j`` at gap midpoints ``t_j``."""
    dj = np.diff(fu)
    at = np.flatnonzero(dj != 0.0)
    return float(fu[0]), 0.5 * (xu[at] + xu[at + 1]), dj[at]


def _smooth_exact(v, base, tau, dj, h, deriv):
    """``g_h`` (or its derivative) at ``v``, exactly, in chunks of rows."""
    out = np.empty(v.shape[0])
    for s in range(0, v.shape[0], _CHUNK):
        t = (v[s:s + _CHUNK, None] - tau[None, :]) / h
        if deriv:
            out[s:s + _CHUNK] = (np.exp(-0.5 * t * t) @ dj) / (h * np.sqrt(2.0 * np.pi))
        else:
            out[s:s + _CHUNK] = base + special.ndtr(t) @ dj
    return out


def smooth_link(v, base, tau, dj, h):
    """``g_h(v)`` and ``g_h'(v)`` for many rows: exact on a grid, linear in between.

    The grid spacing is at most ``h / 8`` (and at most 4096 points), so the interpolation
    error is below ``(h/8)^2 max|g_h''| / 8``: far below the statistical error of ``g_h``.
    """
    if tau.shape[0] == 0:  # a constant fit (one block)
        return np.full(v.shape[0], base), np.zeros(v.shape[0])
    lo, hi = float(v.min()), float(v.max())
    m = int(np.clip(np.ceil(8.0 * (hi - lo) / h), 64, 4096))
    grid = np.linspace(lo, hi, m)
    t = (grid[:, None] - tau[None, :]) / h
    g = base + special.ndtr(t) @ dj
    dg = (np.exp(-0.5 * t * t) @ dj) / (h * np.sqrt(2.0 * np.pi))
    return np.interp(v, grid, g), np.interp(v, grid, dg)


def default_bandwidth(v, sample_weight=None, factor: float = 0.5) -> float:
    """Rule-of-thumb bandwidth for the smoothed link derivative.

    ``h = factor * min(sd, IQR/1.349) * n_eff^(-1/7)``, with ``n_eff = (sum w)^2 / sum w^2``
    (Kish's effective sample size: the number of rows for equal weights, unchanged when
    all weights are rescaled).  The exponent ``-1/7`` is the rate of Groeneboom &
    Hendrickx (2018) for the derivative in a score equation; ``factor = 0.5`` was chosen
    by measurement (docs/isotonic.md).  Returns a positive float (1.0 when the index is
    constant).
    """
    v = np.asarray(v, dtype=float)
    w = np.ones(v.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    n_eff = effective_sample_size(w, check_input=False)
    scale = robust_spread(v, w, check_input=False)
    if not scale > 0:
        return 1.0
    return float(factor * scale * n_eff ** (-1.0 / 7.0))


# --------------------------------------------------------------------------------------
# public function: validated
# --------------------------------------------------------------------------------------
def _as_1d(name, a):
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got an array of shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return arr


def pava(y, *, sample_weight=None, increasing=True):
    """Isotonic regression of a sequence (pool-adjacent-violators), validated.

    Solves ``min sum_i w_i (y_i - f_i)^2`` over ``f_1 <= ... <= f_n`` (or ``>=`` when
    ``increasing=False``) with scikit-learn's :func:`sklearn.isotonic.isotonic_regression`.
    The order of ``y`` is the order of the (implicit) covariate: sort first, and pool
    ties, or use :class:`IsotonicLink`, which does both.

    Parameters
    ----------
    y : array-like of shape (n,)
        Finite values.
    sample_weight : array-like of shape (n,), default=None
        Nonnegative weights, not all zero (rows with zero weight take the fitted value of
        their neighbours' block and do not influence it).
    increasing : bool, default=True

    Returns
    -------
    ndarray of shape (n,)
        The isotonic fit.

    Examples
    --------
    >>> pava([1.0, 3.0, 2.0, 4.0])
    array([1. , 2.5, 2.5, 4. ])
    """
    from sklearn.isotonic import isotonic_regression

    y = _as_1d("y", y)
    if y.shape[0] == 0:
        raise ValueError("y is empty.")
    if not isinstance(increasing, (bool, np.bool_)):
        raise ValueError(f"increasing must be a bool; got {increasing!r}.")
    w = check_sample_weight(sample_weight, y.shape[0])
    if np.all(w > 0):
        return np.asarray(isotonic_regression(y, sample_weight=w, increasing=bool(increasing)))
    pos = w > 0
    fit = np.asarray(
        isotonic_regression(y[pos], sample_weight=w[pos], increasing=bool(increasing))
    )
    # zero-weight rows: carry the fit of the nearest positive-weight row before them
    # (after them for leading rows); they do not change the solution
    idx = np.cumsum(pos) - 1
    return fit[np.maximum(idx, 0)]


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------
class IsotonicLink(BaseLink, BaseEstimator):
    """Monotone link estimated by isotonic regression of ``z`` on a scalar index.

    Parameters
    ----------
    clip : float in [0, 0.5), default=1e-4
        Evaluated probabilities are clipped to ``[clip, 1 - clip]`` (the isotonic fit is
        exactly 0 or 1 on its end blocks, which would give an infinite log-likelihood).
    interpolation : {"linear", "smooth"}, default="linear"
        ``"linear"``: scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``
        interpolant (piecewise linear between block knots, flat beyond the ends);
        ``derivative`` is its slope.  ``"smooth"``: the Gaussian-kernel smoothed
        isotonic estimate ``g_h`` (module docstring); ``derivative`` is its exact,
        smooth derivative -- the one to use for gradients.
    bandwidth : float > 0, sequence of floats > 0, or None, default=None
        Bandwidth ``h`` of ``"smooth"`` in index units; None: :func:`default_bandwidth`.
        A sequence, ordered from the widest: chosen by 5-fold cross-validated loss of the
        link (log loss for binary ``z``, squared error otherwise; folds interleaved along
        the sorted index), the first candidate within one standard error of the best
        (:func:`semiparam.links.one_se_choice`).  Ignored by ``"linear"``.
    increasing : bool, default=True
        Direction of monotonicity.
    prior_weight : float >= 0, default=0.0
        Pseudo-observations per constant block with outcome the weighted mean ``zbar``:
        each block's level ``f_b`` (weight ``W_b``) becomes
        ``(W_b f_b + a wbar zbar) / (W_b + a wbar)``, then the levels are pooled again to
        stay monotone.  ``a = 1`` keeps the end blocks (often all zeros or all ones) away
        from 0 and 1 by about ``1 / (size + 1)``: a Laplace-type correction for prediction.
        0: the plain isotonic regression.

    Attributes
    ----------
    thresholds_v_ : ndarray
        Knots: the first and last index value of each constant block (equal to
        scikit-learn's ``X_thresholds_``).
    thresholds_g_ : ndarray
        Unclipped fitted values at the knots (scikit-learn's ``y_thresholds_``).
    index_range_ : tuple of float
        ``(min v, max v)`` over rows with positive weight.
    n_blocks_ : int
        Number of constant blocks of the isotonic fit.
    bandwidth_ : float
        Bandwidth used by ``"smooth"`` (computed also for ``"linear"``, for reference).
    n_samples_fit_ : int
        Rows with positive weight.

    Notes
    -----
    ``z`` may be binary or any values in ``[0, 1]`` (fractions, averaged labels); values
    outside ``[0, 1]``, NaN or infinity raise ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([0.0, 1.0, 2.0, 3.0]); z = np.array([0, 1, 0, 1])
    >>> link = IsotonicLink(clip=0.0).fit(v, z)
    >>> link(np.array([0.0, 1.5, 3.0]))
    array([0. , 0.5, 1. ])
    """

    _parameter_constraints = {
        "clip": [Interval(Real, 0.0, 0.5, closed="left")],
        "interpolation": [Options({"linear", "smooth"})],
        "bandwidth": [Interval(Real, 0.0, None, closed="neither"), PositiveFloats(), NoneOK()],
        "increasing": [Options({True, False})],
        "prior_weight": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(self, *, clip=1e-4, interpolation="linear", bandwidth=None, increasing=True,
                 prior_weight=0.0):
        self.clip = clip
        self.interpolation = interpolation
        self.bandwidth = bandwidth
        self.increasing = increasing
        self.prior_weight = prior_weight

    def fit(self, v, z, sample_weight=None):
        """Fit the isotonic regression of ``z`` on ``v``.

        Parameters
        ----------
        v : array-like of shape (n,)
            Index values (finite).
        z : array-like of shape (n,)
            Responses in ``[0, 1]`` (binary labels or fractions).
        sample_weight : array-like of shape (n,), default=None
            Nonnegative weights; rows with zero weight are dropped.

        Returns
        -------
        self
        """
        validate_params(self)
        v = _as_1d("v", v)
        z = _as_1d("z", z)
        if v.shape[0] != z.shape[0]:
            raise ValueError(
                f"v and z have different lengths ({v.shape[0]} and {z.shape[0]})."
            )
        if v.shape[0] == 0:
            raise ValueError("v is empty: at least one observation is needed.")
        if np.any((z < 0.0) | (z > 1.0)):
            raise ValueError("z must lie in [0, 1] (binary labels or fractions).")
        w = check_sample_weight(sample_weight, v.shape[0])
        wbar = float(w.mean())  # a pseudo-observation weighs as much as an average row
        pos = w > 0
        if not np.all(pos):
            v, z, w = v[pos], z[pos], w[pos]
        xu, fu = self._levels(v, z, w, wbar)
        h = self.bandwidth
        if h is not None and np.ndim(h) == 1:
            h = (self._cv_bandwidth(v, z, w, wbar, np.asarray(h, dtype=float))
                 if self.interpolation == "smooth" else float(h[0]))
        self._set_fit(xu, fu, v, w, bandwidth=h)
        return self

    def _levels(self, v, z, w, wbar):
        """Block knots and levels of the (shrunk) isotonic fit."""
        pooled, fu, _ = isotonic_fit(v, z, w, increasing=bool(self.increasing))
        if self.prior_weight > 0:
            fu = _shrink_blocks(fu, pooled.wu, self.prior_weight * wbar,
                                float(w @ z) / float(w.sum()), bool(self.increasing))
        return pooled.xu, fu

    def _cv_bandwidth(self, v, z, w, wbar, candidates, folds=5):
        """The candidate bandwidth of ``"smooth"`` chosen by cross-validation."""
        if candidates.size == 1 or v.size < 2 * folds:
            return float(candidates[0])
        binary = bool(np.all((z == 0) | (z == 1)))
        fold = np.empty(v.size, dtype=np.intp)
        fold[np.argsort(v, kind="stable")] = np.arange(v.size) % folds
        losses = np.zeros((candidates.size, v.size))
        for f in range(folds):
            tr, te = fold != f, fold == f
            if np.ptp(z[tr]) == 0:
                continue
            base, tau, dj = level_jumps(*self._levels(v[tr], z[tr], w[tr], wbar))
            for k, h in enumerate(candidates):
                g = np.clip(_smooth_exact(v[te], base, tau, dj, float(h), False),
                            max(self.clip, 1e-12), 1.0 - max(self.clip, 1e-12))
                losses[k, te] = w[te] * prediction_loss(z[te], g, binary)
        return float(candidates[one_se_choice(losses)])

    def _set_fit(self, xu, fu, v, w, bandwidth=None):
        """Store the fitted state (used by :meth:`fit` and by the index estimators)."""
        self.thresholds_v_, self.thresholds_g_ = trimmed_knots(xu, fu)
        self.index_range_ = (float(xu[0]), float(xu[-1]))
        self.n_blocks_ = int(1 + np.count_nonzero(np.diff(fu)))
        self.n_samples_fit_ = int(v.shape[0])
        if bandwidth is None:
            bandwidth = self.bandwidth if self.bandwidth is not None else default_bandwidth(v, w)
        self.bandwidth_ = float(bandwidth)
        self._base, self._tau, self._dj = level_jumps(xu, fu)
        return self

    def _check_fitted(self, v):
        if not hasattr(self, "thresholds_v_"):
            raise AttributeError(
                "This IsotonicLink instance is not fitted yet; call fit(v, z) first."
            )
        v = np.asarray(v, dtype=float)
        if np.any(np.isnan(v)):
            raise ValueError("v contains NaN.")
        return v

    def _raw(self, v):
        """Unclipped value of the interpolant at a flat array ``v``."""
        if self.interpolation == "smooth":
            return _smooth_exact(v, self._base, self._tau, self._dj, self.bandwidth_, False)
        tv, tg = self.thresholds_v_, self.thresholds_g_
        if tv.shape[0] == 1:
            return np.full(v.shape[0], tg[0])
        return np.interp(v, tv, tg)

    def __call__(self, v):
        """Fitted probability at ``v`` (any shape), clipped to ``[clip, 1 - clip]``."""
        v = self._check_fitted(v)
        flat = v.reshape(-1)
        out = np.clip(self._raw(flat), self.clip, 1.0 - self.clip)
        return out.reshape(v.shape)

    def derivative(self, v):
        """Derivative of :meth:`__call__` with respect to the index.

        ``"linear"``: the slope of the piecewise-linear interpolant (right-continuous at
        the knots; zero on flat blocks, beyond the ends and where the clip binds).
        ``"smooth"``: the exact derivative of ``g_h`` (zero where the clip binds).
        """
        v = self._check_fitted(v)
        flat = v.reshape(-1)
        raw = self._raw(flat)
        inside = (raw > self.clip) & (raw < 1.0 - self.clip)
        if self.interpolation == "smooth":
            d = _smooth_exact(flat, self._base, self._tau, self._dj, self.bandwidth_, True)
        else:
            tv, tg = self.thresholds_v_, self.thresholds_g_
            d = np.zeros(flat.shape[0])
            if tv.shape[0] > 1:
                slope = np.diff(tg) / np.diff(tv)
                k = np.searchsorted(tv, flat, side="right") - 1
                ok = (k >= 0) & (k < slope.shape[0])
                d[ok] = slope[k[ok]]
        return np.where(inside, d, 0.0).reshape(v.shape)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        return tags
