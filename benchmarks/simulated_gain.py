"""Where the link is wrong, the semiparametric estimators must still beat logit.

Non-logistic designs of :func:`semiparam.simulate.make_single_index` (cloglog and the
shifted-logistic mixture; the ``"mixed"`` design: a normal, a binary and uniform
regressors, which is not elliptical, so logit is inconsistent even up to scale), n rows
to fit, an independent test sample of 20 000 rows; every default estimator against
scikit-learn's ``LogisticRegression(C=1e6)``.  Printed: test log loss as a ratio to
logit's (target <= 0.98 at n = 5000; ``oracle`` is the true model's ratio, the best
attainable), direction error in degrees, fit time.

    python benchmarks/simulated_gain.py            # n = 5000, seeds 0 and 1
    python benchmarks/simulated_gain.py --n 2000 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from semiparam.links.families import get_link
from semiparam.simulate import angle, make_single_index

from real_data import ESTIMATORS

COEF = np.array([1.0, -1.0, 0.5, 0.5])
DESIGN = "mixed"
#: (link, parameters, scale of the index).  cloglog at two scales: at scale 3 a logistic
#: curve fits the cloglog link so closely that the true model itself gains only 2.3%
#: over logit; at scale 5 the asymmetry of the link matters more (oracle ratio 0.966)
CASES = [
    ("cloglog", {}, 3.0),
    ("cloglog", {}, 5.0),
    ("shifted_logistic", {}, 1.0),
]


def run(n, seeds, keys, n_test=20_000):
    rows = []
    for link, params, scale in CASES:
        for seed in seeds:
            kw = dict(link=link, link_params=params, scale=scale, design=DESIGN)
            X, y = make_single_index(n, COEF, random_state=seed, **kw)
            Xt, yt = make_single_index(n_test, COEF, random_state=10_000 + seed, **kw)
            lr = LogisticRegression(C=1e6, max_iter=10_000).fit(X, y)
            ll0 = log_loss(yt, np.clip(lr.predict_proba(Xt)[:, 1], 1e-6, 1 - 1e-6))
            rows.append(dict(link=link, scale=scale, seed=seed, estimator="logit", ratio=1.0,
                             angle=angle(lr.coef_[0], COEF), fit_s=np.nan))
            # the true model: the floor no estimator can beat on average
            p_true = get_link(link, **params).cdf(scale * (Xt @ COEF))
            rows.append(dict(link=link, scale=scale, seed=seed, estimator="oracle", angle=0.0, fit_s=np.nan,
                             ratio=log_loss(yt, np.clip(p_true, 1e-6, 1 - 1e-6)) / ll0))
            for k in keys:
                label, cls = ESTIMATORS[k]
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = cls().fit(X, y)
                t = time.perf_counter() - t0
                p = np.clip(est.predict_proba(Xt)[:, 1], 1e-6, 1 - 1e-6)
                rows.append(dict(link=link, scale=scale, seed=seed, estimator=label,
                                 ratio=log_loss(yt, p) / ll0, angle=angle(est.coef_, COEF),
                                 fit_s=t))
                print(f"{link:17s} x{scale:g} seed {seed} {label:12s} ratio {rows[-1]['ratio']:.4f} "
                      f"angle {rows[-1]['angle']:.2f} (logit {rows[-1 - keys.index(k) - 2]['angle']:.2f})"
                      f" fit {t:.2f} s", flush=True)
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=list(ESTIMATORS))
    a = ap.parse_args(argv)
    df = run(a.n, a.seeds, a.estimators)
    print(f"\nn = {a.n}: mean test log-loss ratio to logit, and direction error (degrees)\n")
    print(df.pivot_table(index=["link", "scale"], columns="estimator", values=["ratio", "angle"],
                         sort=False).round(3).to_string())
    return df


if __name__ == "__main__":
    main()
