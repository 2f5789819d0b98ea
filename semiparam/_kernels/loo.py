r"""Fused leave-one-out kernel-regression losses and their gradients (numba).

The objectives of :mod:`semiparam.index._objective` (Klein–Spady, Ichimura) are

.. math::

    F = \sum_i \tilde c_i\, \ell(z_i, g_i), \qquad
    g_i = A_i / B_i = \frac{\sum_{j \ne i} K_{ij} w_j z_j}{\sum_{j \ne i} K_{ij} w_j},
    \qquad K_{ij} = K((v_i - v_j)/h),

with normalised objective weights ``c~`` and, for a row whose denominator vanishes,
``g_i`` the leave-one-out mean of ``z``.  With the Gaussian kernel a denominator never
vanishes merely because it underflows: a row whose nearest neighbour (with positive
weight) is more than :data:`.far.FAR` bandwidths away gets its sums relative to that
neighbour's kernel weight (:mod:`.far`), so ``g_i`` follows the formula (tending to the
nearest neighbour's ``z``) and the objective has no jump at the underflow distance;
only a row with no neighbour of positive weight at all gets the fallback.  With ``q_i = c~_i l'(z_i, g_i) / B_i`` the
gradient with respect to every ``v_k`` is

.. math::

    h\, \partial F / \partial v_k = q_k (S1_k[a] - g_k S1_k[w])
        + a_k\, T_k[q] - w_k\, T_k[q g],
    \qquad S1_k[u] = \sum_{j \ne k} K'_{kj} u_j, \quad T_k[u] = \sum_j K'_{kj} u_j,

``a = w z``.  :func:`loo_loss` computes all of it in **one sorted pass pair**: the index
is sorted once (warm-started from the previous order), the static columns are gathered
into that order, the first kernel pass gives ``A, B, S1[a], S1[w]``, the loss and ``q``
are formed in sorted order, the second pass gives ``T[q], T[qg]``, and only the final
gradient goes back to the input order.  Nothing is scattered and re-gathered between the
passes, and no temporary of length ``n`` is made by NumPy.

The second pass is an ordinary (not leave-one-out) sum: ``K'(0) = 0``, so the term
``j = k`` adds nothing.  It also runs without the compact kernels' relative-error guard
(``guard=False`` in :func:`.polynomial.poly_sums`): ``q`` spans many orders of magnitude
(``l'`` grows like ``1/g`` in the tails), the guard would then recompute whole windows
term by term, and the gradient needs only the absolute accuracy that remains,
``~1e-13 max |q|`` per row, far below the first term ``q_k (S1_k[a] - g_k S1_k[w])``.
The first pass, which gives the objective's value, keeps the full relative accuracy
contract of :mod:`semiparam._kernels`.

With the Gaussian kernel and ``method="exact"`` (small ``n``) the sums are dense
instead: every pair is visited once (``K`` even, ``K'`` odd), ``K'`` is stored for the
second pass, and nothing is sorted.

Losses (``loss`` codes): ``"bernoulli"``, ``-(z log g + (1 - z) log(1 - g))`` with ``g``
clipped to ``[clip, 1 - clip]`` (flat, hence no gradient, outside); ``"squared"``,
``(z - g)^2``.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import scratch, sort_index
from ._jit import jit
from .far import FAR, far_rows, loo_memory_terms, relative_rows
from .gaussian import PHI0

__all__ = ["LOSSES", "static_columns", "loo_loss"]

#: loss names and their codes in the jitted loops
LOSSES = {"bernoulli": 0, "squared": 1}

#: compact kernels: a denominator at or below this counts as empty (the row gets the
#: fallback value); the Gaussian's relative sums (:mod:`.far`) are empty only at 0
_TINY = 1e-300


def static_columns(z, w, c):
    """The columns :func:`loo_loss` needs, in input order: ``(n, 5)`` float64.

    ``[w z, w, c / sum(c), z, fallback]`` with ``fallback_i`` the leave-one-out weighted
    mean of ``z`` (the overall mean where every other row has zero weight).
    """
    z = np.asarray(z, dtype=float)
    w = np.asarray(w, dtype=float)
    c = np.asarray(c, dtype=float)
    a = w * z
    ta, tb = a.sum(), w.sum()
    rest = tb - w
    with np.errstate(invalid="ignore", divide="ignore"):
        fb = np.where(rest > 0, (ta - a) / rest, ta / tb)
    return np.ascontiguousarray(np.column_stack([a, w, c / c.sum(), z, fb]))


@jit
def _gather_static(Z, inv, U1, R):
    """``U1[k] = [a, w(, bound)]`` and ``R[k] = [c, z, fallback]`` for row ``j = inv^-1(k)``.

    With three columns in ``U1`` the last is ``max(|a|, w)`` (the a-mass the kernels
    need); with two, ``w`` itself already bounds ``a = w z`` (``0 <= z <= 1``).
    """
    n = Z.shape[0]
    bound = U1.shape[1] == 3
    for j in range(n):
        k = inv[j]
        a = Z[j, 0]
        w = Z[j, 1]
        U1[k, 0] = a
        U1[k, 1] = w
        if bound:
            aa = abs(a)
            U1[k, 2] = w if w > aa else aa  # max(|a|, w) (no generic max to compile)
        R[k, 0] = Z[j, 2]
        R[k, 1] = Z[j, 3]
        R[k, 2] = Z[j, 4]


@jit
def _loss_terms(S0, S1, R, code, clip, deriv, U2, first, tiny):
    """Loss sum; with ``deriv`` also ``U2 = [q g, q (1 - g), bound]`` and the first
    gradient term.  A row with ``B <= tiny`` gets the fallback."""
    n = S0.shape[0]
    total = 0.0
    for k in range(n):
        A = S0[k, 0]
        B = S0[k, 1]
        ok = B > tiny
        g = A / B if ok else R[k, 2]
        z = R[k, 1]
        c = R[k, 0]
        if code == 0:
            gc = clip if clip > g else g  # min(max(g, clip), 1 - clip)
            gc = 1.0 - clip if 1.0 - clip < gc else gc
            one_m = 1.0 - gc
            if z == 1.0:  # one logarithm for the usual 0/1 outcome
                total -= c * math.log(gc)
            elif z == 0.0:
                total -= c * math.log(one_m)
            else:
                total -= c * (z * math.log(gc) + (1.0 - z) * math.log(one_m))
            dl = 0.0
            if g > clip and g < 1.0 - clip:
                dl = -(z - gc) / (gc * one_m)
        else:
            r = z - g
            total += c * r * r
            dl = -2.0 * r
        if deriv:
            q = c * dl / B if ok else 0.0
            p0 = q * g
            p1 = q - p0
            U2[k, 0] = p0
            U2[k, 1] = p1
            a0 = abs(p0)
            a1 = abs(p1)
            U2[k, 2] = a1 if a1 > a0 else a0
            first[k] = q * (S1[k, 0] - g * S1[k, 1]) if ok else 0.0
    return total


@jit
def _combine(first, T1, U1, order, h, gv):
    """``gv[order[k]] = (first_k + a_k T_k[q (1 - g)] - (w_k - a_k) T_k[q g]) / h``."""
    for k in range(first.shape[0]):
        a = U1[k, 0]
        gv[order[k]] = (first[k] + a * T1[k, 1] - (U1[k, 1] - a) * T1[k, 0]) / h


@jit
def _gaussian_pairs(v, Z, h, deriv, S0, S1, KD):
    """Pass 1 of the dense Gaussian path: every pair once (``K`` even, ``K'`` odd).

    ``S0 = [A, B]``, ``S1 = [S1[a], S1[w]]`` (leave-one-out: the diagonal is never
    visited) and, with ``deriv``, ``KD`` the packed ``K'(u_ij)`` for ``i < j``.
    """
    n = v.shape[0]
    S0[:] = 0.0
    S1[:] = 0.0
    idx = 0
    for i in range(n):
        ai = Z[i, 0]
        wi = Z[i, 1]
        vi = v[i]
        a0 = 0.0
        b0 = 0.0
        a1 = 0.0
        b1 = 0.0
        for j in range(i + 1, n):
            u = (vi - v[j]) / h
            e = PHI0 * math.exp(-0.5 * u * u)
            aj = Z[j, 0]
            wj = Z[j, 1]
            a0 += e * aj
            b0 += e * wj
            S0[j, 0] += e * ai
            S0[j, 1] += e * wi
            if deriv:
                d = -u * e
                KD[idx] = d
                idx += 1
                a1 += d * aj
                b1 += d * wj
                S1[j, 0] -= d * ai
                S1[j, 1] -= d * wi
        S0[i, 0] += a0
        S0[i, 1] += b0
        if deriv:
            S1[i, 0] += a1
            S1[i, 1] += b1


@jit
def _gaussian_memory_sums(KD, U2, T):
    """Pass 2 of the dense Gaussian path from the stored ``K'``: ``T = [T[q g], T[q (1-g)]]``."""
    n = U2.shape[0]
    T[:] = 0.0
    idx = 0
    for i in range(n):
        p0i = U2[i, 0]
        p1i = U2[i, 1]
        t0 = 0.0
        t1 = 0.0
        for j in range(i + 1, n):
            d = KD[idx]
            idx += 1
            t0 += d * U2[j, 0]
            t1 += d * U2[j, 1]
            T[j, 0] -= d * p0i
            T[j, 1] -= d * p1i
        T[i, 0] += t0
        T[i, 1] += t1


def _far_split(S0, U2, rows):
    """Take the far rows out of the second pass: their ``(q', g)`` and ``U2`` rows zeroed."""
    qs = U2[rows, 0] + U2[rows, 1]
    B = S0[rows, 1]
    gs = np.where(B > 0, S0[rows, 0] / np.where(B > 0, B, 1.0), 0.0)
    U2[rows] = 0.0
    return qs, gs


def _dense_gaussian(v, Z, h, code, clip, gradient):
    """Exact Gaussian loss and gradient from each pair once, no sorting (small ``n``).

    Far rows (:mod:`.far`) are found without sorting in the common case: a row can be
    far only if its denominator is below ``phi(FAR)`` times the total weight.
    """
    n = v.shape[0]
    S0 = np.empty((n, 2))
    S1 = np.empty((n, 2))
    KD = np.empty(n * (n - 1) // 2 if gradient else 0)
    _gaussian_pairs(v, Z, h, gradient, S0, S1, KD)
    far = None
    wtot = float(np.abs(Z[:, 1]).sum())
    if np.any(S0[:, 1] <= PHI0 * math.exp(-0.5 * FAR * FAR) * wtot):
        srt = np.argsort(v, kind="stable")
        vs = np.ascontiguousarray(v[srt])
        U1s = np.ascontiguousarray(np.column_stack(
            [Z[srt, 0], Z[srt, 1], np.maximum(np.abs(Z[srt, 0]), Z[srt, 1])]))
        rows, ref = far_rows(vs, vs, np.ascontiguousarray(U1s[:, 2]), h, True, FAR)
        if rows.size:
            S0s = np.ascontiguousarray(S0[srt])
            S1s = np.ascontiguousarray(S1[srt]) if gradient else np.empty((0, 2))
            relative_rows(vs, vs, U1s, h, rows, ref, True, gradient, S0s, S1s, np.empty(n))
            orig = srt[rows]
            S0[orig] = S0s[rows]
            if gradient:
                S1[orig] = S1s[rows]
            far = (srt, vs, U1s, rows, ref, orig)
    U2 = np.empty((n, 3) if gradient else (0, 3))
    first = np.empty(n if gradient else 0)
    F = _loss_terms(S0, S1, np.ascontiguousarray(Z[:, 2:]), code, clip, gradient, U2, first, 0.0)
    if not gradient:
        return F, None
    if far is not None:
        srt, vs, U1s, rows, ref, orig = far
        qs, gs = _far_split(S0, U2, orig)
    T = np.empty((n, 2))
    _gaussian_memory_sums(KD, U2, T)
    gv = np.empty(n)
    _combine(first, T, Z, np.arange(n), h, gv)  # Z's first columns are [a, w], in order
    if far is not None:
        extra = np.zeros(n)
        loo_memory_terms(vs, U1s, h, rows, ref, qs, gs, extra)
        gv[srt] += extra
    return F, gv


def loo_loss(v, Z, h, spec, *, loss, clip=0.0, order=None, gradient=True, method="auto"):
    """Leave-one-out loss ``F`` and (optionally) ``dF/dv`` in two sorted kernel passes.

    Parameters
    ----------
    v : float64 array (n,), finite
        The index.
    Z : float64 array (n, 5)
        :func:`static_columns` of the outcome and weights.
    h : float
        Bandwidth.
    spec : Kernel
        A registered kernel (:data:`semiparam._kernels.KERNELS`).
    loss : {"bernoulli", "squared"}
    clip : float
        The Bernoulli clip (ignored by the squared loss).
    order : int array (n,), optional
        A previous sorting permutation of ``v`` (the warm start).
    gradient : bool
    method : Gaussian method, as in :func:`semiparam._kernels.kernel_sums`.

    Returns
    -------
    F : float
    gv : ndarray (n,) or None
        ``dF/dv`` in input order (a new array).
    order : int64 ndarray (n,) or None
        The permutation that sorts ``v`` (what was passed in, possibly None, from the
        dense Gaussian path, which sorts nothing).
    """
    from . import sorted_sums  # the package's dispatcher (avoids an import cycle)

    n = v.shape[0]
    code = LOSSES[loss]
    if spec.power == 0 and method == "exact":
        F, gv = _dense_gaussian(v, Z, h, code, float(clip), gradient)
        return F, gv, order
    order, vs, inv = sort_index(v, order, tag="loo", check=False)
    # the squared loss and the Gaussian's box cut-offs need a separate a-mass column
    ncol = 2 if (code == 0 and spec.power > 0) else 3
    U1 = scratch("loo_U1", (n, ncol))
    R = scratch("loo_R", (n, 3))
    _gather_static(Z, inv, U1, R)
    S0, S1 = sorted_sums(vs, vs, U1, 2, h, spec, True, gradient, method)
    rows = None
    if spec.power == 0:
        # a contiguous copy of the mass column: the layout every far_rows call shares
        rows, ref = far_rows(vs, vs, np.ascontiguousarray(U1[:, 2]), h, True, FAR)
        if rows.size:
            relative_rows(vs, vs, U1, h, rows, ref, True, gradient, S0, S1, np.empty(n))
    U2 = scratch("loo_U2", (n, 3)) if gradient else scratch("loo_U2", (0, 3))
    first = scratch("loo_first", (n,)) if gradient else scratch("loo_first", (0,))
    tiny = 0.0 if spec.power == 0 else _TINY
    F = _loss_terms(S0, S1, R, code, float(clip), gradient, U2, first, tiny)
    if not gradient:
        return F, None, order
    far = rows is not None and rows.size > 0
    if far:
        qs, gs = _far_split(S0, U2, rows)
    _, T1 = sorted_sums(vs, vs, U2, 2, h, spec, False, True, method, guard=False)
    gv = np.empty(n)
    _combine(first, T1, U1, order, h, gv)
    if far:
        extra = np.zeros(n)
        loo_memory_terms(vs, U1, h, rows, ref, qs, gs, extra)
        gv[order] += extra
    return F, gv, order
