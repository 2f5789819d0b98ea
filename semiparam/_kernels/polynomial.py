r"""Exact ``O(n log n)`` kernel sums for the compact polynomial kernels.

Kernels
-------
``K(u) = c_p (1 - u^2)^p`` on ``|u| <= 1`` with ``p = 1, 2, 3`` (Epanechnikov,
biweight, triweight; ``c_p = 3/4, 15/16, 35/32``) and ``K'(u) = -2 p c_p u (1-u^2)^{p-1}``.

Algorithm
---------
The sums ``S0[i] = sum_j K((t_i - s_j)/h) U_j`` and ``S1[i] = sum_j K'((t_i - s_j)/h) U_j``
run over the sources inside the window ``|t_i - s_j| <= h``.  On that window ``K`` is the
polynomial ``sum_k a_k u^k`` of degree ``D = 2p``.  With a centre ``c`` and the scaled
coordinates ``x_i = (t_i - c)/h``, ``y_j = (s_j - c)/h`` the binomial expansion of
``u^k = (x_i - y_j)^k`` separates target and source:

.. math::

    S0_i = \sum_{l=0}^{D} \Big(\sum_{k \ge l} a_k \binom{k}{l} (-1)^l x_i^{k-l}\Big)
           M_l(i), \qquad M_l(i) = \sum_{j \in W(i)} y_j^l U_j ,

and likewise for ``S1`` with the coefficients of ``K'``.  This is the classical "fast
sum updating" idea for polynomial kernels (Seifert, Brockmann, Engel & Gasser 1994,
*J. Comput. Graph. Statist.* 3, 192-203; Fan & Marron 1994, *J. Comput. Graph. Statist.*
3, 35-56; revisited by Langrené & Warin 2019, *J. Comput. Graph. Statist.* 28, 596-608).

Sorting the data makes every window ``W(i)`` a contiguous range of the sorted sources,
and the windows move monotonically (two pointers), so the moments ``M_l`` are running
sums: a source enters once and leaves once.  The textbook version keeps one global
centre, and then the running sums lose every digit once ``v`` is offset by ``1e6`` or
spans thousands of bandwidths (the moments grow like ``(range / h)^D`` while the answer
stays ``O(1)``).  Here the targets are cut into **blocks** of width ``< h`` (each block
starts at a data value) and every block restarts its running sums from zero around its own
centre, so ``|x_i| <= 1/2``, ``|y_j| <= 3/2`` and no intermediate exceeds the
``sum_k |a_k| 2^k`` multiple of the window mass (at most 137 for triweight, 328 for its
derivative).  Every source is touched about four times (twice when blocks start, as a
window spans about two blocks, once entering and once leaving a window), hence ``O(n)``
after the sort, ``O(D m)`` per touch.  The degree ``D`` is a compile-time constant (one
specialisation per kernel) so that the short loops over powers unroll.

Accuracy and leave-one-out
--------------------------
The sums are exact up to rounding.  Rounding is relative to the *window mass*, not to
the answer: near ``|u| = 1`` the polynomial is a small difference of ``O(1)`` terms.
The leave-one-out self term ``K(0) U_i`` is subtracted from the full window sum, which is
harmless unless the rest of the window carries almost no kernel mass (an isolated point,
or neighbours sitting at the very edge of the window, or neighbours with zero weight).
Each target therefore also carries the sum over the row-maxima ``a_j = max_c |U_jc|``:
when its leave-one-out kernel mass ``A_i = sum_{j != i} K_ij a_j`` is below
``4 eps C_K T_i / 1e-10`` (``C_K`` the growth constant above, ``T_i`` the a-mass the
block's running sums have touched so far), i.e. when the estimated relative error
exceeds ``1e-10``, the target is recomputed directly, term by term.  Windows with at
most ``NDIRECT`` other points are always summed directly
(cheaper than the expansion, and exact zero for an isolated point).  Measured: for
every target, ``|error| <= ~1e-13 * sum_{j != i} (|K_ij| + |K'_ij|) a_j`` (see
``docs/kernels.md``).

Parallelism: the blocks are independent and are spread over the threads in an
interleaved pattern (block ``b`` goes to chunk ``b mod n_chunks``, one chunk per
thread), which balances smooth densities without a dynamic scheduler.
"""

from __future__ import annotations

from math import comb

import numpy as np
from numba import prange

from ._jit import jit

__all__ = ["POWERS", "NORMALISERS", "coefficient_tables", "poly_sums", "NDIRECT"]

#: exponent p of ``(1 - u^2)^p``
POWERS = {"epanechnikov": 1, "biweight": 2, "triweight": 3}
#: normalising constant c_p
NORMALISERS = {1: 3.0 / 4.0, 2: 15.0 / 16.0, 3: 35.0 / 32.0}
#: windows with at most this many other points are summed term by term
NDIRECT = 16
#: a target is recomputed directly when its estimated relative error exceeds this
_REL_TARGET = 1e-10


