"""Synthetic preference tables with a known teacher, reward and link.

The design of the paper's synthetic study (Kallus, arXiv 2512.21917), in its
feature-based version:

- contexts ``x ~ N(0, I_d)``, ``k`` actions, uniform reference ``pi_ref = 1/k``;
- a teacher policy ``pi*(a | x) = softmax(l(x))_a`` with logits either linear,
  ``l_a(x) = W_a' x`` with rows ``W_a ~ N(0, teacher_scale^2 / d I)`` (optionally times
  per-action scales), or a random ReLU network ``d - 32 - 32 - k`` (PyTorch's default
  initialisation) times ``teacher_scale``;
- the reward ``r*(x, a) = nu (log pi*(a | x) - log pi_ref(a | x))``;
- pairs ``a0, a1`` drawn uniformly and independently (ties, about 1/k of the draws, are
  dropped), and ``z ~ Bernoulli(Psi(u))`` with ``u = r*(x, a1) - r*(x, a0)`` and ``Psi``
  a link family of :mod:`semiparam.links.families`, by default the shifted-logistic
  mixture ``0.5 sigmoid((u - s)/tau) + 0.5 sigmoid((u + s)/tau)``.

Random numbers are drawn in a fixed order (teacher, training contexts, actions, uniforms,
test contexts) that does not depend on the link, so two calls with the same
``random_state`` and different shifts share everything but the labels' thresholds
(common random numbers for paired comparisons).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import log_softmax

from ..exceptions import DataWarning
from .binary import angle
from ..links.families import get_link
from ..policy.features import FeatureMap, OneHotFeatures, as_contexts
from ..policy.softmax import SoftmaxPolicy
from ..policy.table import PreferenceTable

__all__ = [
    "make_preference_data",
    "PreferenceProblem",
    "RewardFeatures",
    "default_learners",
    "preference_study_task",
    "run_preference_study",
    "summarize_preference_study",
]


class RewardFeatures(FeatureMap):
    """A one-dimensional feature map ``phi(x, a) = r(x, a)`` for a known reward.

    With coefficient ``[1.0]`` its :class:`~semiparam.policy.SoftmaxPolicy` tilts the
    reference by the true reward: the oracle of a simulation.

    Parameters
    ----------
    reward : callable
        ``reward(X) -> (n, k)``.
    n_actions : int
    """

    def __init__(self, reward, n_actions: int):
        self.reward = reward
        self.n_actions = int(n_actions)

    def n_features(self, n_context_features: int) -> int:
        return 1

    def transform(self, X, actions) -> np.ndarray:
        X = as_contexts(X)
        R = self.reward(X)
        return R[np.arange(X.shape[0]), np.asarray(actions, dtype=np.int64)][:, None]

    def scores(self, X, coef) -> np.ndarray:
        X = as_contexts(X)
        return float(self._check_coef(coef, X.shape[1])[0]) * self.reward(X)


@dataclass(frozen=True)
class _LinearTeacher:
    W: np.ndarray  # (k, d)

    def __call__(self, X):
        return X @ self.W.T


@dataclass(frozen=True)
class _MLPTeacher:
    layers: tuple  # ((W, b), ...)
    scale: float

    def hidden(self, X):
        """The last hidden layer ``psi(x)``: the teacher's nonlinear features."""
        h = X
        for W, b in self.layers[:-1]:
            h = np.maximum(h @ W.T + b, 0.0)
        return h

    def __call__(self, X):
        W, b = self.layers[-1]
        return self.scale * (self.hidden(X) @ W.T + b)


