"""Numba kernels (private).  Public surface, used by links/ and index/:

``kernel_sums(v, U, h, kernel, *, derivative=False, order=None, method="auto")``
    Leave-one-out kernel sums on a scalar index.  ``v`` (n,), ``U`` (n, m) float64,
    ``h > 0``.  Returns ``(S0, S1, order)`` with
    ``S0[i, c] = sum_{j != i} K((v_i - v_j) / h) * U[j, c]`` and (when ``derivative``)
    ``S1[i, c] = sum_{j != i} K'((v_i - v_j) / h) * U[j, c]`` (K' the derivative of K
    with respect to its argument; S1 is None otherwise).  ``order`` is a permutation
    sorting ``v``; pass the previous one back to make re-sorting almost linear.

``kernel_sums_at(q, v, U, h, kernel, *, derivative=False)``
    The same sums (all j, no leave-one-out) at query points ``q``.

``relative=True`` (both functions) adds a last output ``logscale`` (n,): the Gaussian
sums of a row whose nearest source with positive mass lies more than ``far.FAR``
bandwidths away, where ``S0`` would underflow, are returned multiplied by
``exp(logscale_i)`` (relative to that source's kernel weight, :mod:`.far`);
``logscale`` is 0 elsewhere and for the compact kernels.  Every ratio of two sums of
one row is then exact however far the row lies (Nadaraya–Watson links, ``E[x | v]``).

``loo_loss(v, Z, h, kernel, *, loss, clip=0.0, order=None, gradient=True, method="auto")``
    A leave-one-out kernel-regression loss and its gradient with respect to ``v``, fused
    into two sorted passes (:mod:`.loo`; ``Z`` from ``static_columns(z, w, c)``).
    Returns ``(F, dF/dv or None, order)``.

``KERNELS``: the registry of kernel names (the one home of the kernel constants);
``bandwidth_ratio(kernel, reference)`` the ratio of canonical bandwidths
``delta_K / delta_ref`` that carries a bandwidth from one kernel to another.

Details
-------
* Only ``j == i`` is left out; ties ``v_j == v_i`` with ``j != i`` count with ``K(0)``.
* The compact kernels (``"epanechnikov"``, ``"biweight"``, ``"triweight"``) live on the
  closed window ``|v_i - v_j| <= h`` and are computed exactly (to rounding) in
  ``O(n log n)`` by block-recentred windowed moments (:mod:`.polynomial`).
* ``"gaussian"`` has ``method="exact"`` (direct ``O(n^2)``, parallel), ``"fast"`` (a
  box-pair Taylor Gauss transform with relative truncation error below ``1e-15`` per
  term, :mod:`.gaussian`) and ``"auto"`` (exact for ``n <= GAUSSIAN_AUTO_EXACT_MAX``,
  fast above).  ``method`` (also a keyword of ``kernel_sums_at``) is ignored by the
  compact kernels.  ``check_input=False`` (both functions) skips the finiteness and
  permutation checks.
* Accuracy contract (all kernels and methods): for every target ``i`` and column ``c``,
  ``|S0_ic - exact| <= 1e-10 * sum_j |K_ij| a_j`` and
  ``|S1_ic - exact| <= 1e-10 * sum_j (|K_ij| + |K'_ij|) a_j``, where
  ``a_j = max_c |U_jc|`` and the sums run over the same ``j`` as the kernel sum.
  Measured errors are 1e-16 to 1e-13 (``docs/kernels.md``).
* ``KERNELS[name]`` is a frozen :class:`Kernel` with ``k0 = K(0)``, ``roughness``,
  ``variance``, ``support``, ``canonical_bandwidth`` and NumPy ``__call__``/``derivative``.
* Threads: a call runs in the calling thread unless its estimated serial time exceeds
  ``_PARALLEL_MIN_SECONDS``; results are identical either way.
* Every jitted kernel has a plain-NumPy twin in :mod:`._reference`, used by the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from ._common import greedy_blocks, prepare, scatter_rows, scratch
from .far import FAR, far_rows, relative_rows
from .gaussian import BOX_WIDTH, PHI0, exact_sums, fast_sums
from .loo import LOSSES, static_columns
from .loo import loo_loss as _loo_loss
from .polynomial import NORMALISERS, POWERS, coefficient_tables, poly_sums

__all__ = [
    "Kernel", "KERNELS", "kernel_sums", "kernel_sums_at", "loo_loss", "static_columns",
    "LOSSES", "GAUSSIAN_AUTO_EXACT_MAX", "bandwidth_ratio",
]

#: "auto" uses the exact Gaussian sums up to this n (both sides measured, docs/kernels.md)
GAUSSIAN_AUTO_EXACT_MAX = 64

#: ``loo_loss`` with the Gaussian: the exact dense pair loop up to this n (measured:
#: 2x faster than "fast" at n = 100, 1.3x at 189, slower from about 250)
LOO_DENSE_MAX = 240

_METHODS = ("auto", "exact", "fast")


@dataclass(frozen=True)
class Kernel:
    """A registered kernel: its name and the constants estimators need.

    Attributes
    ----------
    name : str
        The canonical (and only) registry name.
    support : float
        Half-width of the support in units of ``h`` (``inf`` for the Gaussian).
    k0 : float
        ``K(0)``, the weight of a tie (and of the self term left out).
    roughness : float
        ``R(K) = int K(u)^2 du``.
    variance : float
        ``mu_2(K) = int u^2 K(u) du``.
    power : int
        ``p`` of ``c_p (1 - u^2)^p`` for the compact kernels, 0 for the Gaussian.
    """

    name: str
    support: float
    k0: float
    roughness: float
    variance: float
    power: int
    _tables: tuple = field(default=(), repr=False, compare=False)

    @property
    def canonical_bandwidth(self) -> float:
        """``delta_0 = (R(K) / mu_2(K)^2)^(1/5)`` (Marron & Nolan 1988)."""
        return (self.roughness / self.variance**2) ** 0.2

    def __call__(self, u):
        """``K(u)`` (NumPy, vectorised)."""
        u = np.asarray(u, dtype=float)
        if self.power == 0:
            return PHI0 * np.exp(-0.5 * u * u)
        c = NORMALISERS[self.power]
        return np.where(np.abs(u) <= 1.0, c * (1.0 - u * u) ** self.power, 0.0)

    def derivative(self, u):
        """``K'(u) = dK/du`` (NumPy, vectorised; the closed window for compact kernels)."""
        u = np.asarray(u, dtype=float)
        if self.power == 0:
            return -u * PHI0 * np.exp(-0.5 * u * u)
        p = self.power
        c = NORMALISERS[p]
        return np.where(np.abs(u) <= 1.0, -2.0 * p * c * u * (1.0 - u * u) ** (p - 1), 0.0)


