r"""Gaussian sums of rows far from every neighbour, relative to the nearest one.

A Gaussian kernel sum ``S_i = sum_j phi(u_ij) U_j`` (``u_ij = (t_i - s_j)/h``) of a
target whose nearest source lies more than ``~37`` bandwidths away underflows: every
term is below the smallest double.  The ratios the estimators need (the
Nadaraya–Watson link ``A_i / B_i``, its derivative, ``E[x | v_i]``) still have a
well-defined value, the limit the formula gives: as the nearest source dominates, the
ratio tends to that source's value.  Counting such a row as empty (the old rule, a
denominator ``<= 1e-300`` replaced by a fallback) makes the leave-one-out objective
jump where a row crosses the underflow distance.

This module computes the sums of such rows *relative to the nearest source's kernel
weight* (log-sum-exp style).  Let ``r_i`` be the source ``j`` (``j != i`` for
leave-one-out) with positive mass ``a_j = max_c |U_jc| > 0`` nearest to ``t_i`` and
``u_r = |t_i - s_r| / h``.  Then

.. math::

    S_i' = e^{u_r^2/2} S_i = \sum_j \phi_0 \exp\!\big(-\tfrac12 (|u_{ij}| - u_r)(|u_{ij}| + u_r)\big) U_j ,

every factor ``exp(...) <= 1`` (no source with positive mass is nearer), and the
reference term is ``phi_0 U_r``, so ``S_i'`` is representable however far the row is.
The derivative sums are scaled by the same factor, so every ratio of sums of one row
is exact.  Rows with ``u_r <= FAR`` (``phi(FAR) = 1.1e-196``) are left alone: their
sums are far above the underflow threshold and the ordinary kernels are accurate.

Cost: the sources are sorted, so the sum walks outward from the target on both sides
and stops once the rest (total mass times the kernel factor, ``(1 + |u|)`` for the
derivative) is below ``1e-17`` of the reference term ``phi_0 a_r``: for a row at
``u_r >= 30`` that is about ``40 / u_r < 1.5`` bandwidths beyond the nearest source.
A row with no source of positive mass gets sums of exactly zero.

:func:`loo_memory_terms` is the second half of the leave-one-out loss gradient
(:mod:`.loo`) for these rows: the terms in which a far row ``j`` moves with its
neighbours ``k`` as memory points, ``K'_{kj} q_j (a_k - g_j w_k) / h``, with
``q_j = c_j l'_j / B_j`` huge and ``K'_{kj}`` tiny; their product is formed from the
relative sums, so it neither overflows nor underflows.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit
from .gaussian import PHI0

__all__ = ["FAR", "far_rows", "relative_rows", "loo_memory_terms"]

#: rows whose nearest source with positive mass is beyond this many bandwidths are
#: summed relative to it (phi(30) = 1.1e-196)
FAR = 30.0
#: the walk stops once the remaining mass is below this fraction of the reference term
_STOP = 1e-17


@jit
def _neighbour_positions(a):
    """``prev[k]``: largest ``j <= k`` with ``a_j > 0`` (-1 if none); ``nxt[k]``: smallest
    ``j >= k`` with ``a_j > 0`` (``n`` if none)."""
    n = a.shape[0]
    prev = np.empty(n, dtype=np.int64)
    nxt = np.empty(n, dtype=np.int64)
    last = -1
    for k in range(n):
        if a[k] > 0.0:
            last = k
        prev[k] = last
    last = n
    for k in range(n - 1, -1, -1):
        if a[k] > 0.0:
            last = k
        nxt[k] = last
    return prev, nxt


@jit
def far_rows(tv, sv, a, h, loo, far):
    """Targets whose nearest source with positive mass is more than ``far`` bandwidths away.

    ``tv``/``sv`` sorted (the same array when ``loo``: then ``j = i`` is excluded), ``a``
    the sources' masses.  Returns ``(rows, ref)``: the target positions and, for each,
    the position of that nearest source (``-1`` when no source has positive mass).
    """
    nt = tv.shape[0]
    ns = sv.shape[0]
    prev, nxt = _neighbour_positions(a)
    rows = np.empty(nt, dtype=np.int64)
    ref = np.empty(nt, dtype=np.int64)
    nfar = 0
    p = 0
    lim = far * h
    for i in range(nt):
        t = tv[i]
        if loo:
            left = prev[i - 1] if i > 0 else -1
            right = nxt[i + 1] if i + 1 < ns else ns
        else:
            while p < ns and sv[p] < t:
                p += 1
            left = prev[p - 1] if p > 0 else -1
            right = nxt[p] if p < ns else ns
        best = -1
        dist = math.inf
        if left >= 0:
            best = left
            dist = t - sv[left]
        if right < ns and sv[right] - t < dist:
            best = right
            dist = sv[right] - t
        if not dist <= lim:  # also when no source has positive mass (dist = inf)
            rows[nfar] = i
            ref[nfar] = best
            nfar += 1
    return rows[:nfar].copy(), ref[:nfar].copy()


@jit
def _start(t, sv, i, loo):
    """First source position to the right of target ``t`` (skipping ``i`` when ``loo``)."""
    if loo:
        return i + 1
    lo = 0
    hi = sv.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if sv[mid] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _factor(t, s, h, ur):
    """``(u, e^{-(|u| - ur)(|u| + ur)/2})`` for the target ``t`` and source ``s``."""
    u = (t - s) / h
    au = abs(u)
    return u, math.exp(-0.5 * (au - ur) * (au + ur))


@jit
def relative_rows(tv, sv, Ua, h, rows, ref, loo, deriv, S0, S1, logscale):
    """Overwrite ``S0[i]`` (and ``S1[i]``) of the targets ``rows`` with the relative sums.

    ``Ua`` (ns, m + 1) holds the sources' columns in sorted order and their mass last.
    ``logscale[i] = u_r^2 / 2`` receives the factor taken out (``S_true = S e^{-logscale}``);
    a row without any source of positive mass gets zeros and ``logscale = 0``.
    """
    m = S0.shape[1]
    ns = sv.shape[0]
    atot = 0.0
    for j in range(ns):
        atot += Ua[j, m]
    for r in range(rows.shape[0]):
        i = rows[r]
        for c in range(m):
            S0[i, c] = 0.0
            if deriv:
                S1[i, c] = 0.0
        logscale[i] = 0.0
        jr = ref[r]
        if jr < 0:
            continue
        t = tv[i]
        ur = abs(t - sv[jr]) / h
        logscale[i] = 0.5 * ur * ur
        floor = _STOP * Ua[jr, m]
        j0 = _start(t, sv, i, loo)
        for side in range(2):
            j = j0 - 1 if side == 0 else j0
            if loo and side == 0:
                j = i - 1
            step = -1 if side == 0 else 1
            while 0 <= j < ns:
                aj = Ua[j, m]
                if aj > 0.0:
                    u, e = _factor(t, sv[j], h, ur)
                    if abs(u) >= ur and atot * e * (1.0 + abs(u)) <= floor:
                        break
                    kv = PHI0 * e
                    for c in range(m):
                        S0[i, c] += kv * Ua[j, c]
                        if deriv:
                            S1[i, c] -= u * kv * Ua[j, c]
                j += step


@jit
def loo_memory_terms(vs, U1, h, rows, ref, qs, gs, extra):
    """``extra[k] += K'_{kj} e^{u_r^2/2} q'_j (a_k - g_j w_k) / h`` for every far row ``j``.

    ``U1[:, 0:2] = [a, w]`` and ``U1[:, -1]`` the masses, all in sorted order;
    ``qs[r] = c_j l'_j / B'_j`` with ``B'_j`` the relative denominator of row
    ``j = rows[r]``, ``gs[r]`` its link value.  The walk is :func:`relative_rows`'s.
    """
    n = vs.shape[0]
    mc = U1.shape[1] - 1
    atot = 0.0
    for k in range(n):
        atot += U1[k, mc]
    for r in range(rows.shape[0]):
        j = rows[r]
        jr = ref[r]
        q = qs[r]
        if jr < 0 or q == 0.0:
            continue
        g = gs[r]
        t = vs[j]
        ur = abs(t - vs[jr]) / h
        floor = _STOP * U1[jr, mc]
        for side in range(2):
            k = j - 1 if side == 0 else j + 1
            step = -1 if side == 0 else 1
            while 0 <= k < n:
                ak = U1[k, mc]
                if ak > 0.0:
                    u, e = _factor(t, vs[k], h, ur)  # u = u_jk
                    if abs(u) >= ur and atot * e * (1.0 + abs(u)) <= floor:
                        break
                    # K'_{kj} = -u_kj phi(u_kj) = u_jk phi(u_jk)
                    extra[k] += u * PHI0 * e * q * (U1[k, 0] - g * U1[k, 1]) / h
                k += step