@dataclass(frozen=True)
class PreferenceProblem:
    """A simulated preference data set with its ground truth.

    Attributes
    ----------
    table : PreferenceTable
        Training pairs (ties dropped).
    test_contexts : ndarray (n_test, d)
        Held-out contexts for evaluation.
    features : FeatureMap
        The policy class that contains the teacher: ``phi(x, a) = e_a (x) x`` (one-hot,
        no intercept) for a linear teacher; ``e_a (x) [1, psi(x)]`` with ``psi`` the
        network's last hidden layer (features nonlinear in ``x``) for a network teacher.
        Pass ``OneHotFeatures(intercept=False)`` to a learner instead to fit a linear
        policy to a network teacher (a misspecified policy class).
    teacher_logits : callable
        ``X -> (n, k)`` logits of ``pi*``.
    nu : float
    link : ParametricLink
        The true link ``Psi`` of the reward difference.
    true_coef : ndarray
        The reward's direction in ``features``' coordinates: ``nu W`` flattened (linear
        teacher) or ``nu scale [b, W]`` of the network's output layer.
    n_ties : int
        Pairs dropped because ``a0 == a1``.
    """

    table: PreferenceTable
    test_contexts: np.ndarray
    features: FeatureMap
    teacher_logits: object
    nu: float
    link: object
    true_coef: np.ndarray
    n_ties: int
    info: dict = field(default_factory=dict)

    @property
    def n_actions(self) -> int:
        """Number of actions ``k``."""
        return self.table.n_actions

    def reward(self, X) -> np.ndarray:
        """True reward ``r*(x, a) = nu (log pi*(a | x) - log(1/k))``, shape (n, k)."""
        X = as_contexts(X)
        return self.nu * (log_softmax(self.teacher_logits(X), axis=1) + np.log(self.n_actions))

    def oracle_policy(self) -> SoftmaxPolicy:
        """The reference tilted by the true reward (``beta = 1``: ``pi_ref exp(r*)``)."""
        return SoftmaxPolicy([1.0], features=RewardFeatures(self.reward, self.n_actions))


