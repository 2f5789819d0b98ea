"""Average marginal effects on statsmodels' fair data (affairs > 0), every estimator.

The issue-13 check: the effect of ``rate_marriage`` by statsmodels' Logit, our
``LogitIndexClassifier(fit_intercept=True)`` and each semiparametric estimator
(delta-method standard errors, ``marginal_effects(at="overall", method="dydx")``), plus
the isotonic interpolant's raw slope that the smooth derivative replaces.

Usage::

    python benchmarks/margins_fair.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import statsmodels.api as sm

from semiparam.index import (
    IchimuraClassifier,
    IsotonicIndexClassifier,
    KleinSpadyClassifier,
    LogitIndexClassifier,
    SieveIndexClassifier,
)

COLUMNS = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ"]


def main():
    d = sm.datasets.fair.load_pandas().data
    y = (d["affairs"] > 0).astype(int)
    X = d[COLUMNS]
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0).get_margeff()
    j = COLUMNS.index("rate_marriage")
    print(f"{'estimator':<34}{'effect':>9}{'std err':>9}{'seconds':>9}")
    print(f"{'statsmodels Logit':<34}{ref.margeff[j]:>9.4f}{ref.margeff_se[j]:>9.4f}")
    for est in (LogitIndexClassifier(fit_intercept=True), KleinSpadyClassifier(),
                IchimuraClassifier(), IsotonicIndexClassifier(), SieveIndexClassifier()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        t0 = time.perf_counter()
        me = est.marginal_effects().loc["rate_marriage"]
        dt = time.perf_counter() - t0
        print(f"{type(est).__name__:<34}{me['effect']:>9.4f}{me['std_err']:>9.4f}{dt:>9.2f}")
        if isinstance(est, IsotonicIndexClassifier):
            raw = np.mean(est.link_.derivative(X.to_numpy() @ est.coef_)) * est.coef_[j]
            print(f"{'  (isotonic interpolant slope)':<34}{raw:>9.4f}")


if __name__ == "__main__":
    main()