def _compact(name, k0, roughness, variance):
    p = POWERS[name]
    return Kernel(name, 1.0, k0, roughness, variance, p, coefficient_tables(p))


KERNELS = {
    "epanechnikov": _compact("epanechnikov", 3.0 / 4.0, 3.0 / 5.0, 1.0 / 5.0),
    "biweight": _compact("biweight", 15.0 / 16.0, 5.0 / 7.0, 1.0 / 7.0),
    "triweight": _compact("triweight", 35.0 / 32.0, 350.0 / 429.0, 1.0 / 9.0),
    "gaussian": Kernel("gaussian", math.inf, PHI0, 0.5 / math.sqrt(math.pi), 1.0, 0),
}


def bandwidth_ratio(kernel, reference="gaussian") -> float:
    """``delta_K / delta_ref``: the bandwidth of ``kernel`` that smooths as much as a
    bandwidth of 1 with ``reference`` (canonical bandwidths, Marron & Nolan 1988)."""
    return _kernel(kernel).canonical_bandwidth / _kernel(reference).canonical_bandwidth


# --------------------------------------------------------------------------- validation
def _kernel(kernel) -> Kernel:
    if isinstance(kernel, Kernel):
        return KERNELS[kernel.name]
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)}; got {kernel!r}.")
    return KERNELS[kernel]


def _bandwidth(h) -> float:
    try:
        hf = float(h)
    except (TypeError, ValueError):
        raise ValueError(f"h must be a positive finite number; got {h!r}.") from None
    if not (math.isfinite(hf) and hf > 0.0):
        raise ValueError(f"h must be a positive finite number; got {h!r}.")
    return hf


def _vector(x, name, check):
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {x.shape}.")
    if check and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return x


def _columns(U, n, check):
    U = np.asarray(U, dtype=np.float64)
    squeeze = U.ndim == 1
    if squeeze:
        U = U[:, None]
    if U.ndim != 2 or U.shape[0] != n:
        raise ValueError(f"U must have shape (n,) or (n, m) with n = {n}; got {U.shape}.")
    if check and not np.isfinite(U).all():
        raise ValueError("U contains NaN or infinity.")
    return np.ascontiguousarray(U), squeeze


def _method(method, n):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    if method == "auto":
        return "exact" if n <= GAUSSIAN_AUTO_EXACT_MAX else "fast"
    return method


