"""Covariance of the normalised coefficients of the leave-one-out kernel index models.

All estimators here are computed in the *bandwidth-one* parametrisation ``gamma`` on the
standardised design ``Xs = (X - mean) / sd`` (the index is ``Xs @ gamma`` and the kernel
bandwidth is 1), then mapped to the reported coefficients ``coef = normalize(gamma / sd)``
by the delta method with :func:`~semiparam.index._base.normalization_jacobian`.

The objective is flat along ``gamma`` itself only for a *fixed* bandwidth, but the
normalisation removes that direction anyway: the Jacobian ``J`` of the normalisation map
annihilates ``gamma``, so ``J V J'`` is the same for every generalised inverse ``V`` of
the (population) information whose null space is ``gamma``.  We therefore invert the
estimated Hessian on the subspace orthogonal to ``gamma`` (:func:`projected_pinv`), which
also discards the small, purely numerical component of the kernel estimate along
``gamma`` (``x'gamma - E[x'gamma | v]`` is not exactly zero for a smoothed ``E``).

Registry :data:`COVARIANCE` (one canonical name per class):

=============  ===========================================================================
``efficient``  Klein & Spady's semiparametric-efficient covariance ``H^-``, with
               ``H = sum_i w_i g'_i^2 / (g_i (1 - g_i)) R_i R_i'``, ``R_i = x_i - E[x | v_i]``
               (the inverse of the efficient information, Klein & Spady 1993, Theorem 5)
``sandwich``   ``H^- S H^-`` with ``S = sum_i w_i psi_i psi_i'`` from the per-row scores
               (robust; for Ichimura's least squares the asymptotic covariance itself,
               Ichimura 1993, Theorem 5.2, with ``H`` the Gauss–Newton Hessian)
``bootstrap``  the covariance of refits on resampled rows (:mod:`semiparam.index.bootstrap`,
               multinomial frequency weights; every refit runs the estimator's own
               deterministic search, no random starting values)
=============  ===========================================================================

Sample weights are treated as frequency weights (``S`` uses ``w_i``, not ``w_i^2``).

References
----------
Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for binary
response models. *Econometrica* 61(2), 387-421.
Ichimura, H. (1993). Semiparametric least squares (SLS) and weighted SLS estimation of
single-index models. *Journal of Econometrics* 58, 71-120.
Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 6.
"""

from __future__ import annotations

import numpy as np

from ._base import normalization_jacobian, normalize_direction
from .bootstrap import bootstrap

__all__ = [
    "projected_pinv",
    "to_normalised",
    "SandwichCovariance",
    "EfficientCovariance",
    "BootstrapCovariance",
    "COVARIANCE",
]


def projected_pinv(hessian, gamma, rcond: float = 1e-10, *, return_rank: bool = False):
    """Moore–Penrose inverse of ``P H P`` with ``P`` the projector orthogonal to ``gamma``.

    The one home of the tangent-space geometry of the unit sphere: the covariance
    estimators here and the Fisher-scoring steps of
    :mod:`semiparam.index.efficient_score` (step ``P H P^+ U``).  Eigenvalues of the
    symmetrised ``P H P`` at or below ``rcond`` times the largest (``gamma`` itself and
    any direction the data do not identify) are dropped; ``return_rank=True`` also
    returns how many were kept.
    """
    H = np.asarray(hessian, dtype=float)
    u = np.asarray(gamma, dtype=float)
    u = u / np.linalg.norm(u)
    P = np.eye(u.size) - np.outer(u, u)
    M = P @ H @ P
    lam, V = np.linalg.eigh(0.5 * (M + M.T))
    ok = lam > rcond * max(float(lam.max(initial=0.0)), 1e-300)
    V = V[:, ok]
    pinv = (V / lam[ok]) @ V.T
    return (pinv, int(ok.sum())) if return_rank else pinv


