"""One engine for the efficient score of the binary single-index model.

Model: ``P(z = 1 | x) = g(x'b)`` with ``g`` unknown and ``b`` on the unit sphere.  With
``t = x'b``, ``m(t) = E[x | t]`` and ``c = g' / (g (1 - g))`` the efficient score is

    U(b) = sum_i w_i c_i (x_i - m(t_i)) (z_i - g(t_i)),

orthogonal to the link (Neyman orthogonality): its derivative along any perturbation of
``g`` vanishes, so first-order error in the estimates of ``g``, ``g'`` and ``m`` does not
move its root (Cosslett 1987; Klein & Spady 1993).  Its Jacobian is estimated by the
information ``H = sum_i w_i c_i g'(t_i) (x_i - m_i)(x_i - m_i)'``.

Nuisance providers
------------------
The engine (:func:`solve_efficient_score`) never estimates a nuisance itself.  A
*provider* does, through two methods:

``pilot(b) -> Nuisances or None``
    re-estimate everything at the index ``X b``: the weights ``w_i c_i`` of the score
    and ``w_i c_i g'_i`` of ``H``, the centring ``m`` (through ``Nuisances.score`` and
    ``Nuisances.gram``) and the link residual ``z - g``; None, or nuisances marked not
    ``informative``, when the data carry no information about the direction there (a
    constant link);
``residual(b, nuisances) -> ndarray or None``
    only the link residual ``z - g(X b)`` at a new ``b``, with the rest held.

Two providers exist: the isotonic one of :class:`~semiparam.index.IsotonicIndexClassifier`
(the link profiled out by PAVA, ``g'`` from its kernel-smoothed version, ``m`` by binned
kernel regression) and :class:`LeaveOneOutKernelProvider` here (``g``, ``g'`` and ``m``
leave-one-out Nadaraya-Watson estimates read from
:meth:`semiparam.index._objective.LOOObjective.nuisances`, the machinery of the
Klein-Spady objective), used by :class:`~semiparam.index.KernelScoreIndexClassifier` and
so by the OSPO policy learner.

The loop
--------
Fisher scoring on the sphere, ``b <- normalise(b + P H_P^+ P U)`` with ``P = I - b b'``
(the tangent geometry of :func:`semiparam.index._inference.projected_pinv`), in two phases:

1. *pilot* (at least ``n_pilot`` iterations, and until the last step was below one
   standard error per direction): every nuisance is re-estimated at every iterate.
   ``H`` is recomputed at the first iterate, after steps above ``refresh`` and where
   the weights freeze; in between the last one serves (it changes little once steps
   are small, and it is the ``O(n d^2)`` part);
2. *frozen*: the weights, the centring and ``H`` stay at the last pilot iterate and
   only the link residual follows ``b``.  With weights that depend on the data only
   through ``x`` the equation stays unbiased at the truth and is asymptotically the
   same estimator; the point is numerical: when the weights move with ``b``, their
   data-dependent part adds noise to the Jacobian comparable to ``H`` when ``d`` is
   large, and fully re-estimated iterates jitter or fall into a period-two oscillation.

The Newton decrement per direction ``U' H_P^+ U / (d - 1)`` is the squared remaining
step in standard-error units.  The loop stops at the first frozen iterate where it is
below ``tol``, after one more free Newton step if that lowers it; otherwise it returns
the frozen iterate with the smallest decrement (``converged = False``; the caller warns
with :class:`~semiparam.exceptions.ConvergenceWarning`).  Safeguards: no step exceeds
``max_step`` radians, and a step that reverses the previous one (cosine below -1/2:
overshooting) halves every later step.

References
----------
Cosslett, S. R. (1987). Efficiency bounds for distribution-free estimators of the binary
choice and the censored regression models. *Econometrica* 55(3), 559-585.
Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for binary
response models. *Econometrica* 61(2), 387-421.
Balabdaoui, F., Groeneboom, P. and Hendrickx, K. (2019). Score estimation in the monotone
single-index model. *Scand. J. Statist.* 46(2), 517-544.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from ..stats import robust_spread
from ._inference import projected_pinv
from ._objective import BernoulliLoss, LOOObjective

__all__ = [
    "Nuisances",
    "DenseNuisances",
    "ScoreSolution",
    "LeaveOneOutKernelProvider",
    "solve_efficient_score",
]

#: largest step (radians on the unit sphere) of one iteration
MAX_STEP = 0.5
#: least number of pilot iterations
N_PILOT = 3
#: the weights freeze (and H is reused in the pilot) once the last step was below this
#: decrement per direction (one standard error)
REFRESH = 1.0


class Nuisances(ABC):
    """The nuisances of one pilot iterate (a provider subclasses it).

    Attributes
    ----------
    wc : ndarray (n,)
        ``w_i c_i``, the weights of the score.
    q : ndarray (n,)
        ``w_i c_i g'_i``, the weights of the step matrix ``H``.
    residual : ndarray (n,)
        ``z - g`` at the pilot iterate.
    h : float
        Bandwidth of the link derivative (index units).
    informative : bool
        False where the link estimate is constant (the engine then stops, ``"flat"``).
    """

    wc: np.ndarray
    q: np.ndarray
    residual: np.ndarray
    h: float
    informative: bool = True

    @abstractmethod
    def score(self, a):
        """``sum_i a_i (x_i - m_i)`` with the frozen centring."""

    @abstractmethod
    def gram(self, q):
        """``sum_i q_i (x_i - m_i)(x_i - m_i)'``."""


