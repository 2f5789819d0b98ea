"""Fit time of the policy learners against the number of pairs, beside DPO.

Design: the acceptance study's (d = 20 context features, k = 10 actions,
phi(x, a) = e_a (x) x: 200 features, 180 identified; teacher rows N(0, 0.2^2/20),
shifted-logistic link with s = 1.5, tau = 0.25).  For each n the same table is fitted by
DPO, PSPO, OSPO and RSPO in the same run; the time is the whole ``fit(table)`` (design,
identified basis, index fit, policy).  Target: n = 1e5 under 30 s for every learner.

Usage::

    python benchmarks/bench_policy.py            # n = 1e3, 1e4, 1e5
    python benchmarks/bench_policy.py --quick    # n = 1e3, 1e4 (a smoke run)
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from semiparam.policy import DPO, OSPO, PSPO, RSPO
from semiparam.simulate.preferences import make_preference_data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 1e3 and 1e4 only")
    ap.add_argument("--repeats", type=int, default=1, help="fits per cell (the minimum is kept)")
    args = ap.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    learners = {"DPO": DPO, "PSPO": PSPO, "OSPO": OSPO, "RSPO": RSPO}
    warm = make_preference_data(600, n_features=4, n_actions=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cls in learners.values():  # compile the numba kernels before timing
            cls(features=warm.features).fit(warm.table)
    print(f"{'n pairs':>9} " + " ".join(f"{name:>9}" for name in learners)
          + "   (seconds per fit; d = 20, k = 10, 180 identified coefficients)")
    for n in sizes:
        pb = make_preference_data(int(n / 0.9), shift=1.5, random_state=0, n_test=10)
        cells = []
        for name, cls in learners.items():
            best = np.inf
            for _ in range(args.repeats):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    cls(features=pb.features).fit(pb.table)
                    best = min(best, time.perf_counter() - t0)
            cells.append(best)
        print(f"{len(pb.table):>9d} " + " ".join(f"{c:9.2f}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