def to_normalised(cov_std, sd, gamma_orig, how: str):
    """Map a covariance of ``gamma`` (standardised coordinates) to the normalised ``coef``.

    ``sd`` is either the vector of column scales (``gamma_orig = gamma / sd``) or a
    matrix ``W`` of a whitening (``gamma_orig = W gamma``), and ``coef =
    normalize(gamma_orig)``; the delta method gives ``J D V D' J'`` with ``D = diag(1 /
    sd)`` (or ``W``) and ``J`` the normalisation Jacobian.
    """
    sd = np.asarray(sd, dtype=float)
    D = sd if sd.ndim == 2 else np.diag(1.0 / sd)
    J = normalization_jacobian(gamma_orig, how) @ D
    C = J @ np.asarray(cov_std, dtype=float) @ J.T
    return 0.5 * (C + C.T)


class SandwichCovariance:
    """``H^- S H^-``: a shared bread (:meth:`bread`) and a meat that subclasses override.

    Parameters
    ----------
    hessian : ndarray (d, d)
        Expected Hessian of the summed loss in ``gamma`` (standardised coordinates).
    score_obs : ndarray (n, d)
        Per-row scores (zero for trimmed rows and rows without neighbours).
    weights : ndarray (n,)
        Frequency weights of the rows in the objective.
    gamma : ndarray (d,)
        The estimate (its direction is projected out of the bread).
    """

    name = "sandwich"

    def __init__(self, hessian, score_obs, weights, gamma):
        self.hessian = np.asarray(hessian, dtype=float)
        self.score_obs = np.asarray(score_obs, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.gamma = np.asarray(gamma, dtype=float)

    def bread(self):
        return projected_pinv(self.hessian, self.gamma)

    def meat(self):
        s = self.score_obs
        return (s * self.weights[:, None]).T @ s

    def cov(self):
        """Covariance of ``gamma`` (standardised coordinates), singular along ``gamma``."""
        B = self.bread()
        C = B @ self.meat() @ B
        return 0.5 * (C + C.T)


class EfficientCovariance(SandwichCovariance):
    """Klein–Spady's efficient covariance: the meat equals the information (``H^- H H^- = H^-``)."""

    name = "efficient"

    def meat(self):
        return self.hessian


class BootstrapCovariance:
    """Covariance of bootstrap refits of the normalised coefficients.

    Parameters
    ----------
    refit : callable
        ``refit(weights) -> direction`` (unnormalised coefficients in the original
        coordinates) on the same rows with new frequency weights; it performs no input
        checks (the estimator's ``_fit_core``).
    weights : ndarray (n,)
        The original row weights; replicate ``b`` uses ``weights * counts_b`` with
        ``counts_b ~ Multinomial(n, 1/n)`` (rows resampled with replacement).
    coef : ndarray (d,)
        The full-sample normalised coefficients (sign reference for ``normalize="unit"``).
    how : {"unit", "first"}
    n_bootstrap : int
    random_state : None, int or numpy Generator

    Notes
    -----
    Resampling by frequency weights rather than by duplicating rows keeps the
    leave-one-out link honest: a row drawn twice is left out together with its copy.
    Replicates whose refit fails (for example, a resample with a single class) are
    skipped and counted in ``n_failed``.
    """

    name = "bootstrap"

    def __init__(self, refit, weights, coef, how, n_bootstrap, random_state):
        self.refit = refit
        self.weights = np.asarray(weights, dtype=float)
        self.coef = np.asarray(coef, dtype=float)
        self.how = how
        self.n_bootstrap = int(n_bootstrap)
        self.random_state = random_state
        self.result = None
        self.replicates = None
        self.n_failed = 0

    def _normalised(self, wb):
        c, _ = normalize_direction(self.refit(wb), self.how)
        if self.how == "unit" and c @ self.coef < 0:
            c = -c
        return c

    def run(self):
        self.result = bootstrap(self._normalised, self.weights.size, weights=self.weights,
                                scheme="multinomial", n_replicates=self.n_bootstrap,
                                random_state=self.random_state, dim=self.coef.size)
        self.replicates = self.result.replicates
        self.n_failed = self.result.n_failed
        return self

    def cov(self):
        """Sample covariance of the normalised replicates (needs at least 2)."""
        if self.replicates is None:
            self.run()
        return self.result.cov


#: covariance estimators by canonical name
COVARIANCE = {
    "efficient": EfficientCovariance,
    "sandwich": SandwichCovariance,
    "bootstrap": BootstrapCovariance,
}
