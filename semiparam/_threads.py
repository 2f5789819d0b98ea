"""One BLAS thread for small dense algebra in hot loops.

The Newton solves, Cholesky factorisations and per-iteration Hessians of the estimators
are small (``d`` up to a few hundred) and repeated many times.  A threaded BLAS spends
longer waking and synchronising its threads than computing them, and on a busy machine
its spinning threads compete with everything else: on the shared 2-core machine a DPO
fit took 0.23 s with one BLAS thread and 3.9 s with the default two (issue 12;
``docs/policy.md`` has the current table).  :func:`single_blas_thread` limits every BLAS
library loaded in the process to one thread for the duration of a block, the one way
the package does this (OpenMP and numba threads are untouched; ``docs/kernels.md``).

``threadpoolctl.threadpool_limits`` inspects the loaded shared libraries every time it is
entered (about 1 ms); the controller is therefore kept and rebuilt only when modules
were imported since it was made (a new library such as torch's BLAS comes with an
import), which makes entering the block cost about 20 microseconds.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

__all__ = ["single_blas_thread"]

_CONTROLLER = [None, -1]  # (ThreadpoolController, len(sys.modules) when it was built)


def _controller():
    from threadpoolctl import ThreadpoolController

    n_modules = len(sys.modules)
    if _CONTROLLER[0] is None or _CONTROLLER[1] != n_modules:
        _CONTROLLER[0], _CONTROLLER[1] = ThreadpoolController(), n_modules
    return _CONTROLLER[0]


@contextmanager
def single_blas_thread():
    """Context manager: BLAS (OpenBLAS, MKL, BLIS) limited to one thread inside it.

    Nested blocks are fine (the inner one is a no-op in effect); the previous limits are
    restored on exit.
    """
    with _controller().limit(limits=1, user_api="blas"):
        yield