#: below this estimated serial time (seconds) the kernels run in the calling thread: a
#: parallel region costs ~0.1 ms on an idle machine but ~10 ms when the cores are busy
_PARALLEL_MIN_SECONDS = 0.005
#: rough serial costs measured on the development machine (seconds per unit of work)
_COST_POLY = 1e-8  # per point and column
_COST_FAST = 1.5e-7  # per point and column
_COST_EXACT = 5e-9  # per pair and column


def _nchunks(seconds) -> int:
    threads = int(numba.get_num_threads())
    if threads <= 1 or seconds < _PARALLEL_MIN_SECONDS:
        return 1
    return threads  # chunk c takes blocks c, c + threads, ...: neighbours alternate threads


# --------------------------------------------------------------------------- engine
def sorted_sums(tv, sv, Ua, m, h, spec, loo, derivative, method, guard=True):
    """Kernel sums of the first ``m`` columns of ``Ua`` on sorted targets ``tv`` / sources ``sv``.

    ``Ua``'s last column bounds the others (the a-mass of the error control; it may be
    one of the ``m`` summed columns for the compact kernels).  Returns ``(S0, S1)`` in
    sorted target order, workspace scratch valid until the next call in this thread
    (``S1`` of shape ``(0, m)`` unless ``derivative``).  ``guard=False``: see
    :func:`.polynomial.poly_sums`.
    """
    nt = tv.shape[0]
    S0 = scratch("S0", (nt, m))
    S1 = scratch("S1", (nt, m)) if derivative else scratch("S1", (0, m))
    if sv.shape[0] == 0 or nt == 0:
        S0[:] = 0.0
        S1[:] = 0.0
        return S0, S1
    if spec.power > 0:
        A, B, k0, thresh = spec._tables
        bstart = greedy_blocks(tv, h)
        work = _COST_POLY * (nt + sv.shape[0]) * Ua.shape[1]
        poly_sums(tv, sv, Ua, h, spec.power, A, B, k0, thresh, loo, derivative, guard,
                  bstart, _nchunks(work), S0, S1)
    elif method == "exact":
        work = _COST_EXACT * nt * sv.shape[0] * Ua.shape[1]
        exact_sums(tv, sv, Ua, h, loo, derivative, _nchunks(work), S0, S1)
    else:
        tb = greedy_blocks(tv, BOX_WIDTH * h)
        sb = tb if tv is sv else greedy_blocks(sv, BOX_WIDTH * h)
        work = _COST_FAST * (nt + sv.shape[0]) * Ua.shape[1]
        fast_sums(tv, sv, Ua, h, loo, derivative, tb, sb, _nchunks(work), S0, S1, guard)
    return S0, S1


def _sums(tv, sv, Ua, m, h, spec, loo, derivative, method, torder, relative=False):
    """:func:`sorted_sums`, the results put back in the targets' original order.

    ``torder`` is the permutation that sorted the targets.  With ``relative`` the far
    rows of the Gaussian are summed relative to their nearest source (:mod:`.far`) and
    a third output, ``logscale`` in the targets' order, is returned.
    """
    S0, S1 = sorted_sums(tv, sv, Ua, m, h, spec, loo, derivative, method)
    nt = tv.shape[0]
    logs = np.zeros(nt) if relative else None
    if relative and spec.power == 0 and sv.shape[0] > 0 and nt > 0:
        rows, ref = far_rows(tv, sv, np.ascontiguousarray(Ua[:, m]), h, loo, FAR)
        if rows.size:
            ls = np.zeros(nt)
            relative_rows(tv, sv, Ua, h, rows, ref, loo, derivative, S0, S1, ls)
            logs[torder] = ls
    out0 = np.empty((nt, m))
    out1 = np.empty((nt, m)) if derivative else np.empty((0, m))
    scatter_rows(S0, torder, out0, False)
    if derivative:
        scatter_rows(S1, torder, out1, False)
    if relative:
        return out0, (out1 if derivative else None), logs
    return out0, (out1 if derivative else None)


