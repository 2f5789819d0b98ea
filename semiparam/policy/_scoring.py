"""Orthogonalized single-index direction by Fisher scoring on the efficient score.

Model: ``P(z = 1 | X) = g(X'theta)`` with ``g`` unknown, ``theta`` on the unit sphere.
With ``t = X'theta``, ``w(t) = g'(t)^2 / (g(t)(1 - g(t)))`` and the residual design
``R = X - E[X | t]``, the efficient score of ``theta`` is

    S(theta) = sum_i w_i (z_i - g(t_i)) g'(t_i) / (g(t_i)(1 - g(t_i))) R_i,

orthogonal to the link: its derivative in any direction of link perturbation is zero,
so first-order error in the estimates of ``g``, ``g'`` and ``E[X | t]`` does not move the
root (Klein & Spady 1993; METHODS.md, OSPO).  It is the gradient of OSPO's surrogate
loss ``-sum_i c_i (t_i - sum_j Kbar_ij t_j)`` with the weights ``c_i`` and the kernel
weights ``Kbar`` held fixed.

:func:`score_fit` solves ``S = 0`` in the tangent space of the sphere by Fisher scoring:
at the current ``theta`` the nuisances are re-estimated and held fixed (detached), the
information ``J = sum_i w_i g'_i^2 / (g_i (1 - g_i)) R_i R_i'`` is formed, and

    theta <- normalise(theta + P J_P^+ P S),   P = I - theta theta',

with ``J_P^+`` the inverse of ``J`` on the tangent space (``J theta = 0`` up to smoothing
error because ``theta'R = t - E[t | t] = 0``).  Starting from the logistic (DPO)
direction, the iteration contracts linearly (about fourfold per step in the study of
``docs/policy.md``); it stops when the (undamped) step is below ``tol`` radians.  The
estimated information can understate the slope of the score along a direction, and the
full step then overshoots into a period-two oscillation; whenever a step reverses the
previous one (cosine below -1/2) the steps are halved from then on (relaxation), which
makes the root attracting again.

Nuisances at the current index (all weighted by the sample weights):

- ``link="kernel"`` (OSPO): leave-one-out Nadaraya-Watson estimates of ``g`` and of its
  derivative ``g'`` (the derivative of the ratio, from the kernel-derivative sums);
- ``link="isotonic"`` (PSPO): the isotonic (PAVA) fit of ``z`` on ``t`` -- the profile
  maximum-likelihood link -- kernel-smoothed so that ``g'`` exists
  (:class:`~semiparam.links.IsotonicLink` with ``interpolation="smooth"``);
- ``E[X | t]``: leave-one-out Nadaraya-Watson regression of every column of ``X``.

Bandwidth ``h = c * sigma * n^(-1/5)`` with the robust spread
``sigma = min(sd(t), IQR(t)/1.349)``: a plain ``sd`` oversmooths when the index is a
heavy-tailed mixture (pairs of actions on very different scales), which biases ``g'``
and ``E[X | t]`` exactly where the link is steep.  All kernel sums are the exact
``O(n log n)`` leave-one-out sums of :mod:`semiparam._kernels`, computed for the ``2 + p``
columns ``[w, w z, w X]`` in one pass; one iteration costs ``O(n p^2)`` for ``J``.

Why not the Klein-Spady likelihood itself?  Maximising the leave-one-out
quasi-likelihood differentiates through the neighbours' positions too; with ~180
coefficients and a few thousand rows that freedom overfits (measured in
``docs/policy.md``: regret ratio above 1 where the scoring root gives 0.67), while the
estimating equation with detached nuisances does not.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._kernels import kernel_sums, kernel_sums_at
from ..exceptions import ConvergenceWarning
from ..links._base import BaseLink

__all__ = ["score_fit", "ScoreFit", "NadarayaWatsonLink", "robust_spread"]

#: largest step (radians) taken in one scoring iteration
_MAX_STEP = 0.5


def robust_spread(t, w) -> float:
    """``min(weighted sd, IQR / 1.349)`` of ``t`` (rows with positive weight)."""
    pos = w > 0
    t, w = t[pos], w[pos]
    mean = np.average(t, weights=w)
    sd = float(np.sqrt(np.average((t - mean) ** 2, weights=w)))
    q75, q25 = np.percentile(t, [75, 25])
    iqr = float(q75 - q25) / 1.349
    return min(sd, iqr) if iqr > 0 else sd


class NadarayaWatsonLink(BaseLink):
    """Nadaraya-Watson estimate of ``P(z = 1 | t)`` at a fixed bandwidth.

    Parameters
    ----------
    kernel : str
        A kernel of :mod:`semiparam._kernels`.
    bandwidth : float
        ``h > 0`` on the scale of the index.
    clip : float
        Values are clipped to ``[clip, 1 - clip]``.
    """

    def __init__(self, kernel="gaussian", bandwidth=1.0, clip=1e-3):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.clip = clip

    def fit(self, v, z, sample_weight=None):
        """Store the index, labels and weights (smoothing happens at evaluation)."""
        v = np.asarray(v, dtype=float)
        w = np.ones_like(v) if sample_weight is None else np.asarray(sample_weight, float)
        self.v_ = v
        self.U_ = np.column_stack([w, w * np.asarray(z, dtype=float)])
        self.index_range_ = (float(v.min()), float(v.max()))
        return self

    def _sums(self, q):
        q = np.asarray(q, dtype=float)
        S0, S1 = kernel_sums_at(q.ravel(), self.v_, self.U_, self.bandwidth, self.kernel,
                                derivative=True)
        return q.shape, S0, S1

    def __call__(self, v):
        shape, S0, _ = self._sums(v)
        M = S0[:, 0]
        g = np.where(M > 0, S0[:, 1] / np.where(M > 0, M, 1.0), 0.5)
        return np.clip(g, self.clip, 1.0 - self.clip).reshape(shape)

    def derivative(self, v):
        """Derivative of the (unclipped) ratio with respect to the index."""
        shape, S0, S1 = self._sums(v)
        M, N = S0[:, 0], S0[:, 1]
        safe = np.where(M > 0, M, 1.0)
        d = (S1[:, 1] * M - N * S1[:, 0]) / (safe**2 * self.bandwidth)
        return np.where(M > 0, d, 0.0).reshape(shape)


@dataclass(frozen=True)
class ScoreFit:
    """Outcome of :func:`score_fit`.

    Attributes
    ----------
    coef : ndarray (p,)
        Unit-norm direction.
    n_iter : int
    converged : bool
    bandwidth : float
        Bandwidth of the last iteration (index scale).
    step_norms : tuple of float
        Size (radians) of each undamped scoring step.
    """

    coef: np.ndarray
    n_iter: int
    converged: bool
    bandwidth: float
    step_norms: tuple


def _nuisances(t, z, w, X, h, kernel, link, clip, order):
    """``g``, ``g'``, ``E[X | t]`` at the current index (leave-one-out kernel sums)."""
    n, p = X.shape
    U = np.empty((n, p + 2))
    U[:, 0] = w
    U[:, 1] = w * z
    U[:, 2:] = w[:, None] * X
    S0, _, order = kernel_sums(t, U, h, kernel, order=order, check_input=False)
    M = S0[:, 0]
    ok = M > 1e-8 * M.max()  # rows with neighbours (compact kernels can leave none)
    Ms = np.where(ok, M, 1.0)
    EX = np.where(ok[:, None], S0[:, 2:] / Ms[:, None], X)
    if link == "kernel":
        _, S1, order = kernel_sums(t, U[:, :2], h, kernel, derivative=True, order=order,
                                   check_input=False)
        N = S0[:, 1]
        g = np.where(ok, N / Ms, 0.5)
        gp = np.where(ok, (S1[:, 1] * M - N * S1[:, 0]) / (Ms**2 * h), 0.0)
    else:
        from ..links.isotonic import IsotonicLink

        iso = IsotonicLink(clip=clip, interpolation="smooth").fit(t, z, sample_weight=w)
        g, gp = iso(t), iso.derivative(t)
    return np.clip(g, clip, 1.0 - clip), gp, EX, order