@dataclass
class DenseNuisances(Nuisances):
    """Nuisances with the centred design ``R = X - m`` held as a dense matrix."""

    R: np.ndarray
    wc: np.ndarray
    q: np.ndarray
    residual: np.ndarray
    h: float

    def score(self, a):
        return self.R.T @ a

    def gram(self, q):
        Rq = self.R * q[:, None]
        G = Rq.T @ self.R
        return 0.5 * (G + G.T)


@dataclass
class ScoreSolution:
    """Outcome of :func:`solve_efficient_score`.

    ``status`` is ``"ok"``, ``"maxiter"`` or ``"flat"`` (no information about the
    direction: a constant link or a vanishing ``H``).  ``nuisances`` and ``pinv`` are
    those in force at ``b`` (``pinv``: the tangent pseudo-inverse of ``H``);
    ``decrements`` and ``step_norms`` list every iteration's undamped step.
    """

    b: np.ndarray
    n_iter: int
    converged: bool
    status: str
    decrement: float
    nuisances: Nuisances | None
    pinv: np.ndarray | None
    step_norms: tuple = field(default=())
    decrements: tuple = field(default=())


def _decrement(pinv, U, b, d):
    step = pinv @ U
    step -= b * (b @ step)
    return step, float(U @ step) / max(d - 1, 1)


def _move(b, step, max_step):
    norm = float(np.linalg.norm(step))
    if norm > max_step:
        step = step * (max_step / norm)
    b = b + step
    return b / np.linalg.norm(b)


