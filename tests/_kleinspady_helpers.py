"""Private brute-force O(n^2) twins used by the Klein–Spady / Ichimura / KernelLink tests.

Everything here is plain NumPy and deliberately naive: the leave-one-out kernel sums
are formed from the full n x n matrix of kernel weights, the objectives from their
textbook definitions.  The library code goes through ``semiparam._kernels``; these
functions are the independent oracle it is checked against.
"""

from __future__ import annotations

import numpy as np

SQRT_EPS = float(np.sqrt(np.finfo(float).eps))


def kernel_and_derivative(name):
    """(K, K') for the four kernels, as normalised densities (compact ones on [-1, 1])."""
    if name == "gaussian":
        c = 1.0 / np.sqrt(2.0 * np.pi)
        return (lambda u: c * np.exp(-0.5 * u * u)), (lambda u: -u * c * np.exp(-0.5 * u * u))
    coefs = {"epanechnikov": (0.75, 1), "biweight": (15.0 / 16.0, 2), "triweight": (35.0 / 32.0, 3)}
    c, p = coefs[name]

    def K(u):
        inside = np.abs(u) <= 1.0
        return np.where(inside, c * np.clip(1.0 - u * u, 0.0, None) ** p, 0.0)

    def dK(u):
        inside = np.abs(u) <= 1.0
        return np.where(inside, -2.0 * p * c * u * np.clip(1.0 - u * u, 0.0, None) ** (p - 1), 0.0)

    return K, dK


def brute_kernel_sums(v, U, h, kernel, *, derivative=False, order=None, method="auto"):
    """Leave-one-out sums with the same signature as ``semiparam._kernels.kernel_sums``."""
    v = np.asarray(v, dtype=float)
    U = np.asarray(U, dtype=float)
    squeeze = U.ndim == 1
    U2 = U[:, None] if squeeze else U
    K, dK = kernel_and_derivative(kernel)
    u = (v[:, None] - v[None, :]) / h
    W = K(u)
    np.fill_diagonal(W, 0.0)
    S0 = W @ U2
    S1 = None
    if derivative:
        D = dK(u)
        np.fill_diagonal(D, 0.0)
        S1 = D @ U2
    if squeeze:
        S0 = S0[:, 0]
        S1 = None if S1 is None else S1[:, 0]
    return S0, S1, np.argsort(v, kind="stable")


def brute_kernel_sums_at(q, v, U, h, kernel, *, derivative=False):
    """Sums over all fitted points at query points (no leave-one-out)."""
    q = np.asarray(q, dtype=float)
    v = np.asarray(v, dtype=float)
    U = np.asarray(U, dtype=float)
    squeeze = U.ndim == 1
    U2 = U[:, None] if squeeze else U
    K, dK = kernel_and_derivative(kernel)
    u = (q[:, None] - v[None, :]) / h
    S0 = K(u) @ U2
    S1 = dK(u) @ U2 if derivative else None
    if squeeze:
        S0 = S0[:, 0]
        S1 = None if S1 is None else S1[:, 0]
    return S0, S1


def brute_loo_link(v, z, h, kernel, w=None):
    """Leave-one-out Nadaraya–Watson values (NaN where no neighbour has weight)."""
    v = np.asarray(v, dtype=float)
    z = np.asarray(z, dtype=float)
    w = np.ones_like(v) if w is None else np.asarray(w, dtype=float)
    K, _ = kernel_and_derivative(kernel)
    W = K((v[:, None] - v[None, :]) / h) * w[None, :]
    np.fill_diagonal(W, 0.0)
    num, den = W @ z, W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def brute_np_kleinspady_fval(X, z, beta, h, clip=SQRT_EPS, kernel="gaussian"):
    """np's fval: -(1/n) sum [z log p + (1 - z) log(1 - p)], p the clipped LOO link."""
    p = np.clip(brute_loo_link(np.asarray(X) @ beta, z, h, kernel), clip, 1.0 - clip)
    return float(-np.mean(z * np.log(p) + (1 - z) * np.log(1 - p)))


def brute_np_ichimura_fval(X, y, beta, h, kernel="gaussian"):
    """np's Ichimura fval: (1/n) sum (y - g_{-i})^2."""
    g = brute_loo_link(np.asarray(X) @ beta, y, h, kernel)
    return float(np.mean((np.asarray(y, dtype=float) - g) ** 2))


def install_brute_kernels_if_missing():
    """Until ``semiparam._kernels`` provides ``kernel_sums``, route it to the brute force.

    Returns True when the brute force was installed (the real kernels are missing).
    """
    import semiparam._kernels as K

    if hasattr(K, "kernel_sums") and hasattr(K, "kernel_sums_at"):
        return False
    K.kernel_sums = brute_kernel_sums
    K.kernel_sums_at = brute_kernel_sums_at
    return True
