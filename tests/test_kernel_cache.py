"""The kernels' machine code is really cached, and each kernel compiles only once.

numba's ``cache=True`` fails silently (a warning at most) for a function it cannot
cache, and a literal argument or a different array layout at one call site silently
compiles a second specialisation: either would undo the cold-start work of
``docs/kernels.md`` ("Cold start").  A first process with an empty cache
(``NUMBA_CACHE_DIR`` a new directory) runs the estimators' workload: the fused
leave-one-out loss and the kernel sums, with the default (Epanechnikov) kernel and with
both Gaussian methods.  It records every compilation of a function of
``semiparam._kernels`` (numba's ``numba:compile`` event, which fires on compilations
only, not on cache loads): none may be compiled twice.  A second process with the same
cache directory runs the same workload and must compile nothing.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"), reason="needs the JIT")

WORKLOAD = textwrap.dedent("""
    import json

    import numpy as np
    from numba.core import event

    compiled = []


    class Record(event.Listener):
        def on_start(self, ev):
            pass

        def on_end(self, ev):
            fn = ev.data["dispatcher"].py_func
            if fn.__module__.startswith("semiparam._kernels"):
                compiled.append(f"{fn.__module__}.{fn.__qualname__}")


    event.register("numba:compile", Record())

    from semiparam._kernels import kernel_sums, kernel_sums_at, loo_loss, static_columns

    rng = np.random.default_rng(0)
    n = 300
    v = rng.normal(size=n)
    U = rng.uniform(size=(n, 3))
    z = (rng.uniform(size=n) < 0.5).astype(float)
    Z = static_columns(z, np.ones(n), np.ones(n))
    for kernel, method in (("epanechnikov", "auto"), ("gaussian", "exact"), ("gaussian", "fast")):
        S0, S1, order = kernel_sums(v, U, 0.3, kernel, derivative=True, method=method)
        kernel_sums_at(v[:50] + 0.01, v, U, 0.3, kernel, method=method, relative=True)
        for gradient in (True, False):
            loo_loss(v + 1e-3, Z, 0.3, kernel, loss="bernoulli", clip=1e-6, order=order,
                     gradient=gradient, method=method)
    print(json.dumps(compiled))
""")


def _compiled(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", WORKLOAD], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cold_start_compiles_each_kernel_once_and_caches_it(tmp_path):
    first = _compiled(tmp_path)
    assert len(first) >= 8  # the workload does compile (the cache directory was empty)
    twice = {name: k for name, k in collections.Counter(first).items() if k > 1}
    assert not twice, f"compiled more than once (extra specialisations): {twice}"
    second = _compiled(tmp_path)
    assert second == [], f"not loaded from numba's cache: {second}"
