"""Fit time of the single-index estimators against n, beside statsmodels' Logit.

For each n the script simulates one data set ``z ~ Bernoulli(F(scale * x'beta))`` with
``d`` standard normal columns and a known link ``F`` (default: the shifted-logistic
mixture, s = 1.5, tau = 0.25 -- the paper's misspecified link), fits statsmodels'
``Logit`` (with a constant) and every estimator of :mod:`semiparam.index` with its
default parameters, and prints one row per fit: n, estimator, wall-clock seconds, CPU
seconds of the fitting process (all its threads; on a shared machine the wall time
includes waiting for a core), the ratio of the wall time to the statsmodels Logit time
measured on the same data in the same run, and the angle (degrees) between the fitted
direction and the true one.

Estimators that cannot be imported yet are skipped with a note.  Each fit runs in a
fresh child process (imports and numba compilation are done there by a small warm-up
fit, not timed) with a hard timeout (``--timeout``); once an estimator's fit takes
longer than ``--cap`` seconds, its larger n are skipped.

Usage::

    python benchmarks/bench_index.py --quick            # n = 1e3, 1e4
    python benchmarks/bench_index.py                    # n = 1e3 ... 1e6
    python benchmarks/bench_index.py --markdown --out results.csv
    python benchmarks/bench_index.py --threads 1 --d 180 --sizes 1e3 1e4 1e5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import time
import traceback
import warnings

import numpy as np

ESTIMATORS = (
    "KleinSpadyClassifier",
    "IchimuraClassifier",
    "IsotonicIndexClassifier",
    "SieveIndexClassifier",
    "LogitIndexClassifier",
    "PairwiseRankingClassifier",
)
BASELINE = "statsmodels Logit"


def _parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 1e3 and 1e4 only")
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e3, 1e4, 1e5, 1e6],
                    help="sample sizes (default 1e3 1e4 1e5 1e6)")
    ap.add_argument("--d", type=int, default=5, help="number of columns (default 5)")
    ap.add_argument("--link", default="shifted_logistic", help="true link family")
    ap.add_argument("--scale", type=float, default=2.0, help="index scale (default 2)")
    ap.add_argument("--estimators", nargs="+", default=list(ESTIMATORS),
                    help="estimator names in semiparam.index")
    ap.add_argument("--cap", type=float, default=120.0,
                    help="skip an estimator's larger n once a fit exceeds this (s)")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="kill a single fit after this many seconds")
    ap.add_argument("--threads", type=int, default=None,
                    help="limit BLAS/OpenMP/numba threads of the fitting processes "
                    "(default: the libraries' own choice)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--out", help="also write the rows to this CSV file")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes = [1e3, 1e4]
    return args


def _true_coef(d):
    coef = np.array([1.0, -1.0, 0.5, 0.5, -0.25] + [0.25] * max(0, d - 5))[:d]
    return coef / np.linalg.norm(coef)


def _fit_statsmodels(X, z):
    import statsmodels.api as sm

    res = sm.Logit(z, sm.add_constant(X, has_constant="add")).fit(disp=0)
    return np.asarray(res.params[1:])


def _fit_semiparam(name, X, z):
    import semiparam.index as idx

    est = getattr(idx, name)()
    est.fit(X, z)
    return np.asarray(est.coef_)


def _child(conn, name, X, z, Xw, zw):
    """Warm up on (Xw, zw) (imports, numba compilation or cache loading), then time one
    fit on (X, z); send (seconds, cpu seconds, coef, n_warnings, error) back."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _fit_statsmodels(Xw, zw) if name == BASELINE else _fit_semiparam(name, Xw, zw)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0, c0 = time.perf_counter(), time.process_time()
            coef = _fit_statsmodels(X, z) if name == BASELINE else _fit_semiparam(name, X, z)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        conn.send((dt, cpu, coef, len(caught), None))
    except Exception as exc:  # report, never crash the benchmark
        conn.send((None, None, None, 0, f"{type(exc).__name__}: {exc}"[:200]
                   + ("\n" + traceback.format_exc() if os.environ.get("BENCH_DEBUG") else "")))
    finally:
        conn.close()


