"""The nonparametric (pairs) bootstrap shared by every estimator that offers
``cov_type="bootstrap"``, and by the link bands of :mod:`semiparam.index.plotting`.

A replicate redraws the ``n`` rows ``(x_i, z_i)`` with replacement (the pairs bootstrap:
regressors and outcome together, Efron & Tibshirani 1993, sec. 9.5), refits, and records a
statistic ``T_b`` (the normalised coefficients, a link on a grid, ...).  Two equivalent
ways to hand the resample to the refit:

``"multinomial"``
    frequency weights ``w_i N_i`` with ``(N_1, ..., N_n) ~ Multinomial(n, 1/n)``, on the
    original rows.  A row drawn twice stays one row of weight 2, so a leave-one-out link
    leaves both copies out together (the kernel estimators use this).
``"rows"``
    the row indices ``I_1, ..., I_n`` drawn uniformly with replacement; the refit builds
    the resampled data set itself (estimators that sample pairs of rows, or whose fit
    rescales the weights of the rows it gets).

The covariance estimate is the sample covariance of the successful replicates,
``(B - 1)^{-1} sum_b (T_b - Tbar)(T_b - Tbar)'``.  A replicate whose refit returns
``None``, raises one of ``errors`` or returns a non-finite statistic (for example a
resample with a single class) is skipped and counted in ``n_failed``.

Randomness: one ``numpy.random.Generator`` (``random_state``: ``None``, an int or a
Generator, passed through ``numpy.random.default_rng``) draws the resamples in order, so a
seed fixes the replicates.  Serially (``n_jobs`` None or 1) each resample is drawn just
before its refit, and a refit may draw from the same Generator; with ``n_jobs > 1`` all
resamples are drawn first and the refits run in joblib workers (the same replicates as
the serial run whenever the refit itself draws nothing).

References
----------
Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

__all__ = ["bootstrap", "BootstrapResult", "SCHEMES"]

#: resampling schemes of :func:`bootstrap`
SCHEMES = ("multinomial", "rows")

#: refit failures that skip a replicate
DEFAULT_ERRORS = (ValueError, FloatingPointError, np.linalg.LinAlgError)


@dataclass(frozen=True)
class BootstrapResult:
    """Replicates of a bootstrap and their covariance.

    Attributes
    ----------
    replicates : ndarray of shape (n_ok, d)
        The statistic of each successful replicate, in order of drawing.
    n_failed : int
        Replicates skipped (the refit returned None, raised, or was not finite).
    """

    replicates: np.ndarray
    n_failed: int

    @property
    def cov(self) -> np.ndarray:
        """Sample covariance (``ddof=1``, symmetrised) of the replicates; NaN with fewer
        than 2."""
        d = self.replicates.shape[1]
        if self.replicates.shape[0] < 2:
            return np.full((d, d), np.nan)
        C = np.atleast_2d(np.cov(self.replicates, rowvar=False, ddof=1))
        return 0.5 * (C + C.T)

    @property
    def n_ok(self) -> int:
        return int(self.replicates.shape[0])

    def info(self) -> dict:
        """The summary-table entries: ``{"Bootstrap reps": n_ok[, "Failed reps": n_failed]}``."""
        out = {"Bootstrap reps": self.n_ok}
        if self.n_failed:
            out["Failed reps"] = int(self.n_failed)
        return out


def _draw(rng, n, weights, scheme):
    if scheme == "multinomial":
        return weights * rng.multinomial(n, np.full(n, 1.0 / n))
    return rng.integers(0, n, n)


def _one(refit, resample, errors):
    try:
        t = refit(resample)
    except errors:
        return None
    if t is None:
        return None
    t = np.asarray(t, dtype=float).ravel()
    return t if np.all(np.isfinite(t)) else None


def bootstrap(refit, n, *, weights=None, scheme="multinomial", n_replicates=200,
              random_state=None, n_jobs=None, errors=DEFAULT_ERRORS,
              dim=None) -> BootstrapResult:
    """Run ``n_replicates`` bootstrap refits (module docstring).

    Parameters
    ----------
    refit : callable
        ``refit(resample) -> statistic or None``.  ``resample`` is the weight vector
        (``scheme="multinomial"``) or the row indices (``scheme="rows"``), shape (n,).
        It performs no input checks (an estimator's unchecked fit core).
    n : int
        Number of rows.
    weights : array-like of shape (n,), default=None
        The original row weights, multiplied by the counts (``"multinomial"``).
    scheme : {"multinomial", "rows"}, default="multinomial"
    n_replicates : int >= 0, default=200
    random_state : None, int or numpy.random.Generator, default=None
    n_jobs : int or None, default=None
        Refits in parallel through joblib (``-1``: all cores); None or 1: serial.
    errors : tuple of exception classes
        Exceptions of a refit that skip the replicate (others propagate).
    dim : int, default=None
        Length of the statistic, so that an all-failed run still has ``(0, dim)``
        replicates (default: taken from the first successful replicate).

    Returns
    -------
    BootstrapResult
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {list(SCHEMES)}; got {scheme!r}.")
    if not isinstance(n_replicates, Integral) or n_replicates < 0:
        raise ValueError(f"n_replicates must be an integer >= 0; got {n_replicates!r}.")
    if not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},); got {w.shape}.")
    rng = np.random.default_rng(random_state)
    if n_jobs is None or n_jobs == 1:
        stats = [_one(refit, _draw(rng, n, w, scheme), errors) for _ in range(n_replicates)]
    else:
        from joblib import Parallel, delayed

        draws = [_draw(rng, n, w, scheme) for _ in range(n_replicates)]
        stats = Parallel(n_jobs=n_jobs)(delayed(_one)(refit, r, errors) for r in draws)
    ok = [t for t in stats if t is not None]
    d = ok[0].size if ok else int(dim or 0)
    reps = np.asarray(ok, dtype=float).reshape(len(ok), d)
    return BootstrapResult(replicates=reps, n_failed=len(stats) - len(ok))
