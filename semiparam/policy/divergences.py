"""f-divergences and the f-optimal (tilted) policy.

For a convex ``f`` with ``f(1) = 0`` the divergence of a discrete distribution ``p``
from ``q`` is ``D_f(p || q) = sum_a q_a f(p_a / q_a)``.  Maximising
``sum_a pi_a s_a - beta D_f(pi || q)`` over the simplex gives (KKT, Lagrange multiplier
``lambda`` of ``sum pi = 1``)

    pi_a = q_a (f')^{-1}((s_a - lambda) / beta),

with ``(f')^{-1}`` extended by zero below the range of ``f'`` (support truncation: an
action whose score is too low gets no mass, as for Pearson chi-squared) and ``lambda``
chosen per context so that the probabilities sum to one.  :meth:`FDivergence.optimal_policy`
finds ``lambda`` for many contexts at once by a safeguarded Newton iteration inside a
bracket that is known in closed form; KL has the closed form ``softmax(log q + s/beta)``.

Registry :data:`DIVERGENCES` (one canonical name each):

=================  =====================================  ===========================
name               ``f(u)``                               ``f'(u)``
=================  =====================================  ===========================
``"kl"``           ``u log u``                            ``1 + log u``
``"reverse_kl"``   ``-log u``                             ``-1/u``
``"chi2"``         ``(u - 1)^2`` (Pearson)                ``2 (u - 1)``
``"hellinger"``    ``(sqrt(u) - 1)^2`` (squared)          ``1 - 1/sqrt(u)``
``"alpha"``        ``(u^a - 1 - a(u-1)) / (a(a-1))``      ``(u^(a-1) - 1)/(a - 1)``
=================  =====================================  ===========================

``"alpha"`` is parametrised (``get_divergence("alpha", alpha=0.5)``); ``alpha = 2`` is
half of Pearson chi-squared and ``alpha = 1/2`` twice the squared Hellinger distance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy import special

__all__ = [
    "FDivergence",
    "KLDivergence",
    "ReverseKLDivergence",
    "ChiSquaredDivergence",
    "HellingerDivergence",
    "AlphaDivergence",
    "DIVERGENCES",
    "get_divergence",
]

_MAX_ITER = 200


class FDivergence(ABC):
    """Base class of f-divergences between discrete distributions.

    Subclasses define ``f``, ``fprime``, ``_inv`` (the inverse of ``f'`` on the
    interior of its range), ``_inv_derivative`` and the range ``(range_low,
    range_high)`` of ``f'`` on ``(0, inf)``, plus ``f_at_zero = f(0+)``.
    """

    name = "f"
    range_low = -np.inf
    range_high = np.inf
    f_at_zero = np.inf

    # -- the generator -----------------------------------------------------------
    @abstractmethod
    def f(self, u):
        """The convex generator ``f(u)``, ``u >= 0``."""

    @abstractmethod
    def fprime(self, u):
        """Its derivative ``f'(u)``, ``u > 0``."""

    @abstractmethod
    def _inv(self, v):
        """Inverse of ``f'`` on the interior of its range."""

    @abstractmethod
    def _inv_derivative(self, v):
        """Derivative of :meth:`_inv`."""

    def fprime_inv(self, v):
        """``(f')^{-1}(v)`` extended to the real line.

        Zero below the range of ``f'`` (truncation), ``+inf`` at or above its supremum.
        """
        v = np.asarray(v, dtype=float)
        out = np.zeros_like(v)
        inside = (v > self.range_low) & (v < self.range_high)
        out[v >= self.range_high] = np.inf
        with np.errstate(all="ignore"):
            out[inside] = self._inv(v[inside])
        return out

    def fprime_inv_derivative(self, v):
        """Derivative of :meth:`fprime_inv` (zero where truncated, ``inf`` above)."""
        v = np.asarray(v, dtype=float)
        out = np.zeros_like(v)
        inside = (v > self.range_low) & (v < self.range_high)
        out[v >= self.range_high] = np.inf
        with np.errstate(all="ignore"):
            out[inside] = self._inv_derivative(v[inside])
        return out

    # -- divergence of distributions -----------------------------------------------
    def divergence(self, p, q, axis=-1):
        """``D_f(p || q) = sum_a q_a f(p_a / q_a)`` along ``axis``.

        Terms with ``q_a = 0`` must have ``p_a = 0`` (otherwise the divergence is
        infinite) and contribute nothing.
        """
        p = np.asarray(p, dtype=float)
        q = np.asarray(q, dtype=float)
        p, q = np.broadcast_arrays(p, q)
        pos = q > 0
        terms = np.zeros(p.shape)
        with np.errstate(all="ignore"):
            u = np.where(pos, p / np.where(pos, q, 1.0), 1.0)
            fu = np.where(u > 0, self.f(np.where(u > 0, u, 1.0)), self.f_at_zero)
            terms = np.where(pos, q * fu, 0.0)
        terms = np.where(~pos & (p > 0), np.inf, terms)
        return np.sum(terms, axis=axis)

    # -- the f-optimal policy ------------------------------------------------------
    def optimal_policy(self, scores, ref_probs, beta):
        """Maximiser of ``<pi, s> - beta D_f(pi || q)`` over the simplex, per row.

        Parameters
        ----------
        scores : ndarray of shape (n, k)
            Scores ``s(x, a)`` (rewards up to a per-context constant).
        ref_probs : ndarray of shape (n, k)
            Reference distributions ``q`` (rows sum to one; zeros allowed).
        beta : float
            Strength of the divergence penalty, ``beta >= 0``; ``beta = 0`` returns the
            greedy limit (the reference restricted to the argmax set).

        Returns
        -------
        ndarray of shape (n, k)
            The policy ``q (f')^{-1}((s - lambda)/beta)``.
        """
        s, q = _prepare(scores, ref_probs)
        if beta == 0:
            return greedy_policy(s, q)
        with np.errstate(all="ignore"):
            lam = self._solve_lambda(s, q, float(beta))
            pi = self._tilted(s, q, lam, beta, self.fprime_inv)
            pi = pi / pi.sum(axis=1, keepdims=True)
        bad = ~np.all(np.isfinite(pi), axis=1)
        if bad.any():
            # score gaps / beta overflow: every other action's mass is far below double
            # precision, so the tilt is the greedy limit to working precision
            pi[bad] = greedy_policy(s[bad], q[bad])
        return pi

    def _tilted(self, s, q, lam, beta, fn):
        """``q * fn((s - lam)/beta)``, zero where ``q`` is (no ``0 * inf``)."""
        with np.errstate(over="ignore"):  # |v| = inf maps to 0 or inf, as it should
            v = (s - lam[:, None]) / beta
        out = np.zeros_like(v)
        pos = q > 0
        out[pos] = q[pos] * fn(v[pos])
        return out

    def _solve_lambda(self, s, q, beta):
        """Vectorised safeguarded Newton for ``sum_a q_a g((s_a - lam)/beta) = 1``."""
        sup = np.where(q > 0, s, -np.inf).max(axis=1)
        inf_ = np.where(q > 0, s, np.inf).min(axis=1)
        c1 = float(self.fprime(1.0))
        hi = sup - beta * c1  # every argument <= f'(1): sum <= 1
        lo = inf_ - beta * c1  # every argument >= f'(1): sum >= 1
        if np.isfinite(self.range_high):
            lo = np.maximum(lo, sup - beta * self.range_high)
        lam = hi.copy()
        scale = np.maximum(np.abs(hi), 1.0) + beta

        def h_and_slope(lam_):
            g = self._tilted(s, q, lam_, beta, self.fprime_inv)
            dg = self._tilted(s, q, lam_, beta, self.fprime_inv_derivative)
            return g.sum(axis=1) - 1.0, -dg.sum(axis=1) / beta

        active = np.ones(lam.shape[0], dtype=bool)
        for _ in range(_MAX_ITER):
            h, slope = h_and_slope(lam)
            done = (np.abs(h) <= 1e-14) | (hi - lo <= 1e-15 * scale)
            active &= ~done
            if not active.any():
                break
            # bracket update (h decreases in lambda)
            lo = np.where(active & (h > 0), lam, lo)
            hi = np.where(active & (h < 0), lam, hi)
            with np.errstate(all="ignore"):
                step = lam - h / slope
            ok = np.isfinite(step) & (step > lo) & (step < hi)
            new = np.where(ok, step, 0.5 * (lo + hi))
            lam = np.where(active, new, lam)
        return lam

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _prepare(scores, ref_probs):
    s = np.atleast_2d(np.asarray(scores, dtype=float))
    q = np.atleast_2d(np.asarray(ref_probs, dtype=float))
    s, q = np.broadcast_arrays(s, q)
    return s, q