def _timed_fit(name, X, z, warm, timeout):
    """Fit in a fresh (spawned) child with a hard timeout:
    (wall seconds, cpu seconds, coef, n_warnings, error).

    A spawned child, not a forked one: numba's OpenMP threading layer does not survive
    fork() once a parallel kernel ran in the parent.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, name, X, z, *warm))
    proc.start()
    child.close()
    try:
        if parent.poll(timeout + 60.0):  # allowance for the child's start and warm-up
            out = parent.recv()
            proc.join()
            return out
        err = f"killed after {timeout:.0f} s"
    except EOFError:
        proc.join()
        err = f"fitting process died (exit code {proc.exitcode})"
    if proc.is_alive():
        proc.kill()
        proc.join()
    return None, None, None, 0, err


def _importable(names):
    import semiparam.index as idx

    ok = []
    for name in names:
        try:
            getattr(idx, name)
            ok.append(name)
        except (ImportError, AttributeError) as exc:
            print(f"note: {name} is not importable yet ({type(exc).__name__}: {exc}); "
                  "skipped", file=sys.stderr)
    return ok


def _format(rows, markdown):
    head = ["n", "estimator", "seconds", "cpu s", "ratio to sm Logit", "angle (deg)",
            "note"]
    body = []
    for r in rows:
        secs = "" if r["seconds"] is None else f"{r['seconds']:.3g}"
        cpu = "" if r["cpu"] is None else f"{r['cpu']:.3g}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3g}"
        ang = "" if r["angle"] is None else f"{r['angle']:.2f}"
        body.append([f"{int(r['n']):,}", r["estimator"], secs, cpu, ratio, ang, r["note"]])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[k]) for row in body)) if body else len(h)
              for k, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*row) for row in body])


def main(argv=None):
    args = _parse(argv)
    from semiparam.simulate import angle, make_single_index

    names = _importable(args.estimators)
    coef = _true_coef(args.d)
    params = {"s": 1.5, "tau": 0.25} if args.link == "shifted_logistic" else None
    if args.threads is not None:  # read by the spawned children when numpy/numba load
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    # each child warms up on this small data set before its timed fit
    warm = make_single_index(max(300, 10 * args.d), coef, link=args.link,
                             link_params=params, scale=args.scale,
                             random_state=args.seed + 1)
    print(f"# bench_index: d = {args.d}, link = {args.link} {params or ''}, "
          f"scale = {args.scale}, seed = {args.seed}, threads = {args.threads or 'default'}; "
          f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} cpu(s)", flush=True)
    rows, stopped = [], {}
    for n in (int(s) for s in args.sizes):
        X, z = make_single_index(n, coef, link=args.link, link_params=params,
                                 scale=args.scale, random_state=args.seed)
        base_t = None
        for name in [BASELINE, *names]:
            if name in stopped:
                rows.append({"n": n, "estimator": name, "seconds": None, "cpu": None,
                             "ratio": None, "angle": None, "note": stopped[name]})
                continue
            dt, cpu, est_coef, n_warn, err = _timed_fit(name, X, z, warm, args.timeout)
            note = err or (f"{n_warn} warning(s)" if n_warn else "")
            if name == BASELINE:
                base_t = dt
            ratio = dt / base_t if dt is not None and base_t else None
            ang = angle(est_coef, coef) if est_coef is not None else None
            rows.append({"n": n, "estimator": name, "seconds": dt, "cpu": cpu,
                         "ratio": ratio, "angle": ang, "note": note})
            print(f"  n={n:>9,}  {name:<26} {'' if dt is None else f'{dt:9.3f} s'}  {note}",
                  file=sys.stderr, flush=True)
            if dt is None or dt > args.cap:
                stopped[name] = (f"skipped: a fit at n = {n:,} took > {args.cap:g} s"
                                 if dt is not None else f"skipped: failed at n = {n:,}")
    print(_format(rows, args.markdown))
    if args.out:
        import csv

        with open(args.out, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return rows


if __name__ == "__main__":
    main()
