"""Monte Carlo coverage of Klein–Spady's 95% Wald intervals.

Simulates ``z ~ Bernoulli(F(1.5 x'beta))`` with ``beta = (1, -1, 0.5)`` and x ~ N(0, I),
fits ``KleinSpadyClassifier(normalize="first")`` (so the true normalised coefficients are
exactly ``(1, -1, 0.5)``) and records how often the 95% intervals of the two free
coefficients cover the truth, for the efficient and the sandwich covariance (both from
the same fit) and optionally the bootstrap.

Usage::

    python benchmarks/coverage_kleinspady.py [--reps 200] [--n 500 2000]
        [--links cloglog shifted_logistic] [--bootstrap 0]

Output: one line per (link, n, covariance) with the coverage of each free coefficient,
its Monte Carlo standard error, and the ratio of the mean reported standard error to
the Monte Carlo standard deviation of the estimates.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from semiparam.index import KleinSpadyClassifier
from semiparam.simulate import make_single_index

TRUTH = np.array([1.0, -1.0, 0.5])
LINK_PARAMS = {"shifted_logistic": {"s": 1.5, "tau": 0.25}}


def one_replicate(n, link, seed, n_bootstrap=0):
    """Estimates and standard errors (efficient, sandwich[, bootstrap]) of one data set."""
    X, y = make_single_index(n, TRUTH, link=link, link_params=LINK_PARAMS.get(link),
                             scale=1.5, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = KleinSpadyClassifier(normalize="first", cov_type="efficient").fit(X, y)
    out = {"coef": est.coef_.copy(), "efficient": est.result_.std_errors.copy()}
    sand = est._analytic_covariance(est._core, "sandwich")
    out["sandwich"] = np.sqrt(np.clip(np.diag(sand), 0, None))
    if n_bootstrap:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b = KleinSpadyClassifier(normalize="first", cov_type="bootstrap",
                                     n_bootstrap=n_bootstrap, random_state=seed).fit(X, y)
        out["bootstrap"] = b.result_.std_errors.copy()
    return out


def coverage(n, link, reps, n_bootstrap=0, seed0=0):
    """Coverage table rows for one (link, n)."""
    reps_out = [one_replicate(n, link, seed0 + r, n_bootstrap) for r in range(reps)]
    coefs = np.array([r["coef"] for r in reps_out])
    sd_mc = coefs.std(axis=0, ddof=1)
    rows = []
    kinds = ["efficient", "sandwich"] + (["bootstrap"] if n_bootstrap else [])
    for kind in kinds:
        se = np.array([r[kind] for r in reps_out])
        cover = np.abs(coefs - TRUTH) <= 1.959964 * se
        cov = cover[:, 1:].mean(axis=0)
        rows.append({
            "link": link, "n": n, "cov_type": kind, "coverage": cov,
            "mc_se": np.sqrt(cov * (1 - cov) / reps),
            "se_ratio": se[:, 1:].mean(axis=0) / sd_mc[1:],
        })
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--links", nargs="+", default=["cloglog", "shifted_logistic"])
    parser.add_argument("--bootstrap", type=int, default=0,
                        help="bootstrap replicates per data set (0: skip the bootstrap)")
    args = parser.parse_args(argv)
    print(f"{'link':>17s} {'n':>6s} {'cov_type':>10s}  coverage(b2, b3)   "
          f"MC s.e.   mean se / MC sd")
    for link in args.links:
        for n in args.n:
            for row in coverage(n, link, args.reps, args.bootstrap):
                c, m, r = row["coverage"], row["mc_se"], row["se_ratio"]
                print(f"{link:>17s} {n:>6d} {row['cov_type']:>10s}  {c[0]:.3f}, {c[1]:.3f}"
                      f"      {m.max():.3f}     {r[0]:.2f}, {r[1]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