def solve_efficient_score(provider, start, *, max_iter, tol, n_pilot=N_PILOT,
                          refresh=REFRESH, max_step=MAX_STEP) -> ScoreSolution:
    """Fisher scoring on the efficient score from ``start`` (module docstring).

    Parameters
    ----------
    provider
        ``pilot(b)`` and ``residual(b, nuisances)`` (module docstring).
    start : ndarray (d,)
        Nonzero starting direction (normalised here).
    max_iter : int
        Largest number of iterations, pilot and frozen together (0: return ``start``).
    tol : float
        Decrement per direction below which a frozen iterate is accepted.
    n_pilot, refresh, max_step
        The pilot length, the freezing threshold and the step cap (module docstring).

    Returns
    -------
    ScoreSolution
    """
    b = np.asarray(start, dtype=float)
    b = b / np.linalg.norm(b)
    d = b.shape[0]
    nu, pinv, best = None, None, None
    frozen, prev, relax, prev_step = False, np.inf, 1.0, None
    steps, decs = [], []

    def out(b, it, converged, status, dec):
        return ScoreSolution(b, it, converged, status, dec, nu, pinv, tuple(steps), tuple(decs))

    it = 0
    for it in range(1, max_iter + 1):
        if not frozen:
            new = provider.pilot(b)
            if new is None or not new.informative:
                nu = nu if new is None else new
                return out(b, it, False, "flat", np.nan)
            frozen = it >= n_pilot and prev <= refresh
            if pinv is None or frozen or prev > refresh:
                pinv, rank = projected_pinv(new.gram(new.q), b, return_rank=True)
                if rank == 0:
                    nu = new
                    return out(b, it, False, "flat", np.nan)
            nu = new
            r = nu.residual
        else:
            r = provider.residual(b, nu)
            if r is None:
                return out(b, it, False, "flat", np.nan)
        U = nu.score(nu.wc * r)
        step, dec = _decrement(pinv, U, b, d)
        if not np.isfinite(dec):
            return out(b, it, False, "flat", np.nan)
        size = float(np.linalg.norm(step))
        steps.append(size)
        decs.append(dec)
        if frozen and (best is None or dec < best[1]):
            best = (b, dec)
        if prev_step is not None and step @ prev_step < -0.5 * size * np.linalg.norm(prev_step):
            relax *= 0.5  # the step reverses the last one: overshooting, damp the rest
        prev_step = step
        b_next = _move(b, relax * step, max_step)
        if frozen and dec < tol:
            # one more (sub-tolerance) Newton step is free: keep it where it helps
            r = provider.residual(b_next, nu)
            if r is not None:
                _, new_dec = _decrement(pinv, nu.score(nu.wc * r), b_next, d)
                if new_dec < best[1]:
                    best = (b_next, new_dec)
            return out(best[0], it, True, "ok", best[1])
        b = b_next
        prev = dec
    if best is None:  # max_iter ended inside the pilot phase (or max_iter = 0)
        return out(b, it, False, "maxiter", decs[-1] if decs else np.nan)
    return out(best[0], it, False, "maxiter", best[1])


# --------------------------------------------------------------------------------------
# the leave-one-out kernel provider
# --------------------------------------------------------------------------------------
class LeaveOneOutKernelProvider:
    """Nuisances from leave-one-out Nadaraya-Watson estimates at the index.

    ``g``, ``g'`` and ``E[x | t]`` come from one kernel pass of
    :meth:`semiparam.index._objective.LOOObjective.nuisances` at bandwidth
    ``h = bandwidth_factor * robust_spread(t) * n^(-1/5)`` (``n`` the rows with positive
    weight), recomputed at every pilot iterate; ``g`` is clipped to
    ``[clip, 1 - clip]`` in the weights ``c = g' / (g (1 - g))`` and the residual.
    Rows without neighbours (a compact kernel's empty window) get weight 0.

    Parameters
    ----------
    X : ndarray (n, d)
        Design (the caller standardises it).
    z, w : ndarray (n,)
        Labels in {0, 1} and nonnegative weights.
    kernel : str
    bandwidth_factor : float
    clip : float
    """

    def __init__(self, X, z, w, *, kernel, bandwidth_factor, clip):
        self.X = X
        self.z = np.asarray(z, dtype=float)
        self.w = np.asarray(w, dtype=float)
        self.clip = float(clip)
        self.factor = float(bandwidth_factor)
        self.n_eff = int(np.count_nonzero(self.w > 0))
        self.objective = LOOObjective(X, self.z, self.w, kernel=kernel,
                                      loss=BernoulliLoss(clip))

    def bandwidth(self, t) -> float:
        """``h = bandwidth_factor * robust_spread(t) * n^(-1/5)``."""
        return self.factor * robust_spread(t, self.w, check_input=False) * self.n_eff ** (-0.2)

    def _g(self, g):
        return np.clip(g, self.clip, 1.0 - self.clip)

    def pilot(self, b):
        t = self.X @ b
        h = self.bandwidth(t)
        if not (np.isfinite(h) and h > 0):
            return None
        g, dg, R, ok = self.objective.nuisances(t / h)
        if not np.any(ok):
            return None
        gc = self._g(g)
        gp = dg / h
        wc = np.where(ok, self.w * gp / (gc * (1.0 - gc)), 0.0)
        return DenseNuisances(R=R, wc=wc, q=wc * gp, residual=self.z - gc, h=h)

    def residual(self, b, nuisances):
        g, _ = self.objective.link_loo(self.X @ b / nuisances.h)
        return self.z - self._g(g)
