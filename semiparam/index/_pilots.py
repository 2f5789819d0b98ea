"""Pilot directions of the leave-one-out index search (private to :mod:`semiparam.index`).

Deterministic starting directions in standardised coordinates: weighted logit slopes
(:func:`semiparam.index.newton.logit_pilot`, the package's one logit start: the MLE, or
the ridge fit when the classes are separated), probit slopes (damped Newton with a tiny
ridge), least squares (proportional to the true
direction for elliptical regressors; Li & Duan 1989) and, for a real outcome, sliced
inverse regression (Li 1991).

References
----------
Li, K.-C. and Duan, N. (1989). Regression analysis under link violation. *Annals of
Statistics* 17(3), 1009-1052.
Li, K.-C. (1991). Sliced inverse regression for dimension reduction. *JASA* 86, 316-327.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .newton import logit_pilot

__all__ = ["pilot_directions"]


def _weighted_ols_slopes(Xs, y, w):
    A = np.column_stack([np.ones(Xs.shape[0]), Xs])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    return coef[1:]


def _probit_slopes(Xs, z, w, max_iter: int = 50):
    """Weighted probit slopes (with intercept) by damped Newton with a tiny ridge
    (Fisher scoring: the expected information as the Hessian)."""
    n, d = Xs.shape
    A = np.column_stack([np.ones(n), Xs])
    ridge = 1e-8 * max(w.sum(), 1.0) * np.r_[0.0, np.ones(d)]
    b = np.zeros(d + 1)
    b[0] = special.ndtri(np.clip((w @ z) / w.sum(), 1e-6, 1 - 1e-6))

    def negll(bb):
        eta = A @ bb
        ll = z * special.log_ndtr(eta) + (1 - z) * special.log_ndtr(-eta)
        return -(w @ ll) + 0.5 * ridge @ bb**2

    f = negll(b)
    for _ in range(max_iter):
        eta = A @ b
        # score via the inverse Mills ratios phi/Phi, in logs (no 0/0 far in the tails)
        lp, lq = special.log_ndtr(eta), special.log_ndtr(-eta)
        lphi = -0.5 * eta**2 - 0.5 * np.log(2 * np.pi)
        r1, r0 = np.exp(lphi - lp), np.exp(lphi - lq)
        grad = A.T @ (w * (z * r1 - (1 - z) * r0)) - ridge * b
        W = w * np.exp(2 * lphi - lp - lq)
        H = (A * W[:, None]).T @ A + np.diag(ridge + 1e-12)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-8:
            fn = negll(b + t * step)
            if fn <= f + 1e-12 * abs(f):
                break
            t *= 0.5
        b, f_old, f = b + t * step, f, fn
        if abs(f_old - f) <= 1e-12 * max(1.0, abs(f)):
            break
    return b[1:]


def pilot_directions(Xs, z, w, binary: bool = True):
    """Deterministic pilot directions (unit norm, standardised coordinates).

    Binary outcomes: logit, probit and least squares; continuous outcomes: least
    squares and sliced inverse regression (10 slices; Li 1991).  Directions within
    about one degree of an earlier one are dropped.
    """
    cands = []
    if binary:
        cands.append(logit_pilot(Xs, z, w)[0])
        cands.append(_probit_slopes(Xs, z, w))
    cands.append(_weighted_ols_slopes(Xs, z, w))
    if not binary:
        cands.append(_sir_direction(Xs, z, w))
    out = []
    for c in cands:
        nrm = np.linalg.norm(c)
        if not np.isfinite(nrm) or nrm == 0:
            continue
        u = c / nrm
        if all(abs(u @ o) < 0.99985 for o in out):
            out.append(u)
    if not out:
        out.append(np.ones(Xs.shape[1]) / np.sqrt(Xs.shape[1]))
    return out


def _sir_direction(Xs, y, w, n_slices: int = 10):
    order = np.argsort(y, kind="stable")
    slices = np.array_split(order, min(n_slices, max(2, y.size // 5)))
    sw = w.sum()
    M = np.zeros((Xs.shape[1], Xs.shape[1]))
    for s in slices:
        ws = w[s].sum()
        if ws <= 0:
            continue
        m = (w[s] @ Xs[s]) / ws
        M += (ws / sw) * np.outer(m, m)
    C = np.cov(Xs, rowvar=False, aweights=np.maximum(w, 1e-300))
    C = np.atleast_2d(C)
    try:
        L = np.linalg.cholesky(C + 1e-10 * np.eye(C.shape[0]))
        Li = np.linalg.inv(L)
        vals, vecs = np.linalg.eigh(Li @ M @ Li.T)
        return Li.T @ vecs[:, -1]
    except np.linalg.LinAlgError:
        return np.ones(Xs.shape[1])
