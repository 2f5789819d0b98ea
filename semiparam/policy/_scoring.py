"""Orthogonalized single-index direction by Fisher scoring on the efficient score (OSPO).

Model: ``P(z = 1 | X) = g(X'theta)`` with ``g`` unknown, ``theta`` on the unit sphere.
With ``t = X'theta`` and the residual design ``R = X - E[X | t]``, the efficient score of
``theta`` is

    S(theta) = sum_i w_i c_i R_i (z_i - g(t_i)),   c_i = g'(t_i) / (g(t_i)(1 - g(t_i))),

orthogonal to the link: its derivative in any direction of link perturbation is zero,
so first-order error in the estimates of ``g``, ``g'`` and ``E[X | t]`` does not move the
root (Klein & Spady 1993).  It is the gradient of OSPO's surrogate
loss ``-sum_i c_i (t_i - sum_j Kbar_ij t_j)`` with the weights ``c_i`` and the kernel
weights ``Kbar`` held fixed.  Nuisances: leave-one-out Nadaraya-Watson estimates of
``g`` and of its derivative (the derivative of the ratio, from kernel-derivative sums),
and of every column of ``E[X | t]``, all from the exact ``O(n log n)`` sums of
:mod:`semiparam._kernels`.  Bandwidth ``h = c * sigma * n^(-1/5)`` with the robust spread
``sigma = min(sd(t), IQR(t)/1.349)`` (:func:`semiparam.stats.robust_spread`, weighted
quartiles): a plain ``sd`` oversmooths when the index is a
heavy-tailed mixture (pairs of actions on very different scales), which biases ``g'`` and
``E[X | t]`` exactly where the link is steep.

:func:`score_fit` solves ``S = 0`` in the tangent space of the sphere by Fisher scoring,

    theta <- normalise(theta + P J_P^+ P S),   P = I - theta theta',
    J = sum_i w_i c_i g'(t_i) R_i R_i',

starting from the logistic (DPO) direction, in two phases (the scheme of
:class:`~semiparam.index.IsotonicIndexClassifier`):

1. *pilot* (at least ``n_pilot`` iterations and until the remaining step is below one
   standard error per direction): every nuisance is re-estimated at every iterate;
2. *frozen*: ``c_i``, ``E[X | t_i]``, ``h`` and ``J`` are kept from the last pilot iterate
   and only the link residual ``z_i - g_{-i}(t_i)`` follows ``theta``.  The weights
   depend on the data only through the design, so the equation stays unbiased at the
   truth; the point is numerical: with ~180 coefficients the data-dependent part of
   re-estimated weights adds noise to the Jacobian comparable to ``J`` itself, and fully
   re-estimated iterates jitter or fall into a period-two oscillation.

It stops when the Newton decrement per direction ``step' J step / (p - 1)`` -- the
squared remaining step in standard-error units -- falls below ``tol``.  As a safeguard a
step that reverses the previous one (cosine below -1/2) halves all later steps, and no
step exceeds 0.5 radians.  A pilot iteration costs the kernel sums of ``p + 2`` columns
and ``O(n p^2)`` for ``J``; a frozen one two columns and ``O(n p)``.

Why not the Klein-Spady likelihood itself?  Maximising the leave-one-out
quasi-likelihood differentiates through the neighbours' positions too; with ~180
coefficients that freedom overfits (measured in ``docs/policy.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import ConvergenceWarning, warn
from ..links import kernel_sums
from ..stats import robust_spread

__all__ = ["score_fit", "ScoreFit"]

#: largest step (radians) taken in one scoring iteration
_MAX_STEP = 0.5


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
    decrements : tuple of float
        Newton decrement per direction of each step, ``step' J step / (p - 1)``: the
        squared remaining step in units of the estimated standard errors.
    """

    coef: np.ndarray
    n_iter: int
    converged: bool
    bandwidth: float
    step_norms: tuple
    decrements: tuple


def _link_sums(t, z, w, h, kernel, order, derivative):
    """Leave-one-out kernel sums of ``[w, w z]`` (and of ``K'``) at the index."""
    U = np.column_stack([w, w * z])
    S0, S1, order = kernel_sums(t, U, h, kernel, derivative=derivative, order=order,
                                check_input=False)
    M = S0[:, 0]
    ok = M > 1e-8 * M.max()  # rows with neighbours (compact kernels can leave none)
    return S0, S1, M, ok, order


def _link(t, z, w, h, kernel, clip, order):
    """Leave-one-out Nadaraya-Watson estimate ``g_{-i}(t_i)``, clipped."""
    S0, _, M, ok, order = _link_sums(t, z, w, h, kernel, order, False)
    g = np.where(ok, S0[:, 1] / np.where(ok, M, 1.0), 0.5)
    return np.clip(g, clip, 1.0 - clip), order