def coefficient_tables(p):
    """Expansion tables for ``K(x - y)`` and ``K'(x - y)`` in powers of ``x`` and ``y``.

    Returns ``(A, B, k0, thresh)``: ``K(x - y) = sum_l (sum_k A[k, l] x^(k-l)) y^l``,
    ``K'(x - y) = sum_l (sum_k B[k, l] x^(k-l)) y^l`` (``A``, ``B`` of shape
    ``(D+1, D+1)``, lower triangular in ``(k, l)``), ``k0 = K(0)`` and the factor
    ``thresh`` of the "recompute directly" test ``A_i < thresh * touched_mass``.
    """
    c = NORMALISERS[p]
    D = 2 * p
    a = np.zeros(D + 1)
    for r in range(p + 1):
        a[2 * r] = c * comb(p, r) * (-1.0) ** r
    b = np.zeros(D + 1)
    for k in range(1, D + 1):
        b[k - 1] = k * a[k]
    A = np.zeros((D + 1, D + 1))
    B = np.zeros((D + 1, D + 1))
    for k in range(D + 1):
        for l in range(k + 1):
            A[k, l] = a[k] * comb(k, l) * (-1.0) ** l
            B[k, l] = b[k] * comb(k, l) * (-1.0) ** l
    pow2 = 2.0 ** np.arange(D + 1)
    growth = max(np.sum(np.abs(a) * pow2), np.sum(np.abs(b) * pow2))
    # rounding bound ~ 4 eps * growth * touched mass (a few operations per moment);
    # ask for the estimated relative error to stay below _REL_TARGET
    thresh = 4.0 * np.finfo(float).eps * growth / _REL_TARGET
    return A, B, a[0], thresh


def _block_loop(D):
    """The block loop of :func:`poly_sums` for the polynomial degree ``D`` (a constant).

    ``D`` is a closure constant, so the short loops over powers unroll, and each
    kernel compiles (and caches: numba keys closures by their cell values) only its own
    specialisation when first used.
    """

    @jit
    def blocks(tv, sv, Ua, h, A, B, k0, thresh, loo, deriv, guard, bstart, first, stride, S0, S1,
               M, yp, xp, co):
        """Process the blocks ``first, first + stride, ...`` (see :func:`poly_sums`).

        ``M`` (mc, D + 1), ``yp``, ``xp``, ``co`` (D + 1,) are scratch, allocated by the
        caller.  Everything a target needs (the window search, the expansion and the
        direct sum) is in this one function: no array is allocated and no other jitted
        function is called, so a cold start compiles one function per kernel.
        """
        ns = sv.shape[0]
        m = S0.shape[1]
        mc = Ua.shape[1]
        ma = mc - 1
        p = D // 2
        c = A[0, 0]
        nb = bstart.shape[0] - 1
        # the window [l0, h0) of the current target; the targets are sorted, so both ends
        # only move forward, also from one block of this chunk to its next
        l0 = 0
        h0 = 0
        for b in range(first, nb, stride):
            s = bstart[b]
            e = bstart[b + 1]
            r = tv[s]
            hw = 0.5 * (tv[e - 1] - r) / h
            have = False
            clo = 0
            chi = 0
            touched = 0.0
            for i in range(s, e):
                t = tv[i]
                while l0 < ns and t - sv[l0] > h:
                    l0 += 1
                if h0 < l0:
                    h0 = l0
                while h0 < ns and sv[h0] - t <= h:
                    h0 += 1
                cnt = h0 - l0
                if loo:
                    cnt -= 1
                direct = cnt <= NDIRECT
                if not direct:
                    # slide the block-local running moments to the window [l0, h0)
                    if not have:
                        for col in range(mc):
                            for l in range(D + 1):
                                M[col, l] = 0.0
                        clo = l0
                        chi = l0
                        have = True
                    # sources entering ([chi, h0), added) then leaving ([clo, l0), subtracted)
                    for part in range(2):
                        if part == 0:
                            j0, j1, sign = chi, h0, 1.0
                            chi = h0 if h0 > chi else chi
                        else:
                            j0, j1, sign = clo, l0, -1.0
                            clo = l0 if l0 > clo else clo
                        part_mass = 0.0
                        for j in range(j0, j1):
                            y = (sv[j] - r) / h - hw
                            yp[0] = sign
                            for l in range(1, D + 1):
                                yp[l] = yp[l - 1] * y
                            for col in range(mc):
                                u = Ua[j, col]
                                for l in range(D + 1):
                                    M[col, l] += yp[l] * u
                            part_mass += Ua[j, ma]
                        touched += part_mass
                    # evaluate the expansion at x
                    x = (t - r) / h - hw
                    xp[0] = 1.0
                    for k in range(1, D + 1):
                        xp[k] = xp[k - 1] * x
                    for l in range(D + 1):
                        acc = 0.0
                        for k in range(l, D + 1):
                            acc += A[k, l] * xp[k - l]
                        co[l] = acc
                    mass = 0.0
                    for l in range(D + 1):
                        mass += co[l] * M[ma, l]
                    for col in range(m):
                        acc = 0.0
                        for l in range(D + 1):
                            acc += co[l] * M[col, l]
                        if loo:
                            acc -= k0 * Ua[i, col]
                        S0[i, col] = acc
                    if loo:
                        mass -= k0 * Ua[i, ma]
                    if deriv:
                        for l in range(D):
                            acc = 0.0
                            for k in range(l, D):
                                acc += B[k, l] * xp[k - l]
                            co[l] = acc
                        for col in range(m):
                            acc = 0.0
                            for l in range(D):
                                acc += co[l] * M[col, l]
                            S1[i, col] = acc
                        # K'(0) = 0: nothing to remove for leave-one-out
                    direct = guard and mass < thresh * touched
                if direct:
                    # term by term: small windows, and targets the guard recomputes
                    for col in range(m):
                        S0[i, col] = 0.0
                        if deriv:
                            S1[i, col] = 0.0
                    for j in range(l0, h0):
                        if loo and j == i:
                            continue
                        u = (t - sv[j]) / h
                        w = 1.0 - u * u
                        wp = 1.0
                        for _ in range(p - 1):
                            wp *= w
                        kv = c * wp * w
                        for col in range(m):
                            S0[i, col] += kv * Ua[j, col]
                        if deriv:
                            kd = -2.0 * p * c * u * wp
                            for col in range(m):
                                S1[i, col] += kd * Ua[j, col]

    return blocks


