"""Sorting, gathering and blocking helpers shared by the jitted kernel modules.

Every kernel in this package works on the index ``v`` sorted once per call:

* :func:`prepare` turns the permutation of the previous call into one that sorts the
  current ``v`` (checking on the way that it is a permutation).  Between optimiser
  steps the order changes little, so a guarded insertion pass (``O(n + inversions)``,
  aborted once the number of moves exceeds a budget proportional to ``n``) finishes in
  almost linear time; when it gives up, NumPy's stable sort (timsort for floats)
  finishes the job, which is itself adaptive to runs.  It then copies the weight
  columns into sorted order and appends the row-wise ``max_c |U[j, c]|`` column that
  every kernel uses to bound its own rounding error (see the module docstrings of
  :mod:`.polynomial` and :mod:`.gaussian`).  :func:`scatter_rows` does this gather
  and also puts the results back in input order: it writes through the permutation
  and reads sequentially, which is the fast direction once ``n`` outgrows the caches.  :func:`sort_index` is the sorting half on its own, for callers that
  gather their columns themselves (:mod:`.loo`).
* :func:`greedy_blocks` cuts the sorted index into consecutive blocks of width at most
  ``width`` (each block starts at a data value, so block-local coordinates are computed
  from exact differences of nearby floats, whatever the offset of ``v``).

All helpers take and return plain arrays and allocate only outside their loops.
"""

from __future__ import annotations

import threading

import numpy as np

from ._jit import jit

__all__ = [
    "sort_index", "prepare", "scatter_rows", "greedy_blocks", "scratch",
]

#: insertion moves allowed per element before the warm start gives up on insertion
_INSERTION_BUDGET = 8


class _Workspace(threading.local):
    """Per-thread scratch arrays, reused between calls of the same size.

    A leave-one-out call at n = 1e6 needs about 100 MB of internal scratch; fresh
    arrays of that size come straight from the operating system (``mmap``) and cost
    one page fault per 4 KiB, about a third of the whole call.  Arrays of at least
    ``_WORKSPACE_MIN_BYTES`` are therefore kept (one per name and thread, the last
    size used) and handed out again; they never leave this package.
    """

    def __init__(self):
        self.arrays = {}

    def get(self, name, shape, dtype=np.float64):
        a = self.arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = np.empty(shape, dtype)
            if a.nbytes >= _WORKSPACE_MIN_BYTES:
                self.arrays[name] = a
            else:
                self.arrays.pop(name, None)
        return a


_WORKSPACE_MIN_BYTES = 1 << 20
_workspace = _Workspace()


def scratch(name, shape, dtype=np.float64):
    """A scratch array of this thread's workspace (contents undefined)."""
    return _workspace.get(name, tuple(shape), np.dtype(dtype))


@jit
def _sort_warm(v, order, inv, keys, check, budget):
    """Sort ``v`` starting from ``order`` (in place); ``inv`` and ``keys`` (n,) are outputs.

    Steps: check that ``order`` is a permutation (with ``check``) while forming its
    inverse ``inv[order[k]] = k``; gather ``keys = v[order]``, written as
    ``keys[inv[j]] = v[j]`` (sequential reads, scattered writes: about twice as fast as
    a random gather once ``n`` outgrows the caches); a stable insertion sort of ``keys``
    carrying ``order``, which gives up once its moves exceed ``budget``; the inverse
    again if anything moved.  One jitted function rather than four: each function costs
    its own compile on a cold start.

    Returns 1 when ``check`` is on and ``order`` is not a permutation, -1 when the
    insertion pass gave up (``order``/``keys`` then hold a partly sorted but consistent
    state, ``inv`` is stale), 0 when done.
    """
    n = v.shape[0]
    if check:
        for j in range(n):
            inv[j] = -1
    for k in range(n):
        j = order[k]
        if check and (j < 0 or j >= n or inv[j] >= 0):
            return 1
        inv[j] = k
    for j in range(n):
        keys[inv[j]] = v[j]
    moves = 0
    for i in range(1, n):
        kv = keys[i]
        if not keys[i - 1] > kv:
            continue
        ko = order[i]
        j = i - 1
        while j >= 0 and keys[j] > kv:
            keys[j + 1] = keys[j]
            order[j + 1] = order[j]
            j -= 1
            moves += 1
        keys[j + 1] = kv
        order[j + 1] = ko
        if moves > budget:
            return -1
    if moves > 0:
        for k in range(n):
            inv[order[k]] = k
    return 0