def greedy_policy(scores, ref_probs):
    """The ``beta -> 0`` limit: the reference restricted to the best-scoring actions."""
    s, q = _prepare(scores, ref_probs)
    masked = np.where(q > 0, s, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    tol = 1e-12 * np.maximum(np.abs(best), 1.0)
    top = (masked >= best - tol) & (q > 0)
    pi = np.where(top, q, 0.0)
    return pi / pi.sum(axis=1, keepdims=True)


class KLDivergence(FDivergence):
    """Kullback–Leibler divergence ``sum p log(p/q)``; the tilt is a softmax."""

    name = "kl"
    f_at_zero = 0.0

    def f(self, u):
        u = np.asarray(u, dtype=float)
        return special.xlogy(u, u)

    def fprime(self, u):
        return 1.0 + np.log(u)

    def _inv(self, v):
        return np.exp(v - 1.0)

    def _inv_derivative(self, v):
        return np.exp(v - 1.0)

    def divergence(self, p, q, axis=-1):
        p = np.asarray(p, dtype=float)
        q = np.asarray(q, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = special.rel_entr(p, q)
        return np.sum(terms, axis=axis)

    def optimal_policy(self, scores, ref_probs, beta):
        s, q = _prepare(scores, ref_probs)
        if beta == 0:
            return greedy_policy(s, q)
        pos = q > 0
        top = np.where(pos, s, -np.inf).max(axis=1, keepdims=True)
        with np.errstate(divide="ignore", over="ignore"):
            # scores relative to the best action with reference mass: no +inf at tiny beta
            logits = np.where(pos, np.log(np.where(pos, q, 1.0)) + (s - top) / beta, -np.inf)
        return special.softmax(logits, axis=1)


class ReverseKLDivergence(FDivergence):
    """Reverse KL ``sum q log(q/p)``: ``f(u) = -log u``."""

    name = "reverse_kl"
    range_high = 0.0

    def f(self, u):
        return -np.log(u)

    def fprime(self, u):
        return -1.0 / np.asarray(u, dtype=float)

    def _inv(self, v):
        return -1.0 / v

    def _inv_derivative(self, v):
        return 1.0 / (v * v)

    def optimal_policy(self, scores, ref_probs, beta):
        """``pi_a = q_a beta / (lambda - s_a)``, solved in a scale-free parametrisation.

        With ``lambda = max_a s_a + beta mu`` and gaps ``c_a = (max s - s_a) / beta >= 0``
        the policy is ``pi_a = q_a / (mu + c_a)`` and ``mu`` solves
        ``sum_a q_a / (mu + c_a) = 1`` on ``[Q_0, 1]`` (``Q_0`` the reference mass of the
        best actions): no cancellation in ``lambda - s_a``, so the policy stays finite and
        exact however small ``beta`` (or large the scores) are; ``c_a = inf`` (overflow)
        is a zero probability.
        """
        s, q = _prepare(scores, ref_probs)
        if beta == 0:
            return greedy_policy(s, q)
        beta = float(beta)
        pos = q > 0
        top = np.where(pos, s, -np.inf).max(axis=1, keepdims=True)
        with np.errstate(over="ignore"):
            c = np.where(pos, (top - s) / beta, np.inf)
        lo = np.where(c == 0, q, 0.0).sum(axis=1)
        hi = np.ones_like(lo)
        mu = hi.copy()
        for _ in range(_MAX_ITER):
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(pos, q / (mu[:, None] + c), 0.0)
                h = terms.sum(axis=1) - 1.0
                slope = -np.where(pos, terms / (mu[:, None] + c), 0.0).sum(axis=1)
            lo = np.where(h > 0, mu, lo)
            hi = np.where(h < 0, mu, hi)
            if np.all((np.abs(h) <= 1e-15) | (hi - lo <= 1e-16 * hi)):
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                step = mu - h / slope
            ok = np.isfinite(step) & (step > lo) & (step < hi)
            mu = np.where(ok, step, 0.5 * (lo + hi))
        pi = np.where(pos, q / (mu[:, None] + c), 0.0)
        return pi / pi.sum(axis=1, keepdims=True)


class ChiSquaredDivergence(FDivergence):
    """Pearson chi-squared ``sum (p - q)^2 / q``: the tilt truncates low scores to zero."""

    name = "chi2"
    range_low = -2.0
    f_at_zero = 1.0

    def f(self, u):
        u = np.asarray(u, dtype=float)
        return (u - 1.0) ** 2

    def fprime(self, u):
        return 2.0 * (np.asarray(u, dtype=float) - 1.0)

    def _inv(self, v):
        return 1.0 + 0.5 * v

    def _inv_derivative(self, v):
        return np.full_like(v, 0.5)


class HellingerDivergence(FDivergence):
    """Squared Hellinger distance ``sum (sqrt(p) - sqrt(q))^2`` (no factor 1/2)."""

    name = "hellinger"
    range_high = 1.0
    f_at_zero = 1.0

    def f(self, u):
        u = np.asarray(u, dtype=float)
        return (np.sqrt(u) - 1.0) ** 2

    def fprime(self, u):
        return 1.0 - 1.0 / np.sqrt(np.asarray(u, dtype=float))

    def _inv(self, v):
        return 1.0 / (1.0 - v) ** 2

    def _inv_derivative(self, v):
        return 2.0 / (1.0 - v) ** 3


class AlphaDivergence(FDivergence):
    """Amari alpha-divergence, ``f(u) = (u^a - 1 - a (u - 1)) / (a (a - 1))``.

    Parameters
    ----------
    alpha : float
        Any real number except 0 and 1 (their limits are ``"reverse_kl"`` and ``"kl"``).
    """

    name = "alpha"

    def __init__(self, alpha: float = 0.5):
        alpha = float(alpha)
        if not np.isfinite(alpha) or alpha in (0.0, 1.0):
            raise ValueError(
                f"alpha must be a finite number other than 0 and 1 (use 'reverse_kl' or "
                f"'kl' for those limits); got {alpha!r}."
            )
        self.alpha = alpha
        if alpha > 1:
            self.range_low, self.range_high = -1.0 / (alpha - 1.0), np.inf
        else:
            self.range_low, self.range_high = -np.inf, 1.0 / (1.0 - alpha)
        self.f_at_zero = 1.0 / alpha if alpha > 0 else np.inf

    def f(self, u):
        a = self.alpha
        u = np.asarray(u, dtype=float)
        return (u**a - 1.0 - a * (u - 1.0)) / (a * (a - 1.0))

    def fprime(self, u):
        a = self.alpha
        return (np.asarray(u, dtype=float) ** (a - 1.0) - 1.0) / (a - 1.0)

    def _inv(self, v):
        a = self.alpha
        return (1.0 + (a - 1.0) * v) ** (1.0 / (a - 1.0))

    def _inv_derivative(self, v):
        a = self.alpha
        return (1.0 + (a - 1.0) * v) ** (1.0 / (a - 1.0) - 1.0)

    def __repr__(self) -> str:
        return f"AlphaDivergence(alpha={self.alpha!r})"


DIVERGENCES = {
    cls.name: cls
    for cls in (
        KLDivergence,
        ReverseKLDivergence,
        ChiSquaredDivergence,
        HellingerDivergence,
        AlphaDivergence,
    )
}


def get_divergence(divergence="kl", **params) -> FDivergence:
    """Resolve an f-divergence by canonical name, or pass an instance through.

    Parameters
    ----------
    divergence : str or FDivergence
        One of :data:`DIVERGENCES` (``"kl"``, ``"reverse_kl"``, ``"chi2"``,
        ``"hellinger"``, ``"alpha"``) or an :class:`FDivergence` instance.
    **params
        Parameters of a parametrised family (``alpha=`` for ``"alpha"``).

    Returns
    -------
    FDivergence
    """
    if isinstance(divergence, FDivergence):
        if params:
            raise ValueError("Parameters can only be given with a divergence name, not an instance.")
        return divergence
    if not isinstance(divergence, str) or divergence not in DIVERGENCES:
        raise ValueError(
            f"Unknown divergence {divergence!r}; choose one of {sorted(DIVERGENCES)} or "
            "pass an FDivergence instance."
        )
    return DIVERGENCES[divergence](**params)
