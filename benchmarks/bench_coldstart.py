"""Cold start: the first fit in a new process, with an empty and with a warm numba cache.

Every case runs in fresh Python processes (``subprocess``), each timed from the
outside (wall clock of the whole process: interpreter start, imports, data, fits) and
from the inside (the first fit alone, then a second fit of the same data in the same
process: the warm in-process time):

* **empty cache**: ``NUMBA_CACHE_DIR`` a new empty directory, so every jitted kernel the
  fit needs is compiled (and written to the cache);
* **warm cache**: the cache directory the previous empty-cache run filled, so the
  kernels are loaded from disk;
* the baseline, **import only**: the same process without any fit (imports and data),
  the floor under both.

Cases: ``KleinSpadyClassifier()``, ``KleinSpadyClassifier(kernel="gaussian")``,
``IchimuraClassifier()`` and ``IsotonicIndexClassifier()`` on
``make_single_index(2000, [1, -0.5, 0.5], random_state=0)``, and ``examples/demo.py``
(its default n = 3000; "fit" there is the demo's whole ``main()``).  Each entry is the
median over ``--repeat`` processes; the CPU column is the process's user + system CPU
time, which a loaded machine inflates far less than the wall clock.  The load average
is printed before and after.

Usage::

    python benchmarks/bench_coldstart.py            # all cases, 3 processes each
    python benchmarks/bench_coldstart.py --quick    # import only and Klein-Spady, 1 each
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, os.pardir, "examples", "demo.py")
CASES = ["import only", "Klein-Spady", "Klein-Spady gaussian", "Ichimura", "isotonic", "demo"]
QUICK = ["import only", "Klein-Spady"]


# --------------------------------------------------------------------------- child
def _child(case):
    """Run one case in this (fresh) process; print its inside timings as JSON."""
    clock = time.perf_counter
    t0 = clock()
    if case == "demo":
        import runpy

        demo = runpy.run_path(DEMO, run_name="demo")
        figure = os.path.join(tempfile.mkdtemp(), "demo.png")

        def fit():
            with contextlib.redirect_stdout(io.StringIO()):
                demo["main"](["--figure", figure])
    else:
        from semiparam.index import IchimuraClassifier, IsotonicIndexClassifier, KleinSpadyClassifier
        from semiparam.simulate import make_single_index

        X, y = make_single_index(2000, [1.0, -0.5, 0.5], random_state=0)
        make = {
            "import only": None,
            "Klein-Spady": KleinSpadyClassifier,
            "Klein-Spady gaussian": lambda: KleinSpadyClassifier(kernel="gaussian"),
            "Ichimura": IchimuraClassifier,
            "isotonic": IsotonicIndexClassifier,
        }[case]

        def fit():
            if make is not None:
                make().fit(X, y)
    t1 = clock()
    fit()
    t2 = clock()
    fit()
    t3 = clock()
    print(json.dumps({"import": t1 - t0, "first": t2 - t1, "second": t3 - t2}))


# --------------------------------------------------------------------------- parent
def _run(case, cache_dir):
    """One child process: (process wall s, process cpu s, inside timings)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, MPLBACKEND="Agg")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", case], env=env,
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(out.stdout.strip().splitlines()[-1])


def _measure(case, repeat):
    """Median timings with an empty cache and with the cache an empty-cache run filled."""
    cold, warm = [], []
    dirs = []
    try:
        for _ in range(repeat):
            dirs.append(tempfile.mkdtemp(prefix="numba-cold-"))
            cold.append(_run(case, dirs[-1]))
        for _ in range(repeat):
            warm.append(_run(case, dirs[-1]))
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)

    def med(rows, f):
        return statistics.median(f(r) for r in rows)

    return {
        "cold_wall": med(cold, lambda r: r[0]), "cold_cpu": med(cold, lambda r: r[1]),
        "cold_first": med(cold, lambda r: r[2]["first"]),
        "warm_wall": med(warm, lambda r: r[0]), "warm_cpu": med(warm, lambda r: r[1]),
        "warm_first": med(warm, lambda r: r[2]["first"]),
        "in_process": med(cold + warm, lambda r: r[2]["second"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="import only and Klein-Spady, 1 run")
    parser.add_argument("--repeat", type=int, default=3, help="processes per entry")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    cases = QUICK if args.quick else CASES
    repeat = 1 if args.quick else args.repeat
    import numba

    threads = {k: os.environ.get(k, "-") for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")}
    print(f"numba {numba.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, {threads}; median of {repeat} processes per entry")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    head = ["case", "empty cache: process s (cpu s)", "first fit s",
            "warm cache: process s (cpu s)", "first fit s", "in-process warm fit s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for case in cases:
        r = _measure(case, repeat)
        fit = "-" if case == "import only" else None
        print(f"| {case} | {r['cold_wall']:.2f} ({r['cold_cpu']:.2f}) | "
              f"{fit or format(r['cold_first'], '.2f')} | "
              f"{r['warm_wall']:.2f} ({r['warm_cpu']:.2f}) | "
              f"{fit or format(r['warm_first'], '.3f')} | "
              f"{fit or format(r['in_process'], '.3f')} |", flush=True)
    print()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
