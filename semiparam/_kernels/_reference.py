"""Plain-NumPy brute-force twins of the jitted kernels (used only by the tests).

Each function forms the matrix of pairwise scaled differences ``u_ij = (t_i - s_j)/h``
in row chunks and applies the textbook kernel formulas; nothing is clever, so these
are the oracle the fast kernels are checked against (the KDEpy practice of a NumPy twin
for every compiled kernel).  The window test for the compact kernels is the one the
jitted code uses, ``|t_i - s_j| <= h`` on the rounded difference.

``reference_scales`` returns the error scales of the accuracy contract stated in
:mod:`semiparam._kernels`: ``sum_j |K_ij| a_j`` and ``sum_j (|K_ij| + |K'_ij|) a_j``
with ``a_j = max_c |U_jc|``.

``shift`` (Gaussian only, one value per target) multiplies row ``i`` of the kernel
matrix by ``exp(shift_i)``, formed in log space (``phi_0 exp(shift_i - u^2/2)``), so
that the relative sums of far rows (``relative=True``, :mod:`semiparam._kernels.far`)
are checked against the textbook formula without underflow.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "kernel_value", "kernel_sums_reference", "kernel_sums_at_reference", "reference_scales",
    "loo_loss_reference",
]

_C = {1: 3.0 / 4.0, 2: 15.0 / 16.0, 3: 35.0 / 32.0}
_P = {"epanechnikov": 1, "biweight": 2, "triweight": 3}
_PHI0 = 1.0 / np.sqrt(2.0 * np.pi)
_CHUNK = 512


def kernel_value(kernel, diff, h, shift=0.0):
    """``(K(u), K'(u))`` for the differences ``diff = t - s`` (any shape), ``u = diff / h``.

    Gaussian only: ``shift`` (broadcast against ``diff``) multiplies both by
    ``exp(shift)`` inside the exponential.
    """
    u = diff / h
    if kernel == "gaussian":
        k = _PHI0 * np.exp(shift - 0.5 * u * u)
        return k, -u * k
    p = _P[kernel]
    c = _C[p]
    inside = np.abs(diff) <= h
    w = np.where(inside, 1.0 - u * u, 0.0)
    return c * w**p, np.where(inside, -2.0 * p * c * u * w ** (p - 1), 0.0)


def _sums(t, s, U, h, kernel, derivative, loo, scales, rows=None, shift=None):
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    # ``rows``: evaluate only these targets (for leave-one-out, indices into ``s``)
    rows = np.arange(t.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    t = t[rows]
    U = np.asarray(U, dtype=float)
    squeeze = U.ndim == 1
    U2 = U[:, None] if squeeze else U
    a = np.abs(U2).max(axis=1) if U2.shape[1] else np.zeros(U2.shape[0])
    nt, m = t.shape[0], U2.shape[1]
    S0 = np.zeros((nt, m))
    S1 = np.zeros((nt, m))
    E0 = np.zeros(nt)
    E1 = np.zeros(nt)
    for i0 in range(0, nt, _CHUNK):
        i1 = min(i0 + _CHUNK, nt)
        sh = 0.0 if shift is None else np.asarray(shift, dtype=float)[rows[i0:i1], None]
        with np.errstate(over="ignore", invalid="ignore"):
            k, kd = kernel_value(kernel, t[i0:i1, None] - s[None, :], h, sh)
        if shift is not None:  # sources without mass add nothing (and may overflow here)
            k[:, a == 0] = 0.0
            kd[:, a == 0] = 0.0
        if loo:
            k[np.arange(i1 - i0), rows[i0:i1]] = 0.0
            kd[np.arange(i1 - i0), rows[i0:i1]] = 0.0
        S0[i0:i1] = k @ U2
        S1[i0:i1] = kd @ U2
        E0[i0:i1] = np.abs(k) @ a
        E1[i0:i1] = (np.abs(k) + np.abs(kd)) @ a
    if scales:
        return E0, E1
    if squeeze:
        S0, S1 = S0[:, 0], S1[:, 0]
    return S0, (S1 if derivative else None)


def kernel_sums_reference(v, U, h, kernel, *, derivative=False, rows=None, shift=None):
    """Leave-one-out sums ``(S0, S1)`` by brute force (``S1`` None unless ``derivative``).

    ``rows`` restricts the output to those indices of ``v`` (all by default); ``shift``
    (n,) scales the rows as in the module docstring.
    """
    return _sums(v, v, U, h, kernel, derivative, True, False, rows, shift)


def kernel_sums_at_reference(q, v, U, h, kernel, *, derivative=False, shift=None):
    """Sums over all ``j`` at the query points ``q`` by brute force."""
    return _sums(q, v, U, h, kernel, derivative, False, False, None, shift)


def reference_scales(t, s, U, h, kernel, *, loo, rows=None, shift=None):
    """Error scales ``(sum_j |K_ij| a_j, sum_j (|K_ij| + |K'_ij|) a_j)``, ``a_j = max_c |U_jc|``.

    With ``loo`` the targets are the sources and ``j == i`` is left out; ``rows`` and
    ``shift`` as in :func:`kernel_sums_reference`.
    """
    return _sums(t, s, U, h, kernel, True, loo, True, rows, shift)


def loo_loss_reference(v, z, w, c, h, kernel, *, loss, clip=0.0):
    """``(F, dF/dv)`` of :func:`semiparam._kernels.loo_loss` from dense matrices.

    ``F = sum_i c_i l(z_i, g_i) / sum(c)`` with the leave-one-out Nadaraya–Watson link
    ``g`` (the leave-one-out mean of ``z`` where a row has no neighbour), and its exact
    derivative with respect to every ``v_k`` (dense ``n x n``: small ``n`` only).

    Gaussian: every row of the kernel matrix is divided by its largest entry among the
    neighbours ``j != i`` with positive weight (log-sum-exp), which changes no ratio and
    no term of the gradient but keeps far rows from underflowing; a row is empty only
    when no other row has positive weight.  Compact kernels: a denominator
    ``<= 1e-300`` counts as empty.
    """
    v, z, w, c = (np.asarray(a, dtype=float) for a in (v, z, w, c))
    n = v.shape[0]
    diff = v[:, None] - v[None, :]
    shift = 0.0
    if kernel == "gaussian":
        L = -0.5 * (diff / h) ** 2
        L[:, w <= 0] = -np.inf
        L[np.arange(n), np.arange(n)] = -np.inf
        top = L.max(axis=1)
        shift = np.where(np.isfinite(top), -top, 0.0)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):  # zero-weight columns, dropped next
        K, D = kernel_value(kernel, diff, h, shift)
    K[:, w <= 0] = 0.0
    D[:, w <= 0] = 0.0
    K[np.arange(n), np.arange(n)] = 0.0
    D[np.arange(n), np.arange(n)] = 0.0
    A, B = K @ (w * z), K @ w
    ok = B > (0.0 if kernel == "gaussian" else 1e-300)
    fb = (np.sum(w * z) - w * z) / (np.sum(w) - w)
    g = np.where(ok, A / np.where(ok, B, 1.0), fb)
    cn = c / c.sum()
    if loss == "bernoulli":
        gc = np.clip(g, clip, 1.0 - clip)
        F = -np.sum(cn * (z * np.log(gc) + (1 - z) * np.log(1 - gc)))
        dl = np.where((g > clip) & (g < 1 - clip), -(z - gc) / (gc * (1 - gc)), 0.0)
    else:
        F = np.sum(cn * (z - g) ** 2)
        dl = -2.0 * (z - g)
    # dg_i/dv_k: row i moves as a query point (k = i) and as a memory point (k != i)
    dA = D * (w * z)[None, :] / h  # d/dv_i of the term j, on the row i
    dB = D * w[None, :] / h
    q = np.where(ok, cn * dl / np.where(ok, B, 1.0), 0.0)
    grad = q * (dA.sum(1) - g * dB.sum(1))  # query-point moves
    grad -= (q[:, None] * (dA - g[:, None] * dB)).sum(0)  # memory-point moves
    return float(F), grad
