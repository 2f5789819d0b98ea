"""Analytic standard errors against a pairs bootstrap, on real data.

For each data set of :mod:`semiparam.datasets` and each default estimator: the reported
standard errors of ``coef_`` (unit normalisation) and the standard deviation of ``B``
pairs-bootstrap refits (rows resampled with replacement, the full default fit rerun,
replicates aligned in sign with the full-sample estimate).  Printed: the median and the
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


def _fit(cls, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls().fit(X, y)


def _replicate(cls, X, y, seed, ref):
    idx = np.random.default_rng(seed).integers(0, len(y), len(y))
    yb = y[idx]
    if yb.min() == yb.max():
        return None
    c = _fit(cls, X[idx], yb).coef_
    return c if c @ ref >= 0 else -c


def run(sets, keys, reps, jobs):
    rows = []
    for name in sets:
        Xd, yd = load(name)
        X, y = Xd.to_numpy(float), yd.to_numpy()
        for k in keys:
            label, cls = ESTIMATORS[k]
            est = _fit(cls, X, y)
            se = est.result_.std_errors
            reps_out = Parallel(n_jobs=jobs)(
                delayed(_replicate)(cls, X, y, s, est.coef_) for s in range(reps))
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
    a = ap.parse_args(argv)
    df = run(a.sets, a.estimators, a.reps, a.jobs)
    print("\nreported SE / pairs-bootstrap SD (median and range over coefficients)\n")
    print(df.round(2).to_string(index=False))
    return df


if __name__ == "__main__":
    main()
