"""f-divergences and the f-optimal (tilted) policy."""

import numpy as np
import pytest
from scipy.optimize import minimize

from semiparam.policy import DIVERGENCES, get_divergence
from semiparam.policy.divergences import AlphaDivergence, greedy_policy

CASES = [
    ("kl", {}),
    ("reverse_kl", {}),
    ("chi2", {}),
    ("hellinger", {}),
    ("alpha", {"alpha": 0.5}),
    ("alpha", {"alpha": 3.0}),
    ("alpha", {"alpha": -1.0}),
]


def _direct(div, s, q, beta):
    """max <p, s> - beta D_f(p || q) on the simplex by SLSQP (analytic gradient)."""
    k = s.shape[0]
    lb = 1e-12 if div.range_low == -np.inf else 0.0  # f'(0+) = -inf: interior optimum

    def obj(p):
        return -(p @ s - beta * div.divergence(np.maximum(p, lb), q))

    def grad(p):
        return -(s - beta * div.fprime(np.maximum(p, lb) / q))

    best = None
    for x0 in (q, np.full(k, 1.0 / k)):
        res = minimize(obj, x0, jac=grad, method="SLSQP", bounds=[(lb, 1.0)] * k,
                       constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1.0,
                                     "jac": lambda p: np.ones(k)}],
                       options={"ftol": 1e-16, "maxiter": 2000})
        if best is None or res.fun < best.fun:
            best = res
    return best.x, obj


@pytest.mark.parametrize("name,params", CASES)
@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_optimal_policy_matches_direct_solution(name, params, beta):
    rng = np.random.default_rng(hash((name, beta, tuple(params.items()))) % 2**32)
    div = get_divergence(name, **params)
    for _ in range(2):
        k = 5
        s = 2.0 * rng.normal(size=k)
        q = rng.dirichlet(np.ones(k))
        pi = div.optimal_policy(s[None], q[None], beta)[0]
        direct, obj = _direct(div, s, q, beta)
        assert pi.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(pi >= 0)
        assert obj(pi) <= obj(direct) + 1e-10  # at least as good as scipy's optimum
        np.testing.assert_allclose(pi, direct, atol=1e-6)


def test_kl_is_softmax_and_generic_solver_agrees():
    rng = np.random.default_rng(0)
    s, q = rng.normal(size=(50, 6)), rng.dirichlet(np.ones(6), size=50)
    kl = get_divergence("kl")
    pi = kl.optimal_policy(s, q, 0.7)
    expected = q * np.exp(s / 0.7)
    np.testing.assert_allclose(pi, expected / expected.sum(1, keepdims=True), rtol=1e-12)
    generic = super(type(kl), kl).optimal_policy(s, q, 0.7)  # vectorised Newton path
    np.testing.assert_allclose(generic, pi, atol=1e-12)


def test_chi2_truncates_support():
    chi2 = get_divergence("chi2")
    s = np.array([[3.0, 0.0, -3.0]])
    pi = chi2.optimal_policy(s, np.full((1, 3), 1 / 3), 0.5)
    assert pi[0, 2] == 0.0 and pi[0, 0] > pi[0, 1] > 0


def test_alpha_family_special_cases():
    rng = np.random.default_rng(1)
    p, q = rng.dirichlet(np.ones(5), size=4), rng.dirichlet(np.ones(5), size=4)
    np.testing.assert_allclose(AlphaDivergence(2.0).divergence(p, q),
                               0.5 * get_divergence("chi2").divergence(p, q), rtol=1e-12)
    np.testing.assert_allclose(AlphaDivergence(0.5).divergence(p, q),
                               2.0 * get_divergence("hellinger").divergence(p, q), rtol=1e-12)
    kl = get_divergence("kl").divergence(p, q)
    np.testing.assert_allclose(AlphaDivergence(1.0 + 1e-6).divergence(p, q), kl, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_fprime_inverse_roundtrip(name):
    div = get_divergence(name)
    u = np.array([0.05, 0.5, 1.0, 2.0, 7.0])
    np.testing.assert_allclose(div.fprime_inv(div.fprime(u)), u, rtol=1e-10)
    assert div.divergence(np.array([0.2, 0.8]), np.array([0.2, 0.8])) == pytest.approx(0.0, abs=1e-14)


def test_limits_and_zero_mass():
    q = np.array([[0.5, 0.3, 0.2, 0.0]])
    s = np.array([[1.0, 2.0, 2.0, 9.0]])  # action 3 has no reference mass
    for name in ("kl", "chi2", "hellinger"):
        div = get_divergence(name)
        pi = div.optimal_policy(s, q, 0.1)
        assert pi[0, 3] == 0.0
        np.testing.assert_allclose(div.optimal_policy(s, q, 0.0), greedy_policy(s, q))
    np.testing.assert_allclose(greedy_policy(s, q), [[0.0, 0.6, 0.4, 0.0]])
    assert get_divergence("reverse_kl").divergence([1.0, 0.0], [0.5, 0.5]) == np.inf


def test_registry_errors():
    with pytest.raises(ValueError, match="Unknown divergence"):
        get_divergence("tv")
    with pytest.raises(ValueError, match="other than 0 and 1"):
        get_divergence("alpha", alpha=1.0)
    with pytest.raises(ValueError, match="instance"):
        get_divergence(get_divergence("kl"), alpha=2)
