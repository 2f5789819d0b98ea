"""Evaluation of policies against a known reward (simulations).

With the true reward ``r(x, a)`` known, a policy is scored on held-out contexts by its
average reward ``mean_x sum_a pi(a | x) r(x, a)`` and its average divergence to the
reference.  A fitted direction defines a one-parameter family of tilts; along it the
reward traces a frontier against the divergence (:func:`frontier`), and the study's
headline number is the reward of the member that spends exactly a budget ``kappa``
(:func:`reward_at_budget`, which solves for ``beta`` exactly instead of interpolating on
a grid of betas: the reference study's grid of 23 values understates the reward by about
0.01 even for a perfect learner).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .divergences import get_divergence

__all__ = [
    "policy_value",
    "evaluate_policy",
    "frontier",
    "reward_at_budget",
    "Frontier",
    "BudgetEvaluation",
]


def _reward_matrix(reward, X, k) -> np.ndarray:
    R = reward(X) if callable(reward) else reward
    R = np.asarray(R, dtype=float)
    if R.shape != (X.shape[0], k):
        raise ValueError(f"reward must be (or return) an array of shape {(X.shape[0], k)}; got {R.shape}.")
    if not np.all(np.isfinite(R)):
        raise ValueError("reward contains NaN or infinity.")
    return R


def policy_value(policy, X, reward, ref_logprobs=None) -> float:
    """Average reward ``mean_x sum_a pi(a | x) r(x, a)`` of a policy.

    Parameters
    ----------
    policy : SoftmaxPolicy
    X : array-like of shape (n, d)
        Contexts (held out from training).
    reward : callable or array-like of shape (n, k)
        ``reward(X) -> (n, k)``, or the matrix of rewards at ``X``.
    ref_logprobs : array-like of shape (k,) or (n, k), default=None

    Returns
    -------
    float
    """
    X = policy.validate_contexts(X)
    R = _reward_matrix(reward, X, policy.n_actions)
    return float(np.mean(np.sum(policy.predict_proba(X, ref_logprobs) * R, axis=1)))


def evaluate_policy(policy, X, reward, divergence="kl", ref_logprobs=None):
    """Average reward and average divergence to the reference on contexts ``X``.

    Returns
    -------
    (float, float)
        ``(reward, divergence)``.
    """
    X = policy.validate_contexts(X)
    return (
        policy_value(policy, X, reward, ref_logprobs),
        policy.mean_divergence(X, divergence, ref_logprobs),
    )


@dataclass(frozen=True)
class Frontier:
    """Reward against divergence along the tilts of one direction.

    Attributes
    ----------
    beta, divergence, reward : ndarray
        Scales, average divergences and average rewards, ordered by increasing divergence.
    divergence_name : str
    """

    beta: np.ndarray
    divergence: np.ndarray
    reward: np.ndarray
    divergence_name: str = "kl"

    def plot(self, ax=None, *, budget=None, **kwargs):
        """Plot reward against divergence (matplotlib imported only here).

        ``budget``: a divergence budget ``kappa`` to mark with a dotted vertical line.
        Other keyword arguments go to ``ax.plot``.  Returns the Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.divergence, self.reward, **kwargs)
        if budget is not None:
            ax.axvline(float(budget), color="grey", ls=":", lw=1)
        ax.set_xlabel(f"average {self.divergence_name} divergence to the reference")
        ax.set_ylabel("average true reward")
        return ax


def frontier(policy, X, reward, *, kappas=None, betas=None, divergence="kl",
             ref_logprobs=None) -> Frontier:
    """The reward-versus-divergence frontier of a policy's tilts.

    Parameters
    ----------
    policy : SoftmaxPolicy
    X : array-like of shape (n, d)
    reward : callable or array-like of shape (n, k)
    kappas : array-like, default=None
        Budgets at which to place the points (each solved exactly for ``beta``).
    betas : array-like, default=None
        Scales instead of budgets.  With neither, 25 budgets spread evenly up to 90% of
        the greedy limit's divergence (capped at 2).
    divergence : str or FDivergence, default="kl"
    ref_logprobs : array-like, default=None

    Returns
    -------
    Frontier
    """
    X = policy.validate_contexts(X)
    div = get_divergence(divergence)
    R = _reward_matrix(reward, X, policy.n_actions)
    if kappas is not None and betas is not None:
        raise ValueError("Pass kappas or betas, not both.")
    if betas is None:
        if kappas is None:
            top = policy.tilt(0.0, div).mean_divergence(X, div, ref_logprobs)
            kappas = np.linspace(0.0, min(0.9 * top, 2.0), 25)
        pols = [policy.at_budget(kp, X, div, ref_logprobs) for kp in np.asarray(kappas, float)]
    else:
        pols = [policy.tilt(float(b), div) for b in np.asarray(betas, float)]
    b = np.array([p.beta for p in pols])
    dv = np.array([p.mean_divergence(X, div, ref_logprobs) for p in pols])
    rw = np.array([policy_value(p, X, R, ref_logprobs) for p in pols])
    order = np.argsort(dv, kind="stable")
    return Frontier(b[order], dv[order], rw[order], div.name)


@dataclass(frozen=True)
class BudgetEvaluation:
    """A policy's tilt at a divergence budget and its average reward.

    Attributes
    ----------
    kappa : float
        Requested budget.
    beta : float
        Solved scale (0: greedy, the budget was beyond reach).
    reward : float
        Average true reward at that scale.
    divergence : float
        Achieved average divergence (equal to ``kappa`` unless out of reach).
    policy : SoftmaxPolicy
        The tilted policy.
    """

    kappa: float
    beta: float
    reward: float
    divergence: float
    policy: object


def reward_at_budget(policy, X, reward, kappa, divergence="kl",
                     ref_logprobs=None) -> BudgetEvaluation:
    """Average reward of the tilt whose average divergence on ``X`` equals ``kappa``.

    Parameters
    ----------
    policy : SoftmaxPolicy
    X : array-like of shape (n, d)
        Held-out contexts: the budget and the reward are both averaged over them.
    reward : callable or array-like of shape (n, k)
    kappa : float
    divergence : str or FDivergence, default="kl"
    ref_logprobs : array-like, default=None

    Returns
    -------
    BudgetEvaluation
    """
    X = policy.validate_contexts(X)
    tilted = policy.at_budget(kappa, X, divergence, ref_logprobs)
    rew, dv = evaluate_policy(tilted, X, reward, divergence, ref_logprobs)
    return BudgetEvaluation(float(kappa), tilted.beta, rew, dv, tilted)
