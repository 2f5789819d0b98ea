"""Overhead of the study runner: many cheap replications on each back-end.

A replication draws 200 normals and runs one method whose CPU work is calibrated to about
``--ms`` milliseconds (repeated sorting, no sleeping).  The baseline is the same work in a
plain Python loop (generate, then the method, no framework): the *serial sum of the
replications' own times*.  Each back-end then runs the whole study into a fresh SQLite
store, cluster start-up and storage included, and the table reports its wall time,
throughput, the ratio ``wall / baseline``, and the ratio ``wall / own``, where ``own`` is the
sum of the replications' own times as the runner measured them in the workers during the
same run (the ``seconds`` column): a baseline that shares the run's machine load, which
on a shared machine drifts between the plain loop and the runs.  Acceptance: ``wall / own
<= 1.5`` for loky with 2 workers (ideal: 0.5 with two idle cores).  Results are checked to
be identical to the serial run's.

Usage::

    python benchmarks/bench_study.py                      # 10,000 replications of ~1 ms
    python benchmarks/bench_study.py --quick              # 1,000 replications
    python benchmarks/bench_study.py --backends serial,loky,dask,ray --workers 1,2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

from semiparam.simulate import Study

_WORK = {"k": 1}


def generate(cell, rng):
    return rng.standard_normal(200)


def method(data, cell, k=None):
    k = k or cell["k"]
    acc = 0.0
    for _ in range(k):
        acc += float(np.sort(data * (1.0 + acc * 1e-12))[100])
    return {"est": float(data.mean()), "med": acc / k}


def calibrate(ms: float) -> int:
    """Repetitions of the sort loop taking about ``ms`` milliseconds here."""
    data = np.random.default_rng(0).standard_normal(200)
    k = 50
    t0 = time.perf_counter()
    for _ in range(20):
        method(data, None, k)
    per = (time.perf_counter() - t0) / (20 * k)
    return max(1, int(round(ms / 1e3 / per)))


def baseline(cells, reps):
    t0 = time.perf_counter()
    for cell in cells:
        for r in range(reps):
            rng = np.random.default_rng(r)
            method(generate(cell, rng), cell)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=10_000)
    ap.add_argument("--ms", type=float, default=1.0)
    ap.add_argument("--backends", default="serial,loky,dask")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--quick", action="store_true", help="1,000 replications")
    args = ap.parse_args(argv)
    reps = 1000 if args.quick else args.reps
    k = calibrate(args.ms)
    cells = [{"k": k, "part": p} for p in range(2)]  # two cells share the replications
    per_cell = reps // len(cells)
    base = baseline(cells, per_cell)
    print(f"{reps} replications of about {args.ms:g} ms (sort loop x {k}); "
          f"cpu_count={os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    print(f"baseline (plain loop, serial sum of the replications' own times): {base:.2f} s\n")
    print("| backend | workers | wall (s) | reps/s | wall / baseline | own (s) | wall / own |")
    print("|---|---|---|---|---|---|---|")
    ref = None
    for be in args.backends.split(","):
        for w in ([1] if be == "serial" else [int(x) for x in args.workers.split(",")]):
            design = {"k": [k], "part": [0, 1]}
            st = Study(design, generate, {"m": method}, per_cell, seed=1)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                st.run(be, n_workers=w, store=tmp, progress=False)
                wall = time.perf_counter() - t0
                full = st.results()
                own = float(full["seconds"].sum())
                res = full.drop(columns="seconds")
                st.store.close()
            if ref is None:
                ref = res
            same = res.equals(ref)
            print(f"| {be} | {w} | {wall:.2f} | {reps / wall:,.0f} | {wall / base:.2f} | "
                  f"{own:.2f} | {wall / own:.2f}{'' if same else ' (RESULTS DIFFER)'} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
