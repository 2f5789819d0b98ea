"""Analytic standard errors against a pairs bootstrap, on real data.

For each data set of :mod:`semiparam.datasets` and each default estimator: the reported
standard errors of ``coef_`` (unit normalisation) and the standard deviation of ``B``
pairs-bootstrap refits (the full default fit rerun, replicates aligned in sign with the
full-sample estimate).  Rows are resampled as multinomial frequency weights
(``sample_weight``), so a row drawn twice leaves the leave-one-out link together with its
copy; resampling by repeating rows (``--repeat-rows``) lets a duplicate predict its own
label in the leave-one-out criterion, which pulls the refits toward small bandwidths and
inflates their spread.  Printed: the median and the
range over coefficients of the ratio analytic / bootstrap (1 is agreement; well below 1
is the overconfidence issue 8 describes).

    python benchmarks/se_vs_bootstrap.py --sets anes96 birthwt mroz --reps 100 --jobs 2
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from semiparam.datasets import load

from real_data import ESTIMATORS


def _fit(cls, X, y, w=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls().fit(X, y, sample_weight=w)


def _replicate(cls, X, y, seed, ref, repeat_rows=False):
    rng = np.random.default_rng(seed)
    if repeat_rows:
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            return None
        c = _fit(cls, X[idx], y[idx]).coef_
    else:
        w = rng.multinomial(len(y), np.full(len(y), 1.0 / len(y))).astype(float)
        if y[w > 0].min() == y[w > 0].max():
            return None
        c = _fit(cls, X, y, w).coef_
    return c if c @ ref >= 0 else -c


def run(sets, keys, reps, jobs, repeat_rows=False):
    rows = []
    for name in sets:
        Xd, yd = load(name)
        X, y = Xd.to_numpy(float), yd.to_numpy()
        for k in keys:
            label, cls = ESTIMATORS[k]
            est = _fit(cls, X, y)
            se = est.result_.std_errors
            reps_out = Parallel(n_jobs=jobs)(
                delayed(_replicate)(cls, X, y, s, est.coef_, repeat_rows) for s in range(reps))
            boot = np.array([r for r in reps_out if r is not None])
            bse = boot.std(axis=0, ddof=1)
            ratio = se / bse
            rows.append(dict(data=name, n=len(y), estimator=label,
                             median_ratio=float(np.median(ratio)),
                             min_ratio=float(ratio.min()), max_ratio=float(ratio.max())))
            print(f"{name:13s} {label:12s} SE/bootstrap median {np.median(ratio):.2f} "
                  f"range [{ratio.min():.2f}, {ratio.max():.2f}]", flush=True)
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["birthwt", "anes96", "mroz", "pntsprd"])
    ap.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=list(ESTIMATORS))
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--repeat-rows", action="store_true",
                    help="resample by repeating rows instead of frequency weights")
    a = ap.parse_args(argv)
    df = run(a.sets, a.estimators, a.reps, a.jobs, a.repeat_rows)
    print("\nreported SE / pairs-bootstrap SD (median and range over coefficients)\n")
    print(df.round(2).to_string(index=False))
    return df


if __name__ == "__main__":
    main()
