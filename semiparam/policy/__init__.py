"""Policy learning from preference tables.

A feature-based policy ``pi_theta(a | x) ∝ pi_ref(a | x) exp(theta' phi(x, a))`` gives the
pair ``(x, a0, a1)`` the preference index ``t = theta' (phi(x, a1) - phi(x, a0))``: a
linear index on the difference design.  The learners are therefore the single-index
estimators of :mod:`semiparam.index` applied to that design; what this package adds is
the data (:class:`PreferenceTable`), the feature maps, the map from a fitted direction to
a policy (:class:`SoftmaxPolicy`, f-divergence tilts, the scale chosen by a budget) and
the evaluation against a known reward.

=======================  ==========================================================
``PreferenceTable``      validated pairs (context, a0, a1, label, weight, reference)
``OneHotFeatures``       default map ``e_a (x) [1, x]``; also ``KroneckerFeatures``,
                         ``CallableFeatures``, ``difference_design``
``SoftmaxPolicy``        tilted policy: ``predict_proba``, ``tilt``, ``at_budget``
``DIVERGENCES``          ``"kl"``, ``"reverse_kl"``, ``"chi2"``, ``"hellinger"``, ``"alpha"``
``DPO``/``PSPO``/        learners: logistic, isotonic (profiled), kernel
``OSPO``/``RSPO``        (orthogonalized) and pairwise-ranking links
``reward_at_budget``     evaluation: also ``policy_value``, ``evaluate_policy``, ``frontier``
=======================  ==========================================================
"""

from .divergences import DIVERGENCES, FDivergence, get_divergence
from .evaluation import (
    BudgetEvaluation,
    Frontier,
    evaluate_policy,
    frontier,
    policy_value,
    reward_at_budget,
)
from .features import (
    CallableFeatures,
    FeatureMap,
    KroneckerFeatures,
    OneHotFeatures,
    difference_design,
    identified_basis,
)
from .softmax import BudgetWarning, SoftmaxPolicy
from .learners import DPO, OSPO, PSPO, RSPO
from .table import PreferenceTable

__all__ = [
    "PreferenceTable",
    "DPO",
    "PSPO",
    "OSPO",
    "RSPO",
    "FeatureMap",
    "OneHotFeatures",
    "KroneckerFeatures",
    "CallableFeatures",
    "difference_design",
    "identified_basis",
    "SoftmaxPolicy",
    "BudgetWarning",
    "FDivergence",
    "DIVERGENCES",
    "get_divergence",
    "policy_value",
    "evaluate_policy",
    "frontier",
    "reward_at_budget",
    "Frontier",
    "BudgetEvaluation",
]