def kernel_sums(v, U, h, kernel, *, derivative=False, order=None, method="auto", check_input=True,
                relative=False):
    """Leave-one-out kernel sums ``(S0, S1, order)``; see the module docstring.

    Parameters
    ----------
    v : array (n,)
        The scalar index.
    U : array (n,) or (n, m)
        Columns to smooth (weights, weighted outcomes, ...).  1-D in, 1-D out.
    h : float
        Bandwidth, ``> 0``.
    kernel : str
        A key of :data:`KERNELS`.
    derivative : bool
        Also return ``S1`` (sums of ``K'``, the derivative with respect to ``u``).
    order : int array (n,), optional
        The ``order`` returned by a previous call (any permutation of ``range(n)``):
        re-sorting starts from it and is almost linear when ``v`` moved little.
    method : {"auto", "exact", "fast"}
        Gaussian only (see module docstring); ignored by the compact kernels.
    check_input : bool
        Check that ``v`` and ``U`` are finite and that ``order`` is a permutation (one
        cheap pass over each).  With ``check_input=False`` invalid input gives
        undefined results.
    relative : bool
        Gaussian rows too far from every source to be represented are returned relative
        to their nearest source's kernel weight (module docstring); adds ``logscale``.

    Returns
    -------
    S0 : ndarray (n, m) or (n,)
    S1 : ndarray like ``S0``, or None
    order : int64 ndarray (n,) with ``v[order]`` ascending.
    logscale : ndarray (n,), only with ``relative``
        ``S0 * exp(-logscale)`` are the sums themselves.
    """
    spec = _kernel(kernel)
    h = _bandwidth(h)
    v = _vector(v, "v", check_input)
    n = v.shape[0]
    U2, squeeze = _columns(U, n, check_input)
    m = U2.shape[1]
    meth = _method(method, n)
    if order is not None:
        order = np.asarray(order)
        if order.shape != (n,) or not np.issubdtype(order.dtype, np.integer):
            raise ValueError(f"order must be a permutation of range({n}).")
    order, vs, Ua = prepare(v, U2, order, check=check_input)
    res = _sums(vs, vs, Ua, m, h, spec, True, bool(derivative), meth, order, relative)
    S0, S1 = res[0], res[1]
    if squeeze:
        S0 = S0[:, 0]
        S1 = None if S1 is None else S1[:, 0]
    if relative:
        return S0, S1, order, res[2]
    return S0, S1, order


def kernel_sums_at(q, v, U, h, kernel, *, derivative=False, method="auto", check_input=True,
                   relative=False):
    """Kernel sums over all ``j`` at query points ``q``: ``(S0, S1)`` (``(S0, S1, logscale)``
    with ``relative``, as in :func:`kernel_sums`).

    ``S0[k, c] = sum_j K((q_k - v_j) / h) U[j, c]`` and, with ``derivative``,
    ``S1[k, c] = sum_j K'((q_k - v_j) / h) U[j, c]``.  Arguments as in
    :func:`kernel_sums`; ``method="auto"`` picks the exact Gaussian sums when
    ``len(q) * len(v) <= GAUSSIAN_AUTO_EXACT_MAX ** 2``.
    """
    spec = _kernel(kernel)
    h = _bandwidth(h)
    q = _vector(q, "q", check_input)
    v = _vector(v, "v", check_input)
    U2, squeeze = _columns(U, v.shape[0], check_input)
    m = U2.shape[1]
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    if method == "auto":
        small = q.shape[0] * v.shape[0] <= GAUSSIAN_AUTO_EXACT_MAX**2
        method = "exact" if small else "fast"
    qorder, qs, _ = prepare(q, np.empty((q.shape[0], 0)), tag="q")
    vorder, vs, Ua = prepare(v, U2, tag="v")
    res = _sums(qs, vs, Ua, m, h, spec, False, bool(derivative), method, qorder, relative)
    S0, S1 = res[0], res[1]
    if squeeze:
        S0 = S0[:, 0]
        S1 = None if S1 is None else S1[:, 0]
    if relative:
        return S0, S1, res[2]
    return S0, S1


def loo_loss(v, Z, h, kernel, *, loss, clip=0.0, order=None, gradient=True, method="auto"):
    """Leave-one-out loss and gradient in two fused sorted passes (see :mod:`.loo`).

    ``v`` must be finite and ``Z`` come from :func:`static_columns`; ``order`` (a
    previous result) is trusted to be a permutation.  Returns ``(F, gv, order)``.
    """
    spec = _kernel(kernel)
    h = _bandwidth(h)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}; got {loss!r}.")
    v = np.ascontiguousarray(v, dtype=np.float64)
    if method == "auto":  # the dense pair loop of :mod:`.loo` wins up to LOO_DENSE_MAX
        method = "exact" if v.shape[0] <= LOO_DENSE_MAX else "fast"
    meth = _method(method, v.shape[0])
    return _loo_loss(v, Z, h, spec, loss=loss, clip=clip, order=order, gradient=gradient,
                     method=meth)
