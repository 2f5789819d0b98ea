"""The one jit decorator of the kernel package (numba), set for a fast cold start.

Every jitted function of :mod:`semiparam._kernels` is compiled with

* ``cache=True``: compiled machine code is written to numba's cache and loaded by later
  processes.  Every jitted function here takes only arrays and scalars and uses only
  module-level constants (no closures over arrays or first-class functions), so the
  cache is really hit; :mod:`.polynomial`'s degree-specialised block loops are closures
  over a single integer, which numba hashes into the cache key.
* ``no_cfunc_wrapper=True``: numba otherwise builds, optimises and caches a C-callable
  wrapper of every function, used only when a dispatcher is passed as a first-class
  function (never here).  Skipping it cuts about a tenth of a function's compile time
  (``benchmarks/bench_coldstart.py``, ``docs/kernels.md``).  The Python wrapper is kept:
  every function stays callable from Python.
"""

from __future__ import annotations

from numba import njit

__all__ = ["jit"]


def jit(fn=None, **options):
    """``numba.njit`` with the package's options (``cache=True, no_cfunc_wrapper=True``);
    further numba options (``parallel``, ``fastmath``, ``inline``) pass through."""
    options = {"cache": True, "no_cfunc_wrapper": True, **options}
    if fn is None:
        return njit(**options)
    return njit(**options)(fn)
