r"""Gaussian kernel sums: exact ``O(n^2)`` and a fast box-pair Gauss transform.

``K(u) = phi(u) = exp(-u^2/2) / sqrt(2 pi)`` and ``K'(u) = -u phi(u)``.

Exact
-----
:func:`exact_sums` is the direct double loop, parallel over targets (``prange``); the
leave-one-out sum skips ``j == i`` rather than subtracting the self term.

Fast (box-pair Taylor transform)
--------------------------------
The sorted targets and sources are cut into boxes of width ``< w h`` (``w = 1.5``),
each starting at a data value (so box coordinates come from exact differences of nearby
floats, whatever the offset of ``v``).  For a target box ``T`` with centre ``c_T`` and a
source box ``S`` with centre ``c_S`` put ``d = (c_T - c_S)/h``, ``x = (t_i - c_T)/h``,
``y = (s_j - c_S)/h`` (``|x|, |y| <= w/2``).  Then ``u = d + x - y`` and

.. math::

    e^{-u^2/2} = e^{-(d+x)^2/2}\; e^{d y - y^2/2}\; e^{x y},
    \qquad e^{xy} = \sum_{k<p} \frac{x^k y^k}{k!} + R_p, \quad |xy| \le w^2/4 .

So ``sum_{j in S} K(u_ij) U_j = phi(0) e^{-(d+x)^2/2} sum_k (x^k / k!) M_k`` with the pair
moments ``M_k = sum_j U_j e^{dy_j - y_j^2/2} y_j^k``, and ``K'`` needs
``-(d+x) sum_k (x^k/k!) M_k + sum_k (x^k/k!) M_{k+1}``.  This is the Taylor form of the
fast Gauss transform (Greengard & Strain 1991, *SIAM J. Sci. Stat. Comput.* 12, 79-94;
Yang, Duraiswami, Gumerov & Davis 2003, ICCV, "Improved fast Gauss transform"), but
with the expansion taken *per box pair* around both centres.  Because the expansion
variable is ``xy`` with ``|xy| <= t = |x|_max |y|_max <= w^2/4``, the truncation is a
uniform *relative* error ``<= t^p / p! * e^{2t}`` on every single term, however far
apart the boxes are (``e^{-(d+x)^2/2}`` and ``e^{dy - y^2/2}`` are computed exactly).
``p`` is chosen per pair so that this is below ``1e-15`` times the pair's possible share
of the target's total (15 terms for full neighbouring boxes, fewer for far or narrow
ones).  The classical FGT expands around one centre only and has an *absolute* error,
useless for the tiny sums of isolated points.  Costs: moments ``O(n_S p m)`` and
evaluation ``O(n_T p m)`` per pair (targets in tiles of 128, loops over targets
innermost so they vectorise), against ``O(n_T n_S m)`` for the direct sum; each pair
takes the cheaper of the two.

Range of pairs (relative cut-off).  For a target box a lower bound ``LB_T`` of every
target's kernel mass ``A_i = sum_j K_ij a_j`` (``a_j = max_c |U_jc|``; own box and up to
three neighbouring boxes, each at its largest possible distance) is computed first;
source boxes are added outward while the total mass beyond them times the kernel at the
gap could still exceed ``1e-15 LB_T``.  Dense data thus use about ``+-9`` bandwidths,
an isolated point as far as its neighbours require (up to ``38.7 h``, where
``exp(-u^2/2)`` underflows in double precision, exactly as in the exact sum).

Leave-one-out.  In the pair ``(T, T)`` the expansion includes the self term; it is
removed by subtracting the expansion's own value for ``y = x`` (so the truncation
cancels and only rounding of order ``eps K(0) a_i`` remains).  A target whose other
neighbours carry little mass (``K(0) a_i > 1e3 A_i``, e.g. an isolated point, or
neighbours with zero weight) is recomputed directly over its range, skipping ``j = i``.
Net accuracy (measured in ``docs/kernels.md``): ``|error| <= ~1e-14 * sum_j (|K_ij| +
|K'_ij|) a_j`` for every target.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ._jit import jit

__all__ = ["exact_sums", "fast_sums", "PHI0", "BOX_WIDTH"]

PHI0 = 1.0 / math.sqrt(2.0 * math.pi)
#: box width in bandwidths (1.5 measured ~10% faster than 1 or 2: fewer pairs, more terms)
BOX_WIDTH = 1.5
#: exp(-u^2/2) underflows to 0 beyond this distance (in bandwidths)
_UNDERFLOW = 38.7
#: relative cut-off for far boxes
_CUT_TOL = 1e-15
#: relative truncation error allowed for the e^{xy} series
_TRUNC_TOL = 1e-15
#: pairs with |d| above this are summed directly (keeps e^{dy} and e^{-(d+x)^2/2} in range)
_DMAX = 24.0
#: self-term cancellation: recompute directly when K(0) a_i > _SELF_RATIO * A_i
_SELF_RATIO = 1e3
#: rough cost, in multiply-adds, of one exp()
_EXP_COST = 12.0
_MAX_TERMS = 30
#: targets (and sources) are processed in tiles of this many (scratch stays in L1/L2)
_TILE = 128
#: at most this many source boxes lie within _UNDERFLOW bandwidths of a target box
#: (box starts are at least one box width apart)
_MAX_RANGE = 2 * int(math.ceil(_UNDERFLOW / BOX_WIDTH)) + 8


@jit
def _direct_run(t, sv, Ua, h, j0, j1, deriv, m, acc):
    """``acc[:m] += sum_j K U_j``, ``acc[m:2m] += sum_j K' U_j``, ``acc[2m] += sum_j K a_j``
    over the sources ``j0 <= j < j1`` (``Ua`` has the a-column last)."""
    for j in range(j0, j1):
        u = (t - sv[j]) / h
        kv = PHI0 * math.exp(-0.5 * u * u)
        acc[2 * m] += kv * Ua[j, m]
        for col in range(m):
            acc[col] += kv * Ua[j, col]
        if deriv:
            kd = -u * kv
            for col in range(m):
                acc[m + col] += kd * Ua[j, col]


@jit
def _direct_target(i, t, sv, Ua, h, s0, s1, loo, deriv, m, acc):
    """Direct sums of sources [s0, s1) at target ``t`` (skipping ``j = i`` when ``loo``)."""
    for r in range(2 * m + 1):
        acc[r] = 0.0
    if loo and s0 <= i < s1:
        _direct_run(t, sv, Ua, h, s0, i, deriv, m, acc)
        _direct_run(t, sv, Ua, h, i + 1, s1, deriv, m, acc)
    else:
        _direct_run(t, sv, Ua, h, s0, s1, deriv, m, acc)


@jit
def _exact_rows(tv, sv, Ua, h, loo, deriv, first, stride, S0, S1):
    """Direct sums for the targets ``first, first + stride, ...``."""
    nt = tv.shape[0]
    ns = sv.shape[0]
    m = S0.shape[1]
    acc = np.empty(2 * m + 1)
    for i in range(first, nt, stride):
        # int(0) is a typed, non-literal zero: a literal would compile _direct_target (and
        # _direct_run) a second time
        _direct_target(i, tv[i], sv, Ua, h, int(0), ns, loo, deriv, m, acc)
        for col in range(m):
            S0[i, col] = acc[col]
            if deriv:
                S1[i, col] = acc[m + col]


@jit(parallel=True)
def _exact_parallel(tv, sv, U, h, loo, deriv, nchunks, S0, S1):
    for ch in prange(nchunks):
        _exact_rows(tv, sv, U, h, loo, deriv, ch, nchunks, S0, S1)


def exact_sums(tv, sv, U, h, loo, deriv, nchunks, S0, S1):
    """Direct Gaussian sums of the first ``m = S0.shape[1]`` columns of ``U``.

    ``U`` carries one more column than ``S0`` (the row maxima, see :mod:`._common`).

    ``S0``/``S1`` (nt, m) are overwritten; with ``loo`` (targets are the sources) the
    term ``j == i`` is skipped.  ``nchunks <= 1`` runs serially in the calling thread.
    """
    if nchunks <= 1:
        _exact_rows(tv, sv, U, h, loo, deriv, 0, 1, S0, S1)
    else:
        _exact_parallel(tv, sv, U, h, loo, deriv, nchunks, S0, S1)


@jit
def _n_terms(t, tol):
    """Smallest p with t^p / p! * e^{2t} <= tol (t = max |x y| >= 0), at most _MAX_TERMS."""
    if t <= 0.0:
        return 1
    term = 1.0
    bound = math.exp(2.0 * t)
    for p in range(1, _MAX_TERMS + 1):
        term *= t / p
        if term * bound <= tol:
            return p
    return _MAX_TERMS


@jit
def _direct_pair(tv, sv, Ua, h, loo, deriv, t0, t1, s0, s1, S0, S1, Am, acc):
    """Add the direct sums of sources [s0, s1) to targets [t0, t1) (``acc``: scratch)."""
    m = S0.shape[1]
    for i in range(t0, t1):
        _direct_target(i, tv[i], sv, Ua, h, s0, s1, loo, deriv, m, acc)
        Am[i] += acc[2 * m]
        for col in range(m):
            S0[i, col] += acc[col]
            if deriv:
                S1[i, col] += acc[m + col]


@jit(fastmath={"reassoc", "contract"})
def _pair_moments(ys, gs, UaT, deriv, d, s0, s1, nterm, M, PW):
    """Moments ``M[col, k] = sum_j Ua[j, col] e^{d y_j - y_j^2/2} y_j^k`` of sources [s0, s1).

    ``ys``/``gs`` hold every source's box coordinate ``y`` and ``e^{-y^2/2}``, ``UaT`` the
    source columns transposed; sources go in chunks of ``_TILE`` so that the powers
    ``PW`` stay in cache and the sums over sources vectorise (``reassoc`` only reorders
    these sums of products).
    """
    mc = UaT.shape[0]
    nk = nterm + 1 if deriv else nterm
    for col in range(mc):
        for k in range(nk):
            M[col, k] = 0.0
    for c0 in range(s0, s1, _TILE):
        nc = min(c0 + _TILE, s1) - c0
        for jj in range(nc):
            PW[0, jj] = gs[c0 + jj] * math.exp(d * ys[c0 + jj])
        for k in range(1, nk):
            for jj in range(nc):
                PW[k, jj] = PW[k - 1, jj] * ys[c0 + jj]
        for col in range(mc):
            for k in range(nk):
                acc = 0.0
                for jj in range(nc):
                    acc += PW[k, jj] * UaT[col, c0 + jj]
                M[col, k] += acc


@jit
def _pair_evaluate(Ua, deriv, loo_self, d, nterm, M, X, a, b, i0, Q, acc):
    """Add one pair's expansion to the target tile ``X[a:b]`` (accumulators ``acc``).

    ``acc`` rows: ``0..m-1`` the ``S0`` columns, ``m`` the a-mass, ``m+1..2m`` the partial
    derivative sums ``sum_pairs (T1 - d T0)`` (the caller adds ``-x * S0`` at the end);
    the target index runs innermost so that the loops vectorise.  With ``loo_self``
    (the pair of a box with itself) the expansion's own value of the self term
    (``y = x``, ``d = 0``) is removed; ``i0`` is the source index of ``X[0]``.
    """
    mc = Ua.shape[1]
    m = mc - 1
    nt = b - a
    for ii in range(nt):
        dx = d + X[a + ii]
        Q[0, ii] = PHI0 * math.exp(-0.5 * dx * dx)
    for k in range(1, nterm):
        f = 1.0 / k
        for ii in range(nt):
            Q[k, ii] = Q[k - 1, ii] * X[a + ii] * f
    for col in range(mc):
        for k in range(nterm):
            c = M[col, k]
            for ii in range(nt):
                acc[col, ii] += Q[k, ii] * c
    if deriv:
        for col in range(m):
            for k in range(nterm):
                c = M[col, k + 1] - d * M[col, k]
                for ii in range(nt):
                    acc[mc + col, ii] += Q[k, ii] * c
    if loo_self:
        for ii in range(nt):
            x = X[a + ii]
            gy = math.exp(-0.5 * x * x)
            e0 = 0.0
            e1 = 0.0
            for k in range(nterm):
                e0 += Q[k, ii] * gy
                gy *= x
                e1 += Q[k, ii] * gy
            i = i0 + a + ii
            acc[m, ii] -= e0 * Ua[i, m]
            for col in range(m):
                acc[col, ii] -= e0 * Ua[i, col]
                if deriv:
                    acc[mc + col, ii] -= e1 * Ua[i, col]


@jit
def box_summaries(x, starts, Ua, h):
    """Per box: reference value, half width (in h), a-mass, max a; and mass prefix sums."""
    nb = starts.shape[0] - 1
    m = Ua.shape[1] - 1
    ref = np.empty(nb)
    last = np.empty(nb)
    hw = np.empty(nb)
    mass = np.empty(nb)
    amax = np.empty(nb)
    cum = np.empty(nb + 1)
    cum[0] = 0.0
    for b in range(nb):
        s = starts[b]
        e = starts[b + 1]
        ref[b] = x[s]
        last[b] = x[e - 1]
        hw[b] = 0.5 * (x[e - 1] - x[s]) / h
        tot = 0.0
        mx = 0.0
        for j in range(s, e):
            a = Ua[j, m]
            tot += a
            if a > mx:
                mx = a
        mass[b] = tot
        amax[b] = mx
        cum[b + 1] = cum[b] + tot
    return ref, last, hw, mass, amax, cum


@jit
def _kern(u):
    return PHI0 * math.exp(-0.5 * u * u)


@jit
def _source_coordinates(x, starts, h):
    """Box coordinate ``y = (x - ref)/h - hw`` of every source and ``e^{-y^2/2}``."""
    n = x.shape[0]
    ys = np.empty(n)
    gs = np.empty(n)
    for b in range(starts.shape[0] - 1):
        s = starts[b]
        e = starts[b + 1]
        r = x[s]
        hw = 0.5 * (x[e - 1] - r) / h
        for j in range(s, e):
            y = (x[j] - r) / h - hw
            ys[j] = y
            gs[j] = math.exp(-0.5 * y * y)
    return ys, gs


@jit
def _box_refs(x, starts, h):
    nb = starts.shape[0] - 1
    ref = np.empty(nb)
    last = np.empty(nb)
    hw = np.empty(nb)
    for b in range(nb):
        ref[b] = x[starts[b]]
        last[b] = x[starts[b + 1] - 1]
        hw[b] = 0.5 * (last[b] - ref[b]) / h
    return ref, last, hw


@jit
def _pivot(T, rT, sref, loo):
    """The last source box starting at or before ``rT`` (the own box when ``loo``)."""
    if loo:
        return T
    lo_b = 0
    hi_b = sref.shape[0]
    while hi_b - lo_b > 1:
        mid = (lo_b + hi_b) // 2
        if sref[mid] <= rT:
            lo_b = mid
        else:
            hi_b = mid
    return lo_b


@jit
def _mass_bound(T, piv, rT, lT, sref, slast, smass, samax, h, loo):
    """Lower bound of every target's kernel mass ``A_i`` in the target box ``T``."""
    LB = 0.0
    for S in range(max(piv - 3, 0), min(piv + 4, sref.shape[0])):
        far = (max(slast[S], lT) - min(sref[S], rT)) / h
        if loo and S == T:
            LB += _kern(far) * (smass[S] - samax[S])
        else:
            LB += _kern(far) * smass[S]
    return LB


