"""Monte Carlo coverage of the marginal effects' 95% intervals (delta method).

Simulates ``z ~ Bernoulli(F(1.5 x'b))`` with ``b = (1, -1, 0.5)`` on the "mixed" design
of :func:`semiparam.simulate.make_single_index` (a normal, a binary and a uniform
regressor), fits each semiparametric estimator, and records how often the 95% interval
of ``marginal_effects(at="overall", method="dydx")`` covers the average marginal effect
of the true model on the same rows, ``mean_i 1.5 b_j F'(1.5 x_i'b)`` (inference is
conditional on the design, as in statsmodels).

Usage::

    python benchmarks/coverage_margins.py [--reps 200] [--n 2000] [--link cloglog]
        [--estimators kleinspady isotonic sieve ichimura] [--jobs 1]

Output: one line per (estimator, feature): coverage, its Monte Carlo standard error,
the mean reported standard error over the Monte Carlo standard deviation of the
effect estimates, and the mean bias over that standard deviation.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from joblib import Parallel, delayed

from semiparam.index import (
    IchimuraClassifier,
    IsotonicIndexClassifier,
    KleinSpadyClassifier,
    SieveIndexClassifier,
)
from semiparam.links import get_link
from semiparam.simulate import make_single_index

COEF = np.array([1.0, -1.0, 0.5])
SCALE = 1.5
ESTIMATORS = {
    "kleinspady": KleinSpadyClassifier,
    "isotonic": IsotonicIndexClassifier,
    "sieve": SieveIndexClassifier,
    "ichimura": IchimuraClassifier,
}


def true_effects(X, link):
    F = get_link(link)
    return np.mean(F.pdf(SCALE * (X @ COEF)))[None] * SCALE * COEF


def one_replicate(name, n, link, seed, n_link_bootstrap):
    X, z = make_single_index(n, COEF, link=link, scale=SCALE, design="mixed",
                             random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ESTIMATORS[name]().fit(X, z)
        me = est.marginal_effects(n_link_bootstrap=n_link_bootstrap, random_state=seed)
    return me["effect"].to_numpy(), me["std_err"].to_numpy(), true_effects(X, link)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--link", default="cloglog")
    ap.add_argument("--estimators", nargs="+", default=list(ESTIMATORS))
    ap.add_argument("--n-link-bootstrap", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20261206)
    args = ap.parse_args(argv)
    q = 1.959963984540054
    print(f"n = {args.n}, link = {args.link}, reps = {args.reps}, "
          f"n_link_bootstrap = {args.n_link_bootstrap}")
    print(f"{'estimator':<12}{'feature':>8}{'coverage':>10}{'mc se':>8}{'se/sd':>8}"
          f"{'bias/sd':>9}{'s/rep':>7}")
    for name in args.estimators:
        t0 = time.perf_counter()
        out = Parallel(n_jobs=args.jobs)(
            delayed(one_replicate)(name, args.n, args.link, args.seed + r,
                                   args.n_link_bootstrap) for r in range(args.reps))
        per = (time.perf_counter() - t0) / args.reps * args.jobs
        eff = np.array([o[0] for o in out])
        se = np.array([o[1] for o in out])
        tru = np.array([o[2] for o in out])
        cover = np.abs(eff - tru) <= q * se
        sd = (eff - tru).std(axis=0, ddof=1)
        for j in range(eff.shape[1]):
            c = cover[:, j].mean()
            print(f"{name:<12}{'x' + str(j):>8}{c:>10.3f}{np.sqrt(c * (1 - c) / args.reps):>8.3f}"
                  f"{se[:, j].mean() / sd[j]:>8.2f}{(eff - tru)[:, j].mean() / sd[j]:>9.2f}"
                  f"{per:>7.2f}")


if __name__ == "__main__":
    main()
