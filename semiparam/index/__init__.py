"""Single-index binary choice (and regression) estimators.

==============================  ====================================================
``KleinSpadyClassifier``        semiparametric ML with a leave-one-out kernel link
``IchimuraClassifier``          semiparametric least squares, binary outcome
``IchimuraRegressor``           semiparametric least squares, continuous outcome
``IsotonicIndexClassifier``     monotone link profiled out by isotonic regression
``KernelScoreIndexClassifier``  root of the efficient score, leave-one-out kernel link
``SieveIndexClassifier``        monotone spline-sieve link, joint ML
``LogitIndexClassifier``        logit without intercept (the parametric benchmark, DPO)
``PairwiseRankingClassifier``   link-free pairwise ranking surrogate (RSPO)
``compare``                     line fitted models up side by side
``IndexResult``                 immutable fitted result with ``summary()``
``predictions``                 the probability floor and log-odds decision values
``separation``                  the separation check every classifier runs
``newton``                      the one logistic Newton engine and separation policy
``marginal_effects``            average / at-point effects with standard errors
``plot_link``                   a fitted link with its band and a rug of the index
``compare_links``               several fitted links on one plot
``from_formula``                fit any estimator from a formula and a DataFrame
==============================  ====================================================

Every estimator also has the methods ``marginal_effects()``, ``plot_link()`` and the
class method ``from_formula()``.

Classes are imported on first use so that ``import semiparam.index`` stays cheap.
"""

from .._lazy import lazy_exports

_HOMES = {
    "KleinSpadyClassifier": "kleinspady",
    "IchimuraClassifier": "ichimura",
    "IchimuraRegressor": "ichimura",
    "IsotonicIndexClassifier": "isotonic",
    "KernelScoreIndexClassifier": "kernelscore",
    "SieveIndexClassifier": "sieve",
    "LogitIndexClassifier": "logit",
    "PairwiseRankingClassifier": "ranking",
    "compare": "_compare",
    "IndexResult": "results",
    "marginal_effects": "margins",
    "plot_link": "plotting",
    "compare_links": "plotting",
    "from_formula": "formula",
}

__all__ = sorted(_HOMES)

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