@jit
def _mass_bounds(tref, tlast, sref, slast, smass, samax, h, loo):
    """Every target box's mass bound (their median is the error scale of the boxes below
    it when ``guard`` is off; taken by NumPy, as numba's median compiles a selection
    algorithm of its own)."""
    bounds = np.empty(tref.shape[0])
    for T in range(tref.shape[0]):
        piv = _pivot(T, tref[T], sref, loo)
        bounds[T] = _mass_bound(T, piv, tref[T], tlast[T], sref, slast, smass, samax, h, loo)
    return bounds


@jit
def _fast_boxes(tv, sv, Ua, h, loo, deriv, tb, sb, tref, tlast, thw, sref, slast, shw, smass,
                samax, scum, ys, gs, UaT, floor, first, stride, S0, S1, Am):
    """Process the target boxes ``first, first + stride, ...`` (see :func:`fast_sums`).

    Per target box: (1) the range of source boxes from the relative cut-off (relative
    to the larger of the box's mass bound and ``floor``); (2) each pair either summed
    directly or its moments stored; (3) the stored expansions evaluated tile by tile
    over the box's targets.
    """
    m = S0.shape[1]
    mc = m + 1
    ntb = tb.shape[0] - 1
    nsb = sb.shape[0] - 1
    stotal = scum[nsb]
    nrange = min(nsb, _MAX_RANGE)
    Mst = np.empty((nrange, mc, _MAX_TERMS + 1))
    pd = np.empty(nrange)
    pn = np.empty(nrange, dtype=np.int64)
    pself = np.empty(nrange, dtype=np.bool_)
    PW = np.empty((_MAX_TERMS + 1, _TILE))
    nTmax = 0
    for T in range(first, ntb, stride):
        nTmax = max(nTmax, tb[T + 1] - tb[T])
    X = np.empty(nTmax)
    Q = np.empty((_MAX_TERMS, _TILE))
    acc = np.empty((2 * m + 1, _TILE))
    dacc = np.empty(2 * m + 1)
    ncol = 2 * m + 1 if deriv else m + 1
    for T in range(first, ntb, stride):
        t0 = tb[T]
        t1 = tb[T + 1]
        nT = t1 - t0
        rT = tref[T]
        lT = tlast[T]
        hwT = thw[T]
        piv = _pivot(T, rT, sref, loo)
        LB = max(_mass_bound(T, piv, rT, lT, sref, slast, smass, samax, h, loo), floor)
        # range of source boxes [L, R]
        R = piv
        while R + 1 < nsb:
            gap = (sref[R + 1] - lT) / h
            if gap < 0.0:
                gap = 0.0
            if gap > _UNDERFLOW:
                break
            if (stotal - scum[R + 1]) * _kern(gap) <= _CUT_TOL * LB:
                break
            R += 1
        L = piv
        while L - 1 >= 0:
            gap = (rT - slast[L - 1]) / h
            if gap < 0.0:
                gap = 0.0
            if gap > _UNDERFLOW:
                break
            if scum[L] * _kern(gap) <= _CUT_TOL * LB:
                break
            L -= 1
        # direct pairs now, expansion pairs: moments now, evaluation below
        npair = 0
        for S in range(L, R + 1):
            s0 = sb[S]
            s1 = sb[S + 1]
            nS = s1 - s0
            d = (rT - sref[S]) / h + (hwT - shw[S])
            use_exp = abs(d) <= _DMAX and nT * nS > 16 and npair < nrange
            nterm = 0
            if use_exp:
                # relative truncation allowed for this pair: its contribution to any
                # target is at most smass[S] K(gap), every target's mass is >= LB
                if sref[S] > lT:
                    gap = (sref[S] - lT) / h
                elif slast[S] < rT:
                    gap = (rT - slast[S]) / h
                else:
                    gap = 0.0
                bound = smass[S] * _kern(gap)
                tol = _TRUNC_TOL
                if bound > 0.0 and LB > 0.0:
                    tol = max(_TRUNC_TOL, min(1e-3, _TRUNC_TOL * LB / bound))
                nterm = _n_terms(hwT * shw[S], tol)
                c_dir = nT * nS * (_EXP_COST + ncol)
                c_exp = nS * (_EXP_COST + (nterm + 1) * mc) + nT * (_EXP_COST + nterm * (ncol + 1))
                use_exp = c_exp < c_dir
            if use_exp:
                _pair_moments(ys, gs, UaT, deriv, d, s0, s1, nterm, Mst[npair], PW)
                pd[npair] = d
                pn[npair] = nterm
                pself[npair] = loo and S == T
                npair += 1
            else:
                _direct_pair(tv, sv, Ua, h, loo, deriv, t0, t1, s0, s1, S0, S1, Am, dacc)
        if npair > 0:
            for ii in range(nT):
                X[ii] = (tv[t0 + ii] - rT) / h - hwT
            for a in range(0, nT, _TILE):
                b = min(a + _TILE, nT)
                for r in range(2 * m + 1):
                    for ii in range(b - a):
                        acc[r, ii] = 0.0
                for p in range(npair):
                    _pair_evaluate(Ua, deriv, pself[p], pd[p], pn[p], Mst[p], X, a, b, t0, Q, acc)
                for ii in range(b - a):
                    i = t0 + a + ii
                    Am[i] += acc[m, ii]
                    for col in range(m):
                        S0[i, col] += acc[col, ii]
                        if deriv:
                            S1[i, col] += acc[mc + col, ii] - X[a + ii] * acc[col, ii]
        if loo:
            k0 = PHI0
            for i in range(t0, t1):
                ai = Ua[i, m]
                if ai > 0.0 and k0 * ai > _SELF_RATIO * Am[i]:
                    for col in range(m):
                        S0[i, col] = 0.0
                        if deriv:
                            S1[i, col] = 0.0
                    Am[i] = 0.0
                    # ``loo`` (True here), not the literal: a literal argument would compile
                    # a second specialisation of _direct_pair
                    _direct_pair(tv, sv, Ua, h, loo, deriv, i, i + 1, sb[L], sb[R + 1],
                                 S0, S1, Am, dacc)


