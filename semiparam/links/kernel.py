"""Nadaraya–Watson kernel link: a smooth estimate of ``E[z | index = v]``.

``g(v) = sum_j K((v - v_j)/h) w_j z_j / sum_j K((v - v_j)/h) w_j`` over the fitted points,
evaluated with :func:`semiparam._kernels.kernel_sums_at` (``O((n + m) log n)`` for the
compact kernels).  Its derivative is ``(S1_a - g S1_b) / (h S0_b)`` with ``S1`` the sums
of ``K'``.  The Gaussian's sums are taken relative to the nearest fitted point's kernel
weight where they would underflow (``relative=True`` of the kernels), so far from the
data the link follows the formula: it tends to the outcome of the nearest fitted point.
Where a compact kernel's denominator vanishes (a query farther than its support from
every fitted point) the link falls back to the in-sample fitted value at the nearest
fitted point, and its derivative to 0, so the link is defined (and bounded by the range
of ``z``) on the whole real line.

:meth:`KernelLink.local_slope` is the local-linear estimate of ``g'`` at the same kernel
and bandwidth: the slope ``b`` of the weighted least-squares line
``min_(a, b) sum_j K((v_j - t)/h) w_j (z_j - a - b (v_j - t))^2``, i.e.
``(M0 T1 - M1 T0) / (M0 M2 - M1^2)`` with ``M_k = sum_j K w_j (v_j - t)^k`` and
``T_k = sum_j K w_j z_j (v_j - t)^k`` (the same kernel sums of the powers of ``v``).
Unlike the derivative of the Nadaraya–Watson ratio it has no design bias and adapts at
the boundary (Fan & Gijbels 1996, sec. 3.2): averaged over a sample it estimates
``E g'(v)`` without the smoothing bias of ``derivative`` (on a cloglog design at n = 2000,
-0.3% against -3% of the average derivative at the same bandwidth); the marginal effects
of :mod:`semiparam.index.margins` use it.

The kernel link is not constrained to be monotone.  It is the link the Klein–Spady and
Ichimura estimators report (``link_``), fitted on the normalised index with the
bandwidth they selected.

References
----------
Nadaraya, E. A. (1964). On estimating regression. *Theory Probab. Appl.* 9, 141-142.
Watson, G. S. (1964). Smooth regression analysis. *Sankhya A* 26, 359-372.
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*, sec. 3.4.
Marron, J. S. and Nolan, D. (1988). Canonical kernels for density estimation.
*Statist. Probab. Lett.* 7, 195-199.
Fan, J. and Gijbels, I. (1996). *Local Polynomial Modelling and Its Applications*.
Chapman & Hall.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._kernels import KERNELS, kernel_sums, kernel_sums_at  # public re-exports (semiparam.torch)
from ..stats import rule_of_thumb_bandwidth, weighted_sd
from .._validation import PositiveFloats
from ._base import BaseLink, one_se_choice, prediction_loss

__all__ = ["KernelLink", "KERNEL_NAMES", "rule_of_thumb_bandwidth", "KERNELS", "kernel_sums",
           "kernel_sums_at"]

#: kernel names accepted (the registry of :mod:`semiparam._kernels`)
KERNEL_NAMES = tuple(KERNELS)


def _check_kernel(kernel):
    if not isinstance(kernel, str) or kernel not in KERNEL_NAMES:
        raise ValueError(f"kernel must be one of {list(KERNEL_NAMES)}; got {kernel!r}.")


class KernelLink(BaseLink):
    """Nadaraya–Watson estimate of ``P(z = 1 | index = v)`` (or ``E[z | v]``).

    Parameters
    ----------
    kernel : {"epanechnikov", "biweight", "triweight", "gaussian"}, default="epanechnikov"
        Kernel, a normalised density (the compact ones on ``[-1, 1]``).
    bandwidth : float, "silverman", "cv" or sequence of floats, default="silverman"
        A positive float is the bandwidth in the units of ``v``.  ``"silverman"`` is the
        rule of thumb :func:`rule_of_thumb_bandwidth`; ``"cv"`` minimises the
        leave-one-out squared error over a grid of bandwidths from 0.01 to 2 standard
        deviations of ``v`` (then refined by golden-section search).  A sequence of
        positive floats, ordered from the widest: chosen by how well the link,
        pseudo-observation included, predicts each fitted point left out (log loss when
        ``z`` is binary, squared error otherwise): the first candidate within one
        standard error of the best (:func:`semiparam.links.one_se_choice`).

    prior_weight : float >= 0, default=0.0
        Pseudo-observations at the query point with outcome the weighted mean of ``z``:
        ``g(v) = (sum_j K_j w_j z_j + a K(0) wbar zbar) / (sum_j K_j w_j + a K(0) wbar)``.
        ``a = 1`` keeps probabilities away from 0 and 1 by about ``1 / (n_local + 1)``
        where a window holds ``n_local`` rows of one class (a Laplace-type correction
        for prediction; 0: the plain Nadaraya–Watson estimate).
    monotone : bool, default=False
        Make the link nondecreasing: the estimate at the fitted points is replaced by its
        weighted isotonic regression (weights: the points' kernel mass, scikit-learn's
        PAVA) and evaluated by linear interpolation, flat beyond the ends.
        ``derivative`` is then the slope of that interpolant.
    clip : float in [0, 0.5), default=0.0
        Values are clipped to ``[clip, 1 - clip]`` (for probabilities; 0: no clipping).
        ``derivative`` is that of the unclipped estimate.

    Attributes
    ----------
    bandwidth_ : float
        Bandwidth used (units of ``v``).
    kernel_ : str
    index_range_ : tuple of float
        Smallest and largest fitted index value (``plot`` uses it).
    n_samples_fit_ : int
        Number of fitted points with positive weight.

    Examples
    --------
    >>> import numpy as np
    >>> from semiparam.links import KernelLink
    >>> rng = np.random.default_rng(0)
    >>> v = rng.standard_normal(500)
    >>> z = (rng.uniform(size=500) < 1 / (1 + np.exp(-2 * v))).astype(float)
    >>> link = KernelLink(bandwidth=0.5).fit(v, z)
    >>> bool(0.4 < link(np.array([0.0]))[0] < 0.6)
    True
    """

    def __init__(self, kernel: str = "epanechnikov", bandwidth="silverman", *,
                 prior_weight: float = 0.0, monotone: bool = False, clip: float = 0.0):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.prior_weight = prior_weight
        self.monotone = monotone
        self.clip = clip

    def __repr__(self) -> str:
        extra = ""
        if self.prior_weight:
            extra += f", prior_weight={self.prior_weight!r}"
        if self.monotone:
            extra += ", monotone=True"
        if self.clip:
            extra += f", clip={self.clip!r}"
        return f"KernelLink(kernel={self.kernel!r}, bandwidth={self.bandwidth!r}{extra})"

    # -- fitting -------------------------------------------------------------------
    def fit(self, v, z, sample_weight=None):
        """Store the fitted points and choose the bandwidth.

        Parameters
        ----------
        v : array-like (n,)
            Index values.
        z : array-like (n,)
            Outcomes (0/1 or any real).
        sample_weight : array-like (n,), optional
            Nonnegative weights; rows with zero weight are dropped.

        Returns
        -------
        self
        """
        _check_kernel(self.kernel)
        if not (isinstance(self.clip, numbers.Real) and 0.0 <= self.clip < 0.5):
            raise ValueError(f"clip must be a number in [0, 0.5); got {self.clip!r}.")
        v = np.asarray(v, dtype=float).ravel()
        z = np.asarray(z, dtype=float).ravel()
        if v.shape != z.shape:
            raise ValueError(f"v and z have different lengths ({v.shape[0]} and {z.shape[0]}).")
        if v.size == 0:
            raise ValueError("KernelLink needs at least one point; got an empty index.")
        if not (np.all(np.isfinite(v)) and np.all(np.isfinite(z))):
            raise ValueError("v or z contains NaN or infinity.")
        if sample_weight is None:
            w = np.ones_like(v)
        else:
            w = np.asarray(sample_weight, dtype=float).ravel()
            if w.shape != v.shape:
                raise ValueError("sample_weight must have the same length as v.")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("sample_weight must be finite and nonnegative.")
        # a pseudo-observation weighs as much as an average row (zero-weight rows count:
        # multinomial bootstrap weights then give it the same weight as the fit)
        self._wbar = float(w.mean())
        keep = w > 0
        if not np.any(keep):
            raise ValueError("sample_weight is zero for every point.")
        v, z, w = v[keep], z[keep], w[keep]
        order = np.argsort(v, kind="stable")
        self._v = np.ascontiguousarray(v[order])
        self._U = np.ascontiguousarray(np.column_stack([w[order] * z[order], w[order]]))
        self.kernel_ = self.kernel
        self.n_samples_fit_ = int(v.size)
        self.index_range_ = (float(self._v[0]), float(self._v[-1]))
        a = float(self.prior_weight)
        if not (np.isfinite(a) and a >= 0):
            raise ValueError(f"prior_weight must be finite and >= 0; got {self.prior_weight!r}.")
        k0 = KERNELS[self.kernel_].k0
        wbar = self._wbar
        self._prior = (a * k0 * wbar * float(w @ z) / float(w.sum()), a * k0 * wbar)
        self.bandwidth_ = self._choose_bandwidth(z[order], w[order])
        S0, _ = kernel_sums_at(self._v, self._v, self._U, self.bandwidth_, self.kernel_)
        # the self term keeps the denominator positive
        self._fitted = (S0[:, 0] + self._prior[0]) / (S0[:, 1] + self._prior[1])
        self._mono = None
        if self.monotone:
            from sklearn.isotonic import isotonic_regression

            self._mono = isotonic_regression(self._fitted, sample_weight=S0[:, 1])
        return self

    def _choose_bandwidth(self, z, w):
        bw = self.bandwidth
        sd = float(weighted_sd(self._v, w, check_input=False))
        spread = sd if sd > 0 else 1.0
        if isinstance(bw, numbers.Real) and not isinstance(bw, bool):
            if not (np.isfinite(bw) and bw > 0):
                raise ValueError(f"bandwidth must be positive and finite; got {bw!r}.")
            return float(bw)
        if isinstance(bw, str):
            if bw == "silverman":
                return rule_of_thumb_bandwidth(spread, self._v.size, self.kernel)
            if bw == "cv":
                return self._cv_bandwidth(z, w, spread)
        elif PositiveFloats().is_satisfied_by(bw):
            return self._loo_choice(z, w, np.asarray(bw, dtype=float))
        raise ValueError("bandwidth must be a positive float, 'silverman', 'cv' or a sequence "
                         f"of positive floats; got {bw!r}.")

    def _loo_choice(self, z, w, candidates):
        """The candidate bandwidth chosen by the link's leave-one-out loss (one-SE rule)."""
        if candidates.size == 1:
            return float(candidates[0])
        pa, pb = self._prior
        zbar = float(w @ z) / float(w.sum())
        binary = bool(np.all((z == 0) | (z == 1)))
        order, losses = None, []
        for h in candidates:
            S0, _, order, _ = kernel_sums(self._v, self._U, float(h), self.kernel,
                                          order=order, relative=True)
            den = S0[:, 1] + pb
            ok = den > 0
            g = np.where(ok, (S0[:, 0] + pa) / np.where(ok, den, 1.0), zbar)
            losses.append(w * prediction_loss(z, g, binary))
        return float(candidates[one_se_choice(np.array(losses))])

    def _cv_bandwidth(self, z, w, spread):
        if self._v.size < 3:
            return rule_of_thumb_bandwidth(spread, self._v.size, self.kernel)
        from scipy.optimize import minimize_scalar

        order = [None]

        def loo_mse(logh):
            S0, _, order[0], _ = kernel_sums(
                self._v, self._U, float(np.exp(logh)), self.kernel, order=order[0],
                relative=True,
            )
            ok = S0[:, 1] > 0
            g = np.where(ok, S0[:, 0] / np.where(ok, S0[:, 1], 1.0), (w @ z) / w.sum())
            return float(w @ (z - g) ** 2) / float(w.sum())

        grid = np.log(spread) + np.linspace(np.log(0.01), np.log(2.0), 16)
        vals = np.array([loo_mse(t) for t in grid])
        k = int(np.argmin(vals))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
        if hi > lo:
            res = minimize_scalar(loo_mse, bounds=(lo, hi), method="bounded",
                                  options={"xatol": 1e-3})
            if res.fun <= vals[k]:
                return float(np.exp(res.x))
        return float(np.exp(grid[k]))

    # -- evaluation --------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "bandwidth_"):
            raise AttributeError(
                "This KernelLink instance is not fitted yet; call 'fit' with the index and "
                "outcomes first."
            )

    def _nearest(self, q):
        pos = np.clip(np.searchsorted(self._v, q), 1, self._v.size - 1) if self._v.size > 1 else 0
        if self._v.size == 1:
            return np.full(q.shape, self._fitted[0])
        left = self._v[pos - 1]
        right = self._v[pos]
        idx = np.where(np.abs(q - left) <= np.abs(right - q), pos - 1, pos)
        return self._fitted[idx]

    def _query(self, v):
        """Validated query points, flattened, and their original shape."""
        self._check_fitted()
        q = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(q)):
            raise ValueError("The index contains NaN or infinity.")
        return q.ravel(), q.shape

    def _evaluate(self, v, derivative):
        q, shape = self._query(v)
        if self._mono is not None:
            if not derivative:
                return np.interp(q, self._v, self._mono).reshape(shape)
            return _interp_slope(q, self._v, self._mono).reshape(shape)
        S0, S1, lscale = kernel_sums_at(
            q, self._v, self._U, self.bandwidth_, self.kernel_, derivative=derivative,
            relative=True,
        )
        # the sums are relative to each row's largest kernel weight (exp(lscale)); the
        # pseudo-observation is carried to the same scale
        pa, pb = self._prior
        if pb > 0:
            rel = np.exp(np.minimum(-np.asarray(lscale, dtype=float), 700.0))
            S0 = S0 + np.column_stack([pa * rel, pb * rel])
        ok = S0[:, 1] > 0.0
        B = np.where(ok, S0[:, 1], 1.0)
        g = np.where(ok, S0[:, 0] / B, 0.0)
        if not np.all(ok):
            g[~ok] = self._nearest(q[~ok])
        if not derivative:
            return g.reshape(shape)
        dg = np.where(ok, (S1[:, 0] - g * S1[:, 1]) / (self.bandwidth_ * B), 0.0)
        return dg.reshape(shape)

    def __call__(self, v):
        """The link at ``v`` (same shape as ``v``), clipped to ``[clip, 1 - clip]``."""
        g = self._evaluate(v, False)
        return np.clip(g, self.clip, 1.0 - self.clip) if self.clip else g

    def derivative(self, v):
        """``dg/dv`` at ``v`` (0 where no fitted point lies within the kernel's support)."""
        return self._evaluate(v, True)

    def local_slope(self, v):
        """Local-linear estimate of ``g'(v)`` (module docstring), same kernel and bandwidth.

        Falls back to :meth:`derivative` where fewer than two distinct fitted points carry
        kernel weight (the local line is not identified there).
        """
        q, shape = self._query(v)
        # centre and scale the index so that the expanded moments keep their digits
        c = 0.5 * (self._v[0] + self._v[-1])
        s = max(0.5 * (self._v[-1] - self._v[0]), self.bandwidth_, 1e-300)
        x, qs = (self._v - c) / s, (q - c) / s
        w, wz = self._U[:, 1], self._U[:, 0]
        U = np.column_stack([w, w * x, w * x * x, wz, wz * x])
        A, _ = kernel_sums_at(qs, x, U, self.bandwidth_ / s, self.kernel_)
        m0 = A[:, 0]
        m1 = A[:, 1] - qs * m0
        m2 = A[:, 2] - 2.0 * qs * A[:, 1] + qs * qs * m0
        t0 = A[:, 3]
        t1 = A[:, 4] - qs * t0
        den = m0 * m2 - m1 * m1
        ok = den > 1e-10 * np.maximum(m0 * m0, 1e-300) * (self.bandwidth_ / s) ** 2
        slope = np.where(ok, (m0 * t1 - m1 * t0) / np.where(ok, den, 1.0), 0.0) / s
        if not np.all(ok):
            slope[~ok] = self._evaluate(q[~ok], True)
        return slope.reshape(shape)


def _interp_slope(q, x, y):
    """Slope of ``np.interp(., x, y)`` at ``q`` (0 beyond the ends; right slope at knots)."""
    if x.size < 2:
        return np.zeros_like(q)
    dx = np.diff(x)
    slope = np.divide(np.diff(y), dx, out=np.zeros(dx.size), where=dx > 0)
    i = np.searchsorted(x, q, side="right") - 1
    inside = (i >= 0) & (i < x.size - 1)
    return np.where(inside, slope[np.clip(i, 0, x.size - 2)], 0.0)
