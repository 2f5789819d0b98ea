"""SoftmaxPolicy: probabilities, tilts, the budget, sampling; evaluation helpers."""

import warnings

import numpy as np
import pytest
from scipy.special import log_softmax

from semiparam.policy import (
    BudgetWarning,
    OneHotFeatures,
    SoftmaxPolicy,
    evaluate_policy,
    frontier,
    get_divergence,
    policy_value,
    reward_at_budget,
)
from semiparam.simulate import make_preference_data

K, D = 4, 3


@pytest.fixture
def policy():
    rng = np.random.default_rng(0)
    return SoftmaxPolicy(rng.normal(size=K * (D + 1)), features=OneHotFeatures(K))


@pytest.fixture
def X():
    return np.random.default_rng(1).normal(size=(300, D))


def test_softmax_probabilities(policy, X):
    P = policy.predict_proba(X)
    assert P.shape == (300, K)
    np.testing.assert_allclose(P.sum(1), 1.0)
    np.testing.assert_allclose(np.log(P), log_softmax(policy.scores(X), axis=1), atol=1e-12)
    np.testing.assert_allclose(policy.log_proba(X), np.log(P), atol=1e-12)
    ref = np.log([0.1, 0.2, 0.3, 0.4])
    Pr = policy.tilt(2.0).predict_proba(X, ref_logprobs=ref)
    np.testing.assert_allclose(Pr, np.exp(log_softmax(ref + policy.scores(X) / 2, axis=1)))


def test_tilt_family_kl(policy, X):
    """pi_beta ∝ pi_ref^(1 - 1/beta) pi_theta^(1/beta)."""
    ref = np.log([0.1, 0.2, 0.3, 0.4])
    pol = SoftmaxPolicy(policy.coef, features=policy.features, reference=ref)
    p1, p3 = pol.predict_proba(X), pol.tilt(3.0).predict_proba(X)
    expected = np.exp(ref) ** (1 - 1 / 3) * p1 ** (1 / 3)
    np.testing.assert_allclose(p3, expected / expected.sum(1, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(pol.tilt(np.inf).predict_proba(X), np.tile(np.exp(ref), (300, 1)))
    greedy = pol.tilt(0.0).predict_proba(X)
    np.testing.assert_array_equal(greedy.argmax(1), pol.scores(X).argmax(1))


@pytest.mark.parametrize("div", ["kl", "reverse_kl", "chi2", "hellinger"])
def test_at_budget_hits_kappa(policy, X, div):
    tilted = policy.at_budget(0.15, X, divergence=div)
    assert tilted.divergence.name == div
    assert tilted.mean_divergence(X) == pytest.approx(0.15, rel=1e-9)
    looser = policy.at_budget(0.3, X, divergence=div)
    assert looser.beta < tilted.beta  # more budget, less regularisation


def test_budget_beyond_reach_returns_greedy(policy, X):
    top = policy.tilt(0.0).mean_divergence(X)
    with pytest.warns(BudgetWarning, match="beyond reach"):
        pol = policy.at_budget(top + 1.0, X)
    assert pol.beta == 0.0
    assert policy.at_budget(0.0, X).beta == np.inf


def test_flat_direction_returns_reference(X):
    flat = SoftmaxPolicy(np.zeros(K * (D + 1)), features=OneHotFeatures(K))
    with pytest.warns(BudgetWarning, match="flat"):
        pol = flat.at_budget(0.1, X)
    np.testing.assert_allclose(pol.predict_proba(X), 0.25)


def test_sample_frequencies(policy):
    x = np.zeros((20000, D))
    a = policy.sample(x, random_state=0)
    freq = np.bincount(a, minlength=K) / a.size
    np.testing.assert_allclose(freq, policy.predict_proba(x[:1])[0], atol=0.015)
    np.testing.assert_array_equal(a, policy.sample(x, random_state=0))


def test_policy_input_errors(policy):
    with pytest.raises(ValueError, match="coef has 3 entries"):
        SoftmaxPolicy(np.ones(3), features=OneHotFeatures(K)).predict_proba(np.zeros((2, D)))
    with pytest.raises(ValueError, match="not a distribution"):
        policy.predict_proba(np.zeros((2, D)), ref_logprobs=np.zeros(K))
    with pytest.raises(ValueError, match="beta must be >= 0"):
        policy.tilt(-1.0)
    with pytest.raises(ValueError, match="kappa"):
        policy.at_budget(-0.1, np.zeros((2, D)))
    with pytest.raises(ValueError, match="NaN"):
        policy.predict_proba(np.full((2, D), np.nan))


def test_evaluation_helpers():
    pb = make_preference_data(200, n_features=5, n_actions=4, n_test=500, random_state=0)
    X, oracle = pb.test_contexts, pb.oracle_policy()
    res = reward_at_budget(oracle, X, pb.reward, 0.2)
    assert res.divergence == pytest.approx(0.2, rel=1e-9)
    rew, dv = evaluate_policy(res.policy, X, pb.reward)
    assert rew == pytest.approx(res.reward) and dv == pytest.approx(0.2, rel=1e-9)
    # the oracle's tilt is the best policy at its own divergence: any other direction loses
    other = SoftmaxPolicy(np.random.default_rng(99).normal(size=20), features=pb.features)
    assert reward_at_budget(other, X, pb.reward, 0.2).reward < res.reward
    fr = frontier(oracle, X, pb.reward, kappas=[0.0, 0.1, 0.2, 0.4])
    np.testing.assert_allclose(fr.divergence, [0.0, 0.1, 0.2, 0.4], atol=1e-9)
    ref_value = pb.reward(X).mean()  # the uniform reference's reward
    assert np.all(np.diff(fr.reward) > 0) and fr.reward[0] == pytest.approx(ref_value)
    fb = frontier(oracle, X, pb.reward, betas=[5.0, 1.0])
    assert fb.beta.tolist() == [5.0, 1.0]
    assert policy_value(oracle.tilt(np.inf), X, pb.reward(X)) == pytest.approx(ref_value)
    with pytest.raises(ValueError, match="shape"):
        policy_value(oracle, X, np.zeros((3, 4)))


def test_reward_is_policy_value_of_uniform_zero():
    """r* = nu (log pi* - log pi_ref) has mean <= 0 under the uniform reference."""
    pb = make_preference_data(100, n_features=4, n_actions=5, n_test=50, random_state=2)
    R = pb.reward(pb.test_contexts)
    assert np.all(R.mean(1) <= 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_divergence("kl").divergence(np.full(5, 0.2), np.full(5, 0.2))
