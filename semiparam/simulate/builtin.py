"""Two built-in studies, to run as they are (``semiparam study run builtin:binary-choice``)
or to extend (each factory returns a :class:`~semiparam.simulate.Study`).

1. **Misspecified links in binary choice** (:func:`binary_choice_study`).
   ``z = 1{F(x'beta) > U}`` with ``beta = (1, 0.5, -1)`` and a link ``F`` from
   {logistic, cloglog, shifted logistic (a bimodal noise: s = 1.5, tau = 0.25), skew logistic
   (alpha = 0.3), cauchit (heavy tails)}; regressor designs

   * ``elliptical``: ``x ~ N(0, Sigma)``, unit variances, correlations 0.3.  By Ruud (1983)
     and Li and Duan (1989) any (misspecified) single-index likelihood, logit included,
     estimates ``beta`` consistently up to scale;
   * ``non-elliptical``: ``x1 ~ N(0, 1)``, ``x2 ~ Bernoulli(0.3)`` (binary), ``x3`` a centred
     exponential (skewed).  ``E[x | x'beta]`` is not linear, so logit and probit are biased
     for the direction unless the link is right.

   The estimand is the direction normalised by its first coefficient (the convention of
   R's ``np::npindex``): ``b2 = 0.5``, ``b3 = -1``.  Methods: ``logit`` and ``probit`` with an
   intercept (statsmodels for probit, delta-method SEs of the ratios), and the index
   estimators ``klein_spady``, ``ichimura``, ``isotonic``, ``sieve`` (their public API only:
   ``fit``, ``coef_``, ``result_.std_errors``, ``converged_``).  Outputs per method: ``b2``,
   ``b3``, ``se2``, ``se3``, ``angle`` (degrees, to the true direction), ``converged``.

2. **Preference learning** (:func:`policy_study`): DPO against PSPO, OSPO and RSPO (and the
   oracle) across link shifts ``s`` on the data of
   :func:`~semiparam.simulate.make_preference_data`, each scored by its true reward at
   several KL budgets (outputs ``reward@<kappa>``), with the angle to the true direction,
   the fit time (``fit_seconds``) and separation / convergence flags.  Shifts share their
   random numbers (``common_random_numbers=("shift",)``): every shift sees the same
   contexts, teacher and pairs, the labels differing only through the link, which is
   what makes the paired gains over DPO sharp.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from .binary import angle

__all__ = ["binary_choice_study", "policy_study", "BUILTIN_STUDIES", "BINARY_LINKS",
           "TRUE_COEF"]

#: the true index coefficients of the binary-choice study
TRUE_COEF = (1.0, 0.5, -1.0)

#: link name -> (family, parameters) of the binary-choice study
BINARY_LINKS = {
    "logistic": ("logistic", {}),
    "cloglog": ("cloglog", {}),
    "shifted": ("shifted_logistic", {"s": 1.5, "tau": 0.25}),
    "skewed": ("skew_logistic", {"alpha": 0.3}),
    "heavy": ("cauchit", {}),
}


# ---------------------------------------------------------------------------------------
# 1. binary choice
# ---------------------------------------------------------------------------------------
def binary_design(design: str, n: int, rng) -> np.ndarray:
    """Regressors of the binary-choice study (``"elliptical"`` or ``"non-elliptical"``)."""
    if design == "elliptical":
        C = np.full((3, 3), 0.3) + 0.7 * np.eye(3)
        return rng.standard_normal((n, 3)) @ np.linalg.cholesky(C).T
    if design == "non-elliptical":
        X = np.empty((n, 3))
        X[:, 0] = rng.standard_normal(n)
        X[:, 1] = rng.random(n) < 0.3
        X[:, 2] = rng.exponential(1.0, n) - 1.0
        return X
    raise ValueError(f"design must be 'elliptical' or 'non-elliptical'; got {design!r}.")


def generate_binary(cell, rng) -> dict:
    """One data set of the binary-choice study: ``{"X", "y", "coef"}``."""
    from ..links.families import get_link

    family, params = BINARY_LINKS[cell["link"]]
    X = binary_design(cell["design"], int(cell["n"]), rng)
    beta = np.asarray(TRUE_COEF)
    p = get_link(family, **params).cdf(X @ beta)
    y = (rng.random(X.shape[0]) < p).astype(int)
    return {"X": X, "y": y, "coef": beta}


def _ratio_outputs(b, cov, truth) -> dict:
    """First-coefficient normalisation of a raw slope vector with delta-method SEs."""
    b = np.asarray(b, dtype=float)
    r = b / b[0]
    J = np.eye(b.size) / b[0]
    J[:, 0] -= b / b[0] ** 2
    V = J @ cov @ J.T
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    return {"b2": r[1], "b3": r[2], "se2": se[1], "se3": se[2], "angle": angle(b, truth)}


def probit_method(data, cell) -> dict:
    """Probit with an intercept (statsmodels), slopes normalised by the first."""
    import statsmodels.api as sm

    X = sm.add_constant(data["X"], has_constant="add")
    res = sm.Probit(data["y"], X).fit(disp=0, method="newton", maxiter=100)
    out = _ratio_outputs(res.params[1:], res.cov_params()[1:, 1:], data["coef"])
    out["converged"] = bool(res.mle_retvals.get("converged", True))
    return out


def _index_method(kind, data, cell, rng=None) -> dict:
    from .. import index

    make = {
        "logit": lambda: index.LogitIndexClassifier(fit_intercept=True, normalize="first"),
        "klein_spady": lambda: index.KleinSpadyClassifier(normalize="first"),
        "ichimura": lambda: index.IchimuraClassifier(normalize="first"),
        "isotonic": lambda: index.IsotonicIndexClassifier(normalize="first"),
        "sieve": lambda: index.SieveIndexClassifier(normalize="first"),
    }[kind]
    est = make()
    if rng is not None and "random_state" in est.get_params():
        est.set_params(random_state=int(rng.integers(2**31 - 1)))
    est.fit(data["X"], data["y"])
    coef = np.asarray(est.coef_, dtype=float)
    se = np.asarray(est.result_.std_errors, dtype=float)
    return {"b2": coef[1], "b3": coef[2], "se2": se[1], "se3": se[2],
            "angle": angle(coef, data["coef"]), "converged": bool(est.converged_)}


BINARY_METHODS = ("logit", "probit", "klein_spady", "ichimura", "isotonic", "sieve")


def binary_methods(names=BINARY_METHODS) -> dict:
    """``{name: method}`` of the binary-choice study."""
    out = {}
    for name in names:
        if name == "probit":
            out[name] = probit_method
        elif name in BINARY_METHODS:
            out[name] = functools.partial(_index_method, name)
        else:
            raise ValueError(f"Unknown method {name!r}; choose from {BINARY_METHODS}.")
    return out


def binary_choice_study(*, n=(500, 1000, 2000, 4000, 8000), links=tuple(BINARY_LINKS),
                        designs=("elliptical", "non-elliptical"), methods=BINARY_METHODS,
                        replications=200, seed=20261206, max_failures=50):
    """The misspecified-links study (see the module docstring); a :class:`Study`."""
    from .study import Study

    for lk in links:
        if lk not in BINARY_LINKS:
            raise ValueError(f"Unknown link {lk!r}; choose from {list(BINARY_LINKS)}.")
    return Study(
        {"design": list(designs), "link": list(links), "n": [int(v) for v in n]},
        generate_binary, binary_methods(methods), replications, seed,
        max_failures=max_failures, name="binary-choice",
        summary={"estimate": ["b2", "b3"], "se": ["se2", "se3"],
                 "true": {"b2": TRUE_COEF[1] / TRUE_COEF[0], "b3": TRUE_COEF[2] / TRUE_COEF[0]},
                 "angle": "angle", "means": ["converged"], "baseline": "logit"})


# ---------------------------------------------------------------------------------------
# 2. preference learning
# ---------------------------------------------------------------------------------------
def generate_preferences(cell, rng, data_kwargs=None):
    """One preference problem at the cell's link shift (``PreferenceProblem``)."""
    from .preferences import make_preference_data

    return make_preference_data(shift=float(cell["shift"]), random_state=rng,
                                **(data_kwargs or {}))