@jit(parallel=True)
def _fast_parallel(tv, sv, Ua, h, loo, deriv, tb, sb, tref, tlast, thw, sref, slast, shw, smass,
                   samax, scum, ys, gs, UaT, floor, nchunks, S0, S1, Am):
    for ch in prange(nchunks):
        _fast_boxes(tv, sv, Ua, h, loo, deriv, tb, sb, tref, tlast, thw, sref, slast, shw, smass,
                    samax, scum, ys, gs, UaT, floor, ch, nchunks, S0, S1, Am)


def _fast_prep(tv, sv, Ua, h, tb, sb, deriv, S0, S1):
    """Box summaries, source coordinates and zeroed outputs for :func:`_fast_boxes`
    (plain Python over three jitted passes: one compiled function fewer)."""
    sref, slast, shw, smass, samax, scum = box_summaries(sv, sb, Ua, h)
    tref, tlast, thw = _box_refs(tv, tb, h)
    S0[:] = 0.0
    if deriv:
        S1[:] = 0.0
    ys, gs = _source_coordinates(sv, sb, h)
    UaT = np.ascontiguousarray(Ua.T)
    return tref, tlast, thw, sref, slast, shw, smass, samax, scum, ys, gs, UaT


def fast_sums(tv, sv, Ua, h, loo, deriv, tb, sb, nchunks, S0, S1, guard=True):
    """Fast Gaussian sums on sorted data (see the module docstring).

    ``tb``/``sb``: box starts of the sorted targets/sources (for leave-one-out the same
    array, with ``tv is sv``).  ``S0``/``S1`` (nt, m) are overwritten.  ``nchunks <= 1``
    runs serially in the calling thread (the parallel version is compiled only when a
    problem first needs it).  ``guard=False`` makes the far-box cut-off and the series
    truncation of a box relative to the larger of its own mass bound and the median
    box's: an absolute error bound, ``~1e-15`` of a typical local sum, for the boxes of
    little mass.  :mod:`.loo` uses it for weights spanning many orders of magnitude
    (many of them zero), where the relative rule would sum every pair of an empty box
    out to the underflow distance.
    """
    prep = _fast_prep(tv, sv, Ua, h, tb, sb, deriv, S0, S1)
    tref, tlast, _, sref, slast, _, smass, samax = prep[:8]
    floor = 0.0 if guard else float(np.median(_mass_bounds(tref, tlast, sref, slast, smass, samax,
                                                           h, loo)))
    Am = np.zeros(tv.shape[0])
    if nchunks <= 1:
        _fast_boxes(tv, sv, Ua, h, loo, deriv, tb, sb, *prep, floor, 0, 1, S0, S1, Am)
    else:
        _fast_parallel(tv, sv, Ua, h, loo, deriv, tb, sb, *prep, floor, nchunks, S0, S1, Am)
