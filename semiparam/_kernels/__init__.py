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

``KERNELS``: the registry of kernel names.
"""