def _oracle_method(pb, cell, budgets=(0.2,), divergence="kl") -> dict:
    from ..policy.evaluation import reward_at_budget

    out = {"angle": 0.0, "fit_seconds": 0.0, "separated": False, "converged": True,
           "n_pairs": len(pb.table)}
    for k in budgets:
        out[f"reward@{k:g}"] = reward_at_budget(pb.oracle_policy(), pb.test_contexts,
                                                pb.reward, k, divergence).reward
    return out


def _learner_method(name, pb, cell, budgets=(0.2,), divergence="kl", learner=None) -> dict:
    from sklearn.base import clone

    from ..policy import DPO, OSPO, PSPO, RSPO
    from ..policy.evaluation import reward_at_budget

    est = clone(learner) if learner is not None else {"DPO": DPO, "PSPO": PSPO, "OSPO": OSPO,
                                                      "RSPO": RSPO}[name]()
    if est.get_params().get("features") is None:
        est.set_params(features=pb.features)
    # warnings (separation, convergence) are recorded by the runner, not silenced
    t0 = time.perf_counter()
    est.fit(pb.table)
    secs = time.perf_counter() - t0
    rewards = {f"reward@{k:g}": reward_at_budget(est.policy_, pb.test_contexts, pb.reward,
                                                 k, divergence).reward for k in budgets}
    b = est.basis_
    return {**rewards, "angle": angle(b.T @ est.coef_, b.T @ pb.true_coef),
            "fit_seconds": secs, "separated": bool(getattr(est, "separated_", False)),
            "converged": bool(getattr(est, "converged_", True)), "n_pairs": len(pb.table)}