def sort_index(v, order=None, tag="", check=True):
    """Sorting permutation of ``v``, warm-started from ``order``.

    Returns ``(order, v_sorted, inv)``: ``order`` is a new array (``np.argsort(v)`` when
    none is given) and ``inv`` its inverse; ``v_sorted`` and ``inv`` are workspace scratch
    named after ``tag``, valid until the next call with the same tag.  Raises
    ``ValueError`` when ``check`` and ``order`` is not a permutation of ``range(n)``.
    """
    n = v.shape[0]
    inv = scratch(tag + "inv", (n,), np.int64)
    keys = scratch(tag + "keys", (n,))
    if order is None:
        order = np.argsort(v)
        check = False
    else:
        order = np.array(order, dtype=np.int64)  # a copy: the caller's array is left alone
    status = _sort_warm(v, order, inv, keys, check, _INSERTION_BUDGET * n)
    if status == 1:
        raise ValueError(f"order must be a permutation of range({n}).")
    if status == -1:
        # too many inversions for insertion: finish with timsort (adaptive to runs)
        idx = np.argsort(keys, kind="stable")
        order = order[idx]
        keys[:] = keys[idx]
        inv[order] = np.arange(n)
    return order, keys, inv


def prepare(v, U, order=None, tag="", check=True):
    """Sorting permutation of ``v`` (warm-started from ``order``) and the gathered columns.

    Returns ``(order, v_sorted, Ua)`` as :func:`sort_index`, with ``Ua`` (``U`` in
    sorted order plus the column of row maxima ``max_c |U_jc|``) workspace scratch
    named after ``tag``.
    """
    order, keys, inv = sort_index(v, order, tag, check)
    n, m = U.shape
    Ua = scratch(tag + "Ua", (n, m + 1))
    scatter_rows(U, inv, Ua, True)
    return order, keys, Ua


@jit
def scatter_rows(src, perm, dst, bound):
    """``dst[perm[i], :m] = src[i]`` (``m = src.shape[1]``) and, with ``bound``, also
    ``dst[perm[i], m] = max_c |src[i, c]|``.

    The one row permutation of the package: the gather into sorted order (``perm`` the
    inverse of the sorting permutation, with the bound column) and the scatter of
    results back to input order (``perm`` the sorting permutation itself).  Sequential
    reads, scattered writes.
    """
    n, m = src.shape
    for i in range(n):
        k = perm[i]
        amax = 0.0
        for c in range(m):
            u = src[i, c]
            dst[k, c] = u
            if bound:
                au = abs(u)
                if au > amax:
                    amax = au
        if bound:
            dst[k, m] = amax


def greedy_blocks(x, width):
    """Starts of consecutive blocks of the sorted ``x``, each spanning less than ``width``.

    Returns an int64 array ``starts`` of length ``n_blocks + 1`` (``starts[-1] == n``).
    A block begins at its first element ``x[s]`` and holds every later element with
    ``x[e] - x[s] < width`` (at least one element).
    """
    starts = np.empty(x.shape[0] + 1, dtype=np.int64)
    return starts[: _greedy_blocks(x, width, starts) + 1]


@jit
def _greedy_blocks(x, width, starts):
    """:func:`greedy_blocks` into ``starts`` (n + 1,); returns the number of blocks."""
    n = x.shape[0]
    nb = 0
    s = 0
    while s < n:
        starts[nb] = s
        nb += 1
        e = s + 1
        xs = x[s]
        while e < n and x[e] - xs < width:
            e += 1
        s = e
    starts[nb] = n
    return nb
