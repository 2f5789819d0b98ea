"""Predicted probabilities and decision values of the binary classifiers.

Every classifier of :mod:`semiparam.index` (and the preference learners of
:mod:`semiparam.policy`, through them) predicts ``p = link(index)`` and reports:

* ``index(X) = X @ coef_``, the fitted index;
* ``predict_proba``: ``p`` kept inside ``[PROBA_FLOOR, 1 - PROBA_FLOOR]`` with
  ``PROBA_FLOOR = 1e-12``, never exactly 0 or 1.  Why this floor: a link estimated
  from ``n`` rows cannot resolve probabilities below about ``1/n``, so a floor of
  ``1e-12`` never changes a prediction the data support (``n`` would have to exceed
  ``1e12``); exact 0 or 1 (a flat link beyond the last observed index, an isotonic block
  of one class) would give one new row an infinite log loss.  ``1 - 1e-12`` is still
  distinct from 1 in double precision (spacing ``1.1e-16``, so ``1 - p`` keeps four
  significant digits), and the log loss of a floored row is at most
  ``-log(1e-12) = 27.6``;
* ``decision_function``: the log-odds ``log p - log(1 - p)`` of that probability,
  strictly increasing in ``predict_proba`` (rankings, ROC AUC and
  ``cross_val_score(scoring="roc_auc")`` agree with the probabilities) and positive
  exactly where ``predict`` gives ``classes_[1]`` (``p > 1/2``), as scikit-learn
  expects.  It is not the index: with a non-monotone kernel link, or a monotone link
  that crosses 1/2 away from index 0, the two differ.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PROBA_FLOOR", "floor_probability", "log_odds"]

#: predicted probabilities are kept inside [PROBA_FLOOR, 1 - PROBA_FLOOR]
PROBA_FLOOR = 1e-12


def floor_probability(p):
    """``p`` (any shape) as floats inside ``[PROBA_FLOOR, 1 - PROBA_FLOOR]``."""
    return np.clip(np.asarray(p, dtype=float), PROBA_FLOOR, 1.0 - PROBA_FLOOR)


def log_odds(p):
    """``log p - log(1 - p)`` of probabilities inside ``(0, 1)`` (floored ones are)."""
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)