_blocks_p1 = _block_loop(2)
_blocks_p2 = _block_loop(4)
_blocks_p3 = _block_loop(6)


@jit
def _blocks(tv, sv, Ua, h, p, A, B, k0, thresh, loo, deriv, guard, bstart, first, stride, S0, S1):
    M = np.empty((Ua.shape[1], 2 * p + 1))
    yp = np.empty(2 * p + 1)
    xp = np.empty(2 * p + 1)
    co = np.empty(2 * p + 1)
    if p == 1:
        _blocks_p1(tv, sv, Ua, h, A, B, k0, thresh, loo, deriv, guard, bstart, first, stride, S0, S1,
                   M, yp, xp, co)
    elif p == 2:
        _blocks_p2(tv, sv, Ua, h, A, B, k0, thresh, loo, deriv, guard, bstart, first, stride, S0, S1,
                   M, yp, xp, co)
    else:
        _blocks_p3(tv, sv, Ua, h, A, B, k0, thresh, loo, deriv, guard, bstart, first, stride, S0, S1,
                   M, yp, xp, co)


@jit(parallel=True)
def _poly_parallel(tv, sv, Ua, h, p, A, B, k0, thresh, loo, deriv, guard, bstart, nchunks, S0, S1):
    for ch in prange(nchunks):
        _blocks(tv, sv, Ua, h, p, A, B, k0, thresh, loo, deriv, guard, bstart, ch, nchunks, S0, S1)


def poly_sums(tv, sv, Ua, h, p, A, B, k0, thresh, loo, deriv, guard, bstart, nchunks, S0, S1):
    """Window sums of a compact polynomial kernel on sorted data (see module docstring).

    Parameters
    ----------
    tv, sv : sorted targets (nt,) and sources (ns,); for leave-one-out ``tv is sv``.
    Ua : (ns, mc) source columns; the last one bounds the others, ``Ua[j, -1] >=
        max_c |Ua[j, c]|`` (the a-mass of the error control).  The sums cover the first
        ``m = S0.shape[1] <= mc`` columns, the last one included when ``m == mc``.
    h, p : bandwidth, kernel exponent; ``A``, ``B``, ``k0``, ``thresh`` from
        :func:`coefficient_tables`.
    loo, deriv : leave-one-out (sources are the targets) / also compute ``S1``.
    guard : recompute directly every target whose estimated relative error exceeds
        ``1e-10`` (see the module docstring).  Without it the error is bounded by
        ``~1e-13`` times the largest a-mass the block's running sums touched: an
        absolute bound, enough for sums whose relative accuracy is not needed
        (the gradient's memory-point term in :mod:`.loo`).
    bstart : block starts over the targets (:func:`._common.greedy_blocks`, width < h).
    nchunks : number of interleaved work chunks for the threads; 1 runs serially in the
        calling thread (no parallel region, which matters on a busy machine; the
        parallel version is compiled only when a problem first needs it).
    S0, S1 : (nt, m) outputs in sorted target order (``S1`` unused unless ``deriv``).
    """
    if nchunks <= 1:
        # dispatch here rather than in ``_blocks`` so that only the kernel in use compiles
        serial = _blocks_p1 if p == 1 else (_blocks_p2 if p == 2 else _blocks_p3)
        D = 2 * p
        serial(tv, sv, Ua, h, A, B, k0, thresh, loo, deriv, guard, bstart, 0, 1, S0, S1,
               np.empty((Ua.shape[1], D + 1)), np.empty(D + 1), np.empty(D + 1), np.empty(D + 1))
    else:
        _poly_parallel(tv, sv, Ua, h, p, A, B, k0, thresh, loo, deriv, guard, bstart, nchunks, S0, S1)
