"""Property-based checks (hypothesis) of the policy layer's numerical edges: tilted
policies stay distributions at any scale, reverse KL included; ``sample`` draws only
actions with mass; ``at_budget`` either meets the budget or says (``BudgetWarning``) what
it achieved; learners do not care about the scale of the weights (1e-200 ... 1e200)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from semiparam.exceptions import BudgetWarning
from semiparam.policy import DPO, OSPO, PSPO, RSPO, OneHotFeatures, PreferenceTable
from semiparam.policy import SoftmaxPolicy, get_divergence
from semiparam.policy.divergences import FDivergence, greedy_policy
from semiparam.simulate import make_preference_data

NAMES = ["kl", "reverse_kl", "chi2", "hellinger"]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scores = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 6)),
                elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
betas = st.sampled_from([1e-300, 1e-200, 1e-100, 1e-20, 1e-16, 1e-8, 1e-3, 1.0, 1e3, 1e100])


def _reference(shape, seed):
    q = np.random.default_rng(seed).dirichlet(np.ones(shape[1]), size=shape[0])
    return q / q.sum(axis=1, keepdims=True)


@SETTINGS
@given(S=scores, beta=betas, name=st.sampled_from(NAMES), seed=st.integers(0, 2**16))
def test_tilted_policy_is_a_distribution_at_any_scale(S, beta, name, seed):
    q = _reference(S.shape, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NaN/overflow along the way
        P = get_divergence(name).optimal_policy(S, q, beta)
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)


int_scores = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 6)),
                    elements=st.integers(-1000, 1000).map(float))


@SETTINGS
@given(S=int_scores, seed=st.integers(0, 2**16))
def test_reverse_kl_tends_to_the_greedy_policy(S, seed):
    """beta -> 0: mass only on the best actions, in proportion to the reference there.

    Integer scores: ties are exact and every gap is at least 1, so at beta = 1e-300 the
    tilt is greedy to double precision (a gap of 1e-117 is not a tie at that scale)."""
    q = _reference(S.shape, seed)
    P = get_divergence("reverse_kl").optimal_policy(S, q, 1e-300)
    np.testing.assert_allclose(P, greedy_policy(S, q), atol=1e-12)


@SETTINGS
@given(beta=st.sampled_from([1e-2, 0.1, 1.0, 10.0, 1e3]), seed=st.integers(0, 2**16))
def test_reverse_kl_agrees_with_the_generic_solver(beta, seed):
    """Where the generic lambda-Newton of FDivergence is well conditioned (moderate beta,
    scores of order one) the scale-free reverse-KL solver gives the same policy."""
    rng = np.random.default_rng(seed)
    S, q = rng.normal(size=(8, 5)), _reference((8, 5), seed + 1)
    div = get_divergence("reverse_kl")
    np.testing.assert_allclose(div.optimal_policy(S, q, beta),
                               FDivergence.optimal_policy(div, S, q, beta), atol=1e-12)


@pytest.fixture(scope="module")
def policy():
    coef = np.random.default_rng(1).normal(size=4 * 3)
    return SoftmaxPolicy(coef, features=OneHotFeatures(4))


@SETTINGS
@given(beta=betas, scale=st.sampled_from([1e-3, 1.0, 1e8, 1e150]),
       name=st.sampled_from(NAMES), seed=st.integers(0, 2**16))
def test_sample_draws_only_actions_with_mass(policy, beta, scale, name, seed):
    X = np.random.default_rng(seed).normal(size=(50, 2))
    pol = SoftmaxPolicy(policy.coef * scale, features=policy.features, beta=beta,
                        divergence=name)
    P = pol.predict_proba(X)
    assert np.all(np.isfinite(P))
    a = pol.sample(X, random_state=seed)
    assert np.all(P[np.arange(len(a)), a] > 0)


@SETTINGS
@given(kappa=st.floats(1e-3, 1e3), name=st.sampled_from(NAMES), seed=st.integers(0, 2**16))
def test_at_budget_meets_the_budget_or_says_what_it_achieved(policy, kappa, name, seed):
    X = np.random.default_rng(seed).normal(size=(40, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tilted = policy.at_budget(kappa, X, divergence=name)
    achieved = tilted.mean_divergence(X)
    budget = [w for w in caught if issubclass(w.category, BudgetWarning)]
    others = [w for w in caught if not issubclass(w.category, BudgetWarning)]
    assert not others, [str(w.message) for w in others]
    if not budget:
        np.testing.assert_allclose(achieved, kappa, rtol=1e-6)
    else:  # short of the budget, and the warning says so honestly
        assert achieved <= kappa * (1 + 1e-9)
        assert np.isfinite(achieved) or tilted.beta == 0


def test_reverse_kl_budget_beyond_reach_warns_with_the_achieved_value(policy):
    X = np.random.default_rng(0).normal(size=(40, 2))
    met = policy.at_budget(50.0, X, divergence="reverse_kl")  # reachable: beta ~ 1e-22
    np.testing.assert_allclose(met.mean_divergence(X), 50.0, rtol=1e-6)
    with pytest.warns(BudgetWarning, match="beyond numerical reach") as rec:
        far = policy.at_budget(5000.0, X, divergence="reverse_kl")
    achieved = far.mean_divergence(X)
    assert far.beta > 0 and np.isfinite(achieved) and achieved < 5000.0
    assert f"{achieved:.4g}" in str(rec[0].message)


@pytest.fixture(scope="module")
def small_problem():
    return make_preference_data(600, n_features=2, n_actions=3, shift=1.0, random_state=5)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(learner=st.sampled_from([DPO, OSPO, PSPO, RSPO]),
       exponent=st.sampled_from([-200, -100, 0, 100, 200, 300]))
def test_learners_ignore_the_scale_of_the_weights(small_problem, learner, exponent):
    t = small_problem.table
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(t))

    def fit(weights):
        table = PreferenceTable(contexts=t.contexts, action0=t.action0, action1=t.action1,
                                label=t.label, weights=weights)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return learner().fit(table).coef_

    np.testing.assert_allclose(fit(w * 10.0**exponent), fit(w), atol=1e-8)


# -- invariances ----------------------------------------------------------------------------
@SETTINGS
@given(S=scores, shift=st.floats(-1e3, 1e3), beta=st.sampled_from([1e-2, 0.3, 1.0, 10.0]),
       name=st.sampled_from(NAMES + ["alpha"]), seed=st.integers(0, 2**16))
def test_tilt_ignores_a_per_context_shift_and_follows_a_permutation(S, shift, beta, name,
                                                                   seed):
    """Scores matter only up to a per-context constant, and actions have no order."""
    S = np.clip(S, -50, 50)  # moderate scores: the comparison is at rtol 1e-9
    q = _reference(S.shape, seed)
    div = get_divergence(name)
    P = div.optimal_policy(S, q, beta)
    c = shift * np.arange(1, S.shape[0] + 1)[:, None]
    np.testing.assert_allclose(div.optimal_policy(S + c, q, beta), P, atol=1e-9)
    perm = np.random.default_rng(seed).permutation(S.shape[1])
    np.testing.assert_allclose(div.optimal_policy(S[:, perm], q[:, perm], beta), P[:, perm],
                               atol=1e-9)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(learner=st.sampled_from([DPO, lambda: RSPO(n_pairs="all")]), seed=st.integers(0, 2**16))
def test_swapping_the_two_actions_of_any_pairs_changes_nothing(small_problem, learner, seed):
    """(x, a0, a1, z) and (x, a1, a0, 1 - z) are the same comparison: DPO's likelihood and
    RSPO's swap-augmented loss over all pairs of pairs are exactly symmetric, so the fit
    does not move.  (RSPO's default draws a sample of pairs of pairs by position, which a
    swap reshuffles: equal in distribution only.)"""
    t = small_problem.table.subset(np.arange(200))
    flip = np.random.default_rng(seed).random(len(t)) < 0.5
    swapped = PreferenceTable(contexts=t.contexts, action0=np.where(flip, t.action1, t.action0),
                              action1=np.where(flip, t.action0, t.action1),
                              label=np.where(flip, 1 - t.label, t.label))
    np.testing.assert_allclose(learner().fit(swapped).coef_, learner().fit(t).coef_, atol=1e-6)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16))
def test_relabelling_the_actions_permutes_the_coefficient_blocks(small_problem, seed):
    """Names are names: numbering the actions differently permutes DPO's per-action blocks
    (one-hot features, d + 1 coefficients per action) and nothing else."""
    t = small_problem.table
    k, d = t.n_actions, t.contexts.shape[1]
    perm = np.random.default_rng(seed).permutation(k)  # old index -> new index
    relabelled = PreferenceTable(contexts=t.contexts, action0=perm[t.action0],
                                 action1=perm[t.action1], label=t.label)
    a = DPO().fit(t).coef_.reshape(k, d + 1)
    b = DPO().fit(relabelled).coef_.reshape(k, d + 1)
    np.testing.assert_allclose(b[perm], a, atol=1e-6)