def score_fit(X, z, w, start, *, link="kernel", kernel="gaussian", bandwidth_factor=1.0,
              clip=1e-3, max_iter=50, tol=1e-3) -> ScoreFit:
    """Fisher scoring on the efficient score of a single index (module docstring).

    Performs no input validation (callers pass a validated full-rank design).

    Parameters
    ----------
    X : ndarray (n, p)
        Design (no intercept).
    z : ndarray (n,)
        Binary labels in {0, 1}.
    w : ndarray (n,)
        Nonnegative weights.
    start : ndarray (p,)
        Starting direction (e.g. the logistic fit); normalised here.
    link : {"kernel", "isotonic"}
    kernel : str
        Kernel of the smoother for ``E[X | t]`` (and for ``g`` with ``link="kernel"``).
    bandwidth_factor : float
        ``c`` in ``h = c * sigma * n^(-1/5)``.
    clip : float
        Link values are clipped to ``[clip, 1 - clip]``.
    max_iter : int
    tol : float
        Stop when the undamped step is smaller than ``tol`` radians.

    Returns
    -------
    ScoreFit
    """
    z = np.asarray(z, dtype=float)
    theta = np.asarray(start, dtype=float) / np.linalg.norm(start)
    p = theta.shape[0]
    n_eff = int(np.count_nonzero(w > 0))
    order = None
    steps = []
    converged = False
    h = np.nan
    relax, prev = 1.0, None
    it = 0
    for it in range(1, max_iter + 1):
        t = X @ theta
        h = bandwidth_factor * robust_spread(t, w) * n_eff ** (-0.2)
        if not np.isfinite(h) or h <= 0:
            break
        g, gp, EX, order = _nuisances(t, z, w, X, h, kernel, link, clip, order)
        R = X - EX
        var = g * (1.0 - g)
        S = R.T @ (w * (z - g) * gp / var)
        J = (R * (w * gp**2 / var)[:, None]).T @ R
        P = np.eye(p) - np.outer(theta, theta)
        scale = max(float(np.trace(J)) / p, 1e-300)
        A = P @ J @ P + scale * np.outer(theta, theta)
        step = P @ np.linalg.lstsq(A, P @ S, rcond=1e-12)[0]
        size = float(np.linalg.norm(step))
        if not np.isfinite(size):
            break
        steps.append(size)
        if size < tol:
            converged = True
            break
        if prev is not None and step @ prev < -0.5 * size * np.linalg.norm(prev):
            relax *= 0.5  # the step reverses the last one: overshooting, damp it
        prev = step
        step = relax * step
        if relax * size > _MAX_STEP:
            step *= _MAX_STEP / (relax * size)
        theta = theta + step
        theta /= np.linalg.norm(theta)
    if not converged:
        warnings.warn(
            f"Fisher scoring on the efficient score did not converge in {it} iterations "
            f"(last step {steps[-1] if steps else float('nan'):.2g} rad); the direction is "
            "the last iterate.", ConvergenceWarning, stacklevel=3,
        )
    return ScoreFit(theta, it, converged, float(h), tuple(steps))