def _nuisances(t, z, w, X, h, kernel, clip, order):
    """``g``, ``g'`` (leave-one-out kernel link) and ``E[X | t]`` at the current index."""
    S0, S1, M, ok, order = _link_sums(t, z, w, h, kernel, order, True)
    Ms = np.where(ok, M, 1.0)
    N = S0[:, 1]
    g = np.where(ok, N / Ms, 0.5)
    gp = np.where(ok, (S1[:, 1] * M - N * S1[:, 0]) / (Ms**2 * h), 0.0)
    SX, _, order = kernel_sums(t, w[:, None] * X, h, kernel, order=order, check_input=False)
    EX = np.where(ok[:, None], SX / Ms[:, None], X)
    return np.clip(g, clip, 1.0 - clip), gp, EX, order


def _tangent_step(theta, J, S):
    """``P J_P^+ P S`` with ``P = I - theta theta'`` (the step on the sphere)."""
    p = theta.shape[0]
    P = np.eye(p) - np.outer(theta, theta)
    scale = max(float(np.trace(J)) / p, 1e-300)
    A = P @ J @ P + scale * np.outer(theta, theta)
    return P @ np.linalg.lstsq(A, P @ S, rcond=1e-12)[0]


def score_fit(X, z, w, start, *, kernel="gaussian", bandwidth_factor=1.0, clip=1e-3,
              n_pilot=3, max_iter=50, tol=0.01) -> ScoreFit:
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
    kernel : str
        Kernel of the leave-one-out smoothers (link and ``E[X | t]``).
    bandwidth_factor : float
        ``c`` in ``h = c * sigma * n^(-1/5)``.
    clip : float
        Link values are clipped to ``[clip, 1 - clip]``.
    n_pilot : int
        Least number of pilot iterations (nuisances re-estimated at every iterate);
        the pilot ends once the remaining step is below one standard error per
        direction, and the weights, the centring and ``J`` are then frozen.
    max_iter : int
        Largest number of iterations, pilot and frozen together.
    tol : float
        Stop when the Newton decrement per direction of the (undamped) step,
        ``step' J step / (p - 1)``, is below ``tol``: the remaining step is then about
        ``sqrt(tol)`` standard errors per direction (0.1 for the default), far below the
        sampling error of the root.

    Returns
    -------
    ScoreFit
        The converged iterate, or (not converged) the one with the smallest decrement.
    """
    z = np.asarray(z, dtype=float)
    theta = np.asarray(start, dtype=float) / np.linalg.norm(start)
    p = theta.shape[0]
    n_eff = int(np.count_nonzero(w > 0))
    order = None
    steps, decrements = [], []
    converged = frozen = False
    h = np.nan
    relax, prev = 1.0, None
    best = (np.inf, theta)
    it = 0
    for it in range(1, max_iter + 1):
        t = X @ theta
        if frozen:  # only the link residual follows theta
            g, order = _link(t, z, w, h, kernel, clip, order)
        else:
            h = bandwidth_factor * robust_spread(t, w, check_input=False) * n_eff ** (-0.2)
            if not np.isfinite(h) or h <= 0:
                break
            g, gp, EX, order = _nuisances(t, z, w, X, h, kernel, clip, order)
            R = X - EX
            var = g * (1.0 - g)
            c = w * gp / var
            J = (R * (c * gp)[:, None]).T @ R
        step = _tangent_step(theta, J, R.T @ (c * (z - g)))
        size = float(np.linalg.norm(step))
        decrement = float(step @ J @ step) / max(p - 1, 1)
        if not np.isfinite(size) or not np.isfinite(decrement):
            break
        steps.append(size)
        decrements.append(decrement)
        if decrement < best[0]:
            best = (decrement, theta)
        if decrement < tol:
            converged = True
            break
        if not frozen and it >= n_pilot and decrement < 1.0:
            frozen = True
        if prev is not None and step @ prev < -0.5 * size * np.linalg.norm(prev):
            relax *= 0.5  # the step reverses the last one: overshooting, damp it
        prev = step
        step = relax * step
        if relax * size > _MAX_STEP:
            step *= _MAX_STEP / (relax * size)
        theta = theta + step
        theta /= np.linalg.norm(theta)
    if not converged:
        theta = best[1]
        warn(
            f"Fisher scoring on the efficient score did not converge in {it} iterations "
            f"(smallest Newton decrement per direction {best[0]:.2g} > tol = {tol:g}); "
            "returning that iterate.", ConvergenceWarning
        )
    return ScoreFit(theta, it, converged, float(h), tuple(steps), tuple(decrements))
