"""Out-of-sample check of every default index estimator on real data, against logit.

For each data set of :mod:`semiparam.datasets`: 5-fold
``StratifiedKFold(5, shuffle=True, random_state=0)``; on each fold every estimator at
its defaults and scikit-learn's ``LogisticRegression(C=1e6)`` (with intercept) are fitted
on the training rows; predicted probabilities of the test rows are clipped to
``[1e-6, 1 - 1e-6]``.  Printed per data set and estimator: the pooled out-of-fold log
loss as a ratio to logit's, the pooled AUC, and the mean fit time.

    python benchmarks/real_data.py                      # all data sets
    python benchmarks/real_data.py --sets birthwt anes96 --estimators ks iso
    python benchmarks/real_data.py --out results/real_data.csv

Targets (issue 8): ratio <= 1.05 at n >= 500 and <= 1.15 below, every estimator, every set.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from semiparam.datasets import DATASETS, load
from semiparam.index import (
    IchimuraClassifier,
    IsotonicIndexClassifier,
    KernelScoreIndexClassifier,
    KleinSpadyClassifier,
    SieveIndexClassifier,
)

ESTIMATORS = {
    "ks": ("Klein-Spady", KleinSpadyClassifier),
    "ich": ("Ichimura", IchimuraClassifier),
    "iso": ("isotonic", IsotonicIndexClassifier),
    "sieve": ("sieve", SieveIndexClassifier),
    "kscore": ("kernel score", KernelScoreIndexClassifier),
}
EPS = 1e-6


def logit():
    return make_pipeline(StandardScaler(), LogisticRegression(C=1e6, max_iter=10_000))


def out_of_fold(make, X, y, folds):
    p = np.empty(y.size)
    times = []
    for tr, te in folds:
        est = make()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X.iloc[tr], y.iloc[tr])
        times.append(time.perf_counter() - t0)
        p[te] = est.predict_proba(X.iloc[te])[:, 1]
    return np.clip(p, EPS, 1 - EPS), float(np.mean(times))


def run(sets, keys):
    rows = []
    for name in sets:
        X, y = load(name)
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
        p0, t0 = out_of_fold(logit, X, y, folds)
        ll0 = log_loss(y, p0)
        rows.append(dict(data=name, n=len(y), d=X.shape[1], estimator="logit",
                         logloss=ll0, ratio=1.0, auc=roc_auc_score(y, p0), fit_s=t0))
        for k in keys:
            label, cls = ESTIMATORS[k]
            p, t = out_of_fold(cls, X, y, folds)
            ll = log_loss(y, p)
            rows.append(dict(data=name, n=len(y), d=X.shape[1], estimator=label, logloss=ll,
                             ratio=ll / ll0, auc=roc_auc_score(y, p), fit_s=t))
            r = rows[-1]
            print(f"{name:14s} n={r['n']:5d} {label:12s} ratio {r['ratio']:.3f}  "
                  f"AUC {r['auc']:.3f} (logit {rows[-1 - keys.index(k) - 1]['auc']:.3f})  "
                  f"fit {t:.2f} s", flush=True)
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=list(ESTIMATORS))
    ap.add_argument("--out", default=None, help="write the table as CSV")
    a = ap.parse_args(argv)
    sets = [s for s in a.sets if s != "spector"] if a.sets == list(DATASETS) else a.sets
    df = run(sets, a.estimators)
    wide = df.pivot_table(index=["data", "n", "d"], columns="estimator", values="ratio",
                          sort=False)
    auc = df.pivot_table(index=["data", "n", "d"], columns="estimator", values="auc", sort=False)
    print("\nlog-loss ratio to logit (5-fold, out of fold)\n")
    print(wide.round(3).to_string())
    print("\nAUC\n")
    print(auc.round(3).to_string())
    if a.out:
        df.to_csv(a.out, index=False)
    return df


if __name__ == "__main__":
    main()