def policy_study(*, shifts=(0.0, 0.5, 1.0, 1.5), budgets=(0.05, 0.1, 0.2, 0.4),
                 learners=("DPO", "PSPO", "OSPO", "RSPO"), replications=20, seed=20261206,
                 divergence="kl", data_kwargs=None, max_failures=50):
    """DPO against the semiparametric learners across link shifts and budgets; a Study.

    ``learners`` names default learners or is a dict ``{name: unfitted learner}``;
    ``data_kwargs`` go to :func:`make_preference_data` (``n_pairs``, ``teacher_scale``, ...).
    """
    from .study import Study

    budgets = tuple(float(k) for k in budgets)
    if not budgets or min(budgets) <= 0:
        raise ValueError(f"budgets must be positive; got {budgets!r}.")
    if isinstance(learners, dict):
        methods = {name: functools.partial(_learner_method, name, budgets=budgets,
                                           divergence=divergence, learner=est)
                   for name, est in learners.items()}
    else:
        methods = {name: functools.partial(_learner_method, name, budgets=budgets,
                                           divergence=divergence) for name in learners}
    methods = {"oracle": functools.partial(_oracle_method, budgets=budgets,
                                           divergence=divergence), **methods}
    first = next(n for n in methods if n != "oracle")
    return Study(
        {"shift": [float(s) for s in shifts]},
        functools.partial(generate_preferences, data_kwargs=dict(data_kwargs or {})),
        methods, replications, seed, max_failures=max_failures, name="policy",
        common_random_numbers=("shift",),
        summary={"means": [f"reward@{k:g}" for k in budgets] + ["angle", "fit_seconds"],
                 "baseline": first})


BUILTIN_STUDIES = {"binary-choice": binary_choice_study, "policy": policy_study}