def make_preference_data(
    n_pairs: int = 5000,
    *,
    n_features: int = 20,
    n_actions: int = 10,
    teacher: str = "linear",
    teacher_scale: float | None = None,
    action_scales=None,
    hidden=(32, 32),
    nu: float = 10.0,
    link="shifted_logistic",
    shift: float = 0.0,
    tau: float = 0.25,
    link_params: dict | None = None,
    n_test: int = 2000,
    random_state=None,
) -> PreferenceProblem:
    """Simulate a preference table from a known teacher, reward and link.

    Parameters
    ----------
    n_pairs : int, default=5000
        Pairs drawn before ties are dropped.
    n_features : int, default=20
        Context dimension ``d``.
    n_actions : int, default=10
        Number of actions ``k``.
    teacher : {"linear", "mlp"}, default="linear"
        Linear logits ``W x`` or a random ReLU network with layer sizes ``hidden``
        (logits linear in the nonlinear features ``psi(x)`` of its last hidden layer).
    teacher_scale : float, default=None
        Linear: rows of ``W`` are ``N(0, teacher_scale^2 / d)`` (default 0.2; the paper's
        scale is 1.0).  Network: multiplies the logits (default 1.0).
    action_scales : array-like of shape (k,), default=None
        Multipliers of the teacher's logit of each action (unequal action scales).
    hidden : tuple of int, default=(32, 32)
        Hidden layer sizes of the network teacher.
    nu : float, default=10.0
        Reward scale: ``r* = nu (log pi* - log pi_ref)``.
    link : str or link object, default="shifted_logistic"
        A family of :data:`semiparam.links.families.LINKS`, or a link object with ``cdf``.
    shift, tau : float
        Parameters of the default link (used when ``link_params`` is None and ``link`` is
        ``"shifted_logistic"``).
    link_params : dict, default=None
        Parameters of another family.
    n_test : int, default=2000
        Held-out contexts.
    random_state : int, Generator or None

    Returns
    -------
    PreferenceProblem
    """
    for name, v in (("n_pairs", n_pairs), ("n_features", n_features), ("n_test", n_test)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    if isinstance(n_actions, bool) or not isinstance(n_actions, (int, np.integer)) or n_actions < 2:
        raise ValueError(f"n_actions must be an integer >= 2; got {n_actions!r}.")
    if not (np.isfinite(nu) and nu > 0):
        raise ValueError(f"nu must be a positive number; got {nu!r}.")
    rng = np.random.default_rng(random_state)
    d, k = int(n_features), int(n_actions)
    scales = np.ones(k) if action_scales is None else np.asarray(action_scales, dtype=float)
    if scales.shape != (k,) or not np.all(np.isfinite(scales)) or np.any(scales < 0):
        raise ValueError(f"action_scales must be {k} finite nonnegative numbers.")
    if teacher == "linear":
        ts = 0.2 if teacher_scale is None else float(teacher_scale)
        W = rng.normal(0.0, ts / np.sqrt(d), size=(k, d)) * scales[:, None]
        logits = _LinearTeacher(W)
        true_coef = (nu * W).ravel()
        features = OneHotFeatures(k, intercept=False)
    elif teacher == "mlp":
        ts = 1.0 if teacher_scale is None else float(teacher_scale)
        sizes = (d, *[int(h) for h in hidden], k)
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / np.sqrt(fan_in)
            layers.append((rng.uniform(-bound, bound, size=(fan_out, fan_in)),
                           rng.uniform(-bound, bound, size=fan_out)))
        W_last, b_last = layers[-1]
        W_last, b_last = W_last * scales[:, None], b_last * scales
        layers[-1] = (W_last, b_last)
        logits = _MLPTeacher(tuple(layers), ts)
        true_coef = (nu * ts * np.column_stack([b_last, W_last])).ravel()
        features = OneHotFeatures(k, intercept=True, context_map=logits.hidden)
    else:
        raise ValueError(f"teacher must be 'linear' or 'mlp'; got {teacher!r}.")
    if link_params is None and link == "shifted_logistic":
        link_params = {"s": shift, "tau": tau}
    Psi = get_link(link, **(link_params or {}))

    X = rng.standard_normal((n_pairs, d))
    a0 = rng.integers(0, k, size=n_pairs)
    a1 = rng.integers(0, k, size=n_pairs)
    U = rng.random(n_pairs)
    X_test = rng.standard_normal((n_test, d))

    lp = log_softmax(logits(X), axis=1)
    rows = np.arange(n_pairs)
    u = nu * (lp[rows, a1] - lp[rows, a0])
    z = (U < Psi.cdf(u)).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # ties are dropped by design
        table = PreferenceTable(contexts=X, action0=a0, action1=a1, label=z, n_actions=k)
    return PreferenceProblem(
        table=table,
        test_contexts=X_test,
        features=features,
        teacher_logits=logits,
        nu=float(nu),
        link=Psi,
        true_coef=true_coef,
        n_ties=table.n_dropped,
        info={"teacher": teacher, "teacher_scale": ts, "n_features": d},
    )


# ---------------------------------------------------------------------------------
# the study: learners x shifts x seeds, scored by reward at a divergence budget
# ---------------------------------------------------------------------------------
def default_learners() -> dict:
    """``{"DPO": DPO(), "PSPO": PSPO(), "OSPO": OSPO(), "RSPO": RSPO()}`` (default settings)."""
    from ..policy import DPO, OSPO, PSPO, RSPO

    return {"DPO": DPO(), "PSPO": PSPO(), "OSPO": OSPO(), "RSPO": RSPO()}


def _angle(coef, truth, basis) -> float:
    """Angle (degrees) between two directions within the identified subspace."""
    return angle(basis.T @ coef, basis.T @ truth)


def preference_study_task(seed, shift, *, learners=None, kappa=0.2, divergence="kl",
                          data_kwargs=None) -> list:
    """Simulate one data set and score every learner on it (one unit of the study).

    Parameters
    ----------
    seed : int
        ``random_state`` of :func:`make_preference_data` (shared by every shift, so that
        shifts differ only in the labels' link).
    shift : float
        ``s`` of the shifted-logistic link.
    learners : dict of name -> unfitted learner, default=None
        :func:`default_learners` when None.  A learner whose ``features`` is None gets the
        problem's feature map (the class containing the teacher).
    kappa : float, default=0.2
        Divergence budget.
    divergence : str, default="kl"
    data_kwargs : dict, default=None
        Further arguments of :func:`make_preference_data`.

    Returns
    -------
    list of dict
        One record per learner and one for the oracle: ``seed, shift, learner, reward,
        divergence, beta, oracle, seconds, angle, separated, converged, n_pairs``.
    """
    import time

    from sklearn.base import clone

    from ..policy.evaluation import reward_at_budget

    pb = make_preference_data(random_state=seed, shift=shift, **(data_kwargs or {}))
    X = pb.test_contexts
    oracle = reward_at_budget(pb.oracle_policy(), X, pb.reward, kappa, divergence)
    base = {"seed": int(seed), "shift": float(shift), "oracle": oracle.reward,
            "n_pairs": len(pb.table)}
    rows = [{**base, "learner": "oracle", "reward": oracle.reward,
             "divergence": oracle.divergence, "beta": oracle.beta, "seconds": 0.0,
             "angle": 0.0, "separated": False, "converged": True}]
    for name, est in (learners or default_learners()).items():
        est = clone(est)
        if est.get_params().get("features") is None:
            est.set_params(features=pb.features)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            est.fit(pb.table)
            secs = time.perf_counter() - t0
            res = reward_at_budget(est.policy_, X, pb.reward, kappa, divergence)
        rows.append({**base, "learner": name, "reward": res.reward,
                     "divergence": res.divergence, "beta": res.beta, "seconds": secs,
                     "angle": _angle(est.coef_, pb.true_coef, est.basis_),
                     "separated": bool(getattr(est, "separated_", False)),
                     "converged": bool(getattr(est, "converged_", True))})
    return rows


def run_preference_study(*, seeds=range(20), shifts=(0.0, 0.5, 1.0, 1.5), learners=None,
                         kappa=0.2, divergence="kl", n_jobs=1, **data_kwargs):
    """Run the synthetic preference study over seeds and link shifts.

    Parameters
    ----------
    seeds : iterable of int, default=range(20)
    shifts : iterable of float, default=(0, 0.5, 1, 1.5)
    learners : dict, default=None
        See :func:`preference_study_task`.
    kappa : float, default=0.2
    divergence : str, default="kl"
    n_jobs : int, default=1
        joblib workers (one task = one seed and shift).
    **data_kwargs
        Passed to :func:`make_preference_data` (``n_pairs``, ``teacher_scale``,
        ``action_scales``, ``teacher``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per (seed, shift, learner), the oracle included.
    """
    import pandas as pd
    from joblib import Parallel, delayed

    tasks = [(s, sh) for sh in shifts for s in seeds]
    out = Parallel(n_jobs=n_jobs)(
        delayed(preference_study_task)(s, sh, learners=learners, kappa=kappa,
                                       divergence=divergence, data_kwargs=data_kwargs)
        for s, sh in tasks
    )
    return pd.DataFrame([r for rows in out for r in rows])


def summarize_preference_study(results, baseline="DPO"):
    """Per shift and learner: mean reward, paired gain over the baseline, z, regret ratio.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`run_preference_study`.
    baseline : str, default="DPO"

    Returns
    -------
    pandas.DataFrame
        Columns ``shift, learner, reward, gain, se, z, regret_ratio, angle, seconds,
        separated, n_seeds``: ``gain`` is the mean over seeds of the paired difference
        ``reward - reward(baseline)``, ``se`` its standard error, ``z = gain / se``, and
        ``regret_ratio = (oracle - reward) / (oracle - reward(baseline))`` of the means.
    """
    import pandas as pd

    rows = []
    for shift, g in results.groupby("shift", sort=True):
        wide = g.pivot(index="seed", columns="learner", values="reward")
        base = wide[baseline]
        oracle = wide["oracle"]
        for name in wide.columns:
            d = wide[name] - base
            n = int(d.notna().sum())
            se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            gain = float(d.mean())
            sub = g[g["learner"] == name]
            rows.append({
                "shift": shift, "learner": name, "reward": float(wide[name].mean()),
                "gain": gain, "se": se,
                "z": gain / se if (name != baseline and se and se > 0) else np.nan,
                "regret_ratio": float((oracle - wide[name]).mean() / (oracle - base).mean()),
                "angle": float(sub["angle"].mean()), "seconds": float(sub["seconds"].mean()),
                "separated": float(sub["separated"].mean()), "n_seeds": n,
            })
    order = {n: i for i, n in enumerate(["oracle", baseline])}
    out = pd.DataFrame(rows)
    out["_o"] = out["learner"].map(lambda s: order.get(s, 2))
    return out.sort_values(["shift", "_o", "learner"]).drop(columns="_o").reset_index(drop=True)
