"""Fit time of the policy learners, beside scikit-learn's logistic regression, with one
BLAS thread and with the libraries' default threads.

Design: the policy study's (d = 20 context features, k = 10 actions, teacher rows
N(0, 0.2^2/20), shifted-logistic link with s = 1.5, tau = 0.25) with the learners' default
feature map ``phi(x, a) = e_a (x) [1, x]``: 210 coefficients, 189 identified.  For each
n the same table is fitted by DPO, PSPO, OSPO and RSPO; a learner's time is the whole
``fit(table)`` (design, identified basis, index fit with its inference, policy).  The
reference is scikit-learn's ``LogisticRegression(fit_intercept=False,
solver="newton-cholesky", tol=1e-8)`` on the same difference design ``D`` (the same
algorithm at the same precision; ``solver="lbfgs"`` is shown as a stretch), timed on
``D`` alone (its construction not counted).

Each thread setting runs in its own subprocess, with the environment set before numpy
is imported: ``one`` sets ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``,
``BLIS_NUM_THREADS`` and ``OMP_NUM_THREADS`` to 1; ``default`` removes them (and
``NUMBA_NUM_THREADS``).  Times are the minimum over ``--repeats`` fits in each of
``--rounds`` subprocess pairs (the two settings alternate, in opposite orders in
successive rounds, so that a drifting load on a shared machine favours neither).  Columns
``DPO/sk`` (DPO over scikit-learn's Newton-Cholesky, same setting; acceptance: at most
2) and, in the last block, each learner's default-thread time over its one-thread time
(acceptance: not above 1 beyond timing noise).

Usage::

    python benchmarks/bench_policy.py                 # n = 5000 and 1e5, both settings
    python benchmarks/bench_policy.py --quick         # n = 1000 and 5000 (a smoke run)
    python benchmarks/bench_policy.py --sizes 5000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                "OMP_NUM_THREADS")
LEARNERS = ("DPO", "PSPO", "OSPO", "RSPO")
REFERENCES = ("sk-newton", "sk-lbfgs")


def _child(sizes, repeats):
    """Time every cell in this process (its thread settings are the environment's)."""
    import warnings

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from semiparam import policy
    from semiparam.policy.features import difference_design
    from semiparam.simulate.preferences import make_preference_data

    warm = make_preference_data(600, n_features=4, n_actions=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in LEARNERS:  # compile the numba kernels before timing
            getattr(policy, name)().fit(warm.table)
    for n in sizes:
        pb = make_preference_data(int(n / 0.9), shift=1.5, random_state=0, n_test=10)
        table = pb.table
        D = difference_design(table)  # the learners' default feature map
        z = table.label.astype(int)
        # the learners first: a threaded BLAS call leaves its threads spinning for a while
        fits = {name: (lambda cls=getattr(policy, name): cls().fit(table))
                for name in LEARNERS}
        fits["sk-newton"] = lambda: LogisticRegression(
            fit_intercept=False, solver="newton-cholesky", tol=1e-8).fit(D, z)
        fits["sk-lbfgs"] = lambda: LogisticRegression(
            fit_intercept=False, solver="lbfgs", tol=1e-8, max_iter=1000).fit(D, z)
        row = {"n": len(table), "p": D.shape[1]}
        for name, fit in fits.items():
            best = np.inf
            for _ in range(repeats):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    fit()
                    best = min(best, time.perf_counter() - t0)
            row[name] = best
        print(json.dumps(row), flush=True)


def _run_setting(setting, sizes, repeats):
    env = dict(os.environ)
    for var in _THREAD_VARS + ("NUMBA_NUM_THREADS",):
        env.pop(var, None)
    if setting == "one":
        env.update({var: "1" for var in _THREAD_VARS})
    cmd = [sys.executable, __file__, "--child", "--repeats", str(repeats), "--sizes",
           *[str(n) for n in sizes]]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _load():
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - platform without getloadavg
        return "load average unknown"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 1000 and 5000 only")
    ap.add_argument("--sizes", type=float, nargs="+", default=None,
                    help="numbers of pairs (default 5000 1e5)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="fits per cell, the minimum kept (default 5 below n = 5e4, else 1)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="subprocess pairs (one thread, default) per size (default 2)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = [int(n) for n in (args.sizes or ([1_000, 5_000] if args.quick
                                             else [5_000, 100_000]))]
    if args.child:
        _child(sizes, args.repeats or 1)
        return
    print(f"before: {_load()}")
    rows = {"one": {}, "default": {}}
    for r in range(args.rounds):
        # the settings alternate, in opposite orders in successive rounds, so that a
        # drifting load favours neither; each cell keeps its minimum over the rounds
        for n in sizes:  # one subprocess per cell: fewer repeats at the large size
            reps = args.repeats or (5 if n < 50_000 else 1)
            for setting in (("one", "default") if r % 2 == 0 else ("default", "one")):
                (new,) = _run_setting(setting, [n], reps)
                old = rows[setting].get(n)
                rows[setting][n] = new if old is None else {
                    k: (min(v, old[k]) if k not in ("n", "p") else v) for k, v in new.items()}
    rows = {k: [v[n] for n in sizes] for k, v in rows.items()}
    print(f"after:  {_load()}\n")
    head = (f"{'threads':>8} {'n pairs':>8} {'p':>4} " + " ".join(f"{c:>9}" for c in REFERENCES)
            + " " + " ".join(f"{c:>7}" for c in LEARNERS) + f" {'DPO/sk':>7}")
    print("seconds per fit (minimum over repeats)")
    print(head)
    for setting, rs in rows.items():
        for r in rs:
            print(f"{setting:>8} {r['n']:>8d} {r['p']:>4d} "
                  + " ".join(f"{r[c]:9.3f}" for c in REFERENCES) + " "
                  + " ".join(f"{r[c]:7.3f}" for c in LEARNERS)
                  + f" {r['DPO'] / r['sk-newton']:7.2f}")
    print("\ndefault threads / one thread (same cell)")
    print(f"{'n pairs':>8} " + " ".join(f"{c:>9}" for c in REFERENCES + LEARNERS))
    for r1, rd in zip(rows["one"], rows["default"]):
        print(f"{r1['n']:>8d} " + " ".join(f"{rd[c] / r1[c]:9.2f}"
                                          for c in REFERENCES + LEARNERS))


if __name__ == "__main__":
    main()
