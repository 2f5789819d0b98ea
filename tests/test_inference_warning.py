"""The InferenceWarning threshold: rows of the rarer class per coefficient.

Thresholds from ``benchmarks/se_vs_montecarlo.py`` (docs/soundness.md, section 5): kernel
links (Klein–Spady, Ichimura) 60 rows per coefficient, monotone links (isotonic, sieve) 200.
"""

import warnings

import numpy as np
import pytest

from semiparam.exceptions import InferenceWarning
from semiparam.index import (
    IchimuraClassifier,
    IsotonicIndexClassifier,
    KleinSpadyClassifier,
    LogitIndexClassifier,
    SieveIndexClassifier,
)
from semiparam.index._base import MIN_ROWS_PER_COEF, MIN_ROWS_PER_COEF_MONOTONE


def _data(n_rare, d=2, seed=0):
    """``n_rare`` rows of class 1 and as many of class 0 (balanced), ``d`` columns."""
    rng = np.random.default_rng(seed)
    n = 2 * n_rare
    X = rng.standard_normal((n, d))
    v = X @ np.r_[1.0, -np.ones(d - 1)]
    y = np.zeros(n, dtype=int)
    y[np.argsort(v + rng.logistic(size=n))[n_rare:]] = 1
    return X, y


def _fit_caught(est, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    return [w for w in caught if issubclass(w.category, InferenceWarning)]


@pytest.mark.parametrize("cls, k", [
    (KleinSpadyClassifier, MIN_ROWS_PER_COEF),
    (IchimuraClassifier, MIN_ROWS_PER_COEF),
    (IsotonicIndexClassifier, MIN_ROWS_PER_COEF_MONOTONE),
    (SieveIndexClassifier, MIN_ROWS_PER_COEF_MONOTONE),
])
def test_threshold_per_estimator(cls, k):
    assert cls.min_rows_per_coef == k
    d = 2
    below = _fit_caught(cls(), *_data(k * d - 10, d))
    assert len(below) == 1
    assert f"fewer than {k} per coefficient" in str(below[0].message)
    est = cls()
    assert _fit_caught(est, *_data(k * d + 10, d)) == []
    assert not any("rarer class" in note for note in est.result_.notes)


def test_note_in_summary_and_not_for_bootstrap_or_logit():
    X, y = _data(50)
    est = KleinSpadyClassifier()
    assert len(_fit_caught(est, X, y)) == 1
    assert "rarer class" in str(est.summary())
    # a known link: the parametric covariance is not flagged
    assert _fit_caught(LogitIndexClassifier(), X, y) == []
    # bootstrap standard errors are not flagged either
    assert _fit_caught(IsotonicIndexClassifier(cov_type="bootstrap", n_bootstrap=20), X, y) == []
