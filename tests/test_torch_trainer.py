"""semiparam.torch.fit: agreement with semiparam.policy, determinism, policy interface."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from semiparam.policy import DPO, PreferenceTable, SoftmaxPolicy, reward_at_budget  # noqa: E402
from semiparam.torch import (  # noqa: E402
    KernelLinkState,
    fit,
    module_policy,
    pair_margins,
)


def _linear_table(n=3000, d=3, k=4, seed=0, scale=1.0, link=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Theta = rng.standard_normal((k, d + 1)) * scale
    a0 = rng.integers(0, k, n)
    a1 = (a0 + rng.integers(1, k, n)) % k
    Z1 = np.column_stack([np.ones(n), X])
    u = np.sum((Theta[a1] - Theta[a0]) * Z1, axis=1)
    p = 1 / (1 + np.exp(-u)) if link is None else link(u)
    z = (rng.uniform(size=n) < p).astype(int)
    return PreferenceTable(contexts=X, action0=a0, action1=a1, label=z, n_actions=k), Theta


def _centred_coef(lin):
    B = torch.cat([lin.bias.detach()[:, None], lin.weight.detach()], dim=1).double().numpy()
    return (B - B.mean(axis=0)).ravel()


def test_linear_module_dpo_matches_policy_dpo():
    table, _ = _linear_table()
    ref = DPO().fit(table)
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 4).double()
    res = fit(lin, table, "dpo", optimizer="lbfgs", lr=1.0, batch_size=None, epochs=25,
              dtype=torch.float64)
    coef = _centred_coef(res.module_)
    np.testing.assert_allclose(np.linalg.norm(coef), ref.scale_, rtol=1e-6)
    np.testing.assert_allclose(coef / np.linalg.norm(coef), ref.coef_, atol=1e-6)
    # and the two policies agree at the same budget
    X = table.contexts[:500]
    p_ours = res.policy_.at_budget(0.3, X).predict_proba(X)
    p_ref = ref.policy_.at_budget(0.3, X).predict_proba(X)
    np.testing.assert_allclose(p_ours, p_ref, atol=1e-6)


def test_policy_is_softmax_policy_and_tempering():
    table, _ = _linear_table(n=400)
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    res = fit(net, table, "dpo", epochs=3)
    pol = res.policy_
    assert isinstance(pol, SoftmaxPolicy)
    X = table.contexts[:50]
    with torch.no_grad():
        logp = torch.log_softmax(net(torch.tensor(X, dtype=torch.float32)), -1).double().numpy()
    np.testing.assert_allclose(pol.predict_proba(X), np.exp(logp), atol=1e-6)
    # KL tilt at beta: pi_ref^(1 - 1/beta) pi^(1/beta), normalised (uniform reference)
    beta = 3.0
    q = np.exp(logp / beta)
    np.testing.assert_allclose(pol.tilt(beta).predict_proba(X), q / q.sum(1, keepdims=True),
                               atol=1e-6)
    ev = reward_at_budget(pol, X, np.tile(np.arange(4.0), (50, 1)), 0.1)
    assert abs(ev.divergence - 0.1) < 1e-8
    np.testing.assert_allclose(res.margins(table)[:50],
                               logp[np.arange(50), table.action1[:50]]
                               - logp[np.arange(50), table.action0[:50]], atol=1e-5)


@pytest.mark.parametrize("learner", ["dpo", "rspo", "pspo", "ospo"])
def test_deterministic_under_seed(learner):
    table, _ = _linear_table(n=300)

    def run():
        torch.manual_seed(3)
        net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
        return fit(net, table, learner, epochs=4, batch_size=64, seed=7,
                   validation_fraction=0.2)

    a, b = run(), run()
    for pa, pb in zip(a.module_.parameters(), b.module_.parameters()):
        assert torch.equal(pa, pb)
    assert [h["val_loss"] for h in a.history_] == [h["val_loss"] for h in b.history_]
    np.testing.assert_array_equal(a.val_rows_, b.val_rows_)
    assert len(np.intersect1d(a.val_rows_, a.train_rows_)) == 0


@pytest.mark.parametrize("learner", ["pspo", "ospo"])
def test_link_learners_recover_direction_under_a_non_logistic_link(learner):
    """Linear policy, bimodal link: the semiparametric fit points the right way."""
    def bimodal(u):
        return 0.5 / (1 + np.exp(-(u - 2) * 4)) + 0.5 / (1 + np.exp(-(u + 2) * 4))

    table, Theta = _linear_table(n=2000, seed=5, scale=1.5, link=bimodal)
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 4).double()
    res = fit(lin, table, learner, epochs=40, batch_size=256, lr=1e-2, dtype=torch.float64)
    truth = (Theta - Theta.mean(axis=0)).ravel()
    coef = _centred_coef(res.module_)
    cos = coef @ truth / np.linalg.norm(coef) / np.linalg.norm(truth)
    assert cos > 0.97, cos
    assert res.sign_ == 1.0
    d = res.link_.diagnostics()
    assert d["n_refresh"] == 39 and d["bandwidth"] > 0


def test_early_stopping_and_history():
    table, _ = _linear_table(n=600)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))
    res = fit(net, table, "dpo", epochs=200, lr=3e-2, validation_fraction=0.3, patience=3)
    assert res.n_epochs_ < 200
    assert res.best_epoch_ == res.n_epochs_ - 3
    vals = [h["val_loss"] for h in res.history_]
    assert min(vals) == vals[res.best_epoch_ - 1]
    assert len(res.val_rows_) == 180


def test_refresh_every_steps():
    table, _ = _linear_table(n=256)
    lin = torch.nn.Linear(3, 4)
    link = KernelLinkState()
    fit(lin, table, "ospo", epochs=3, batch_size=64, warm_start_epochs=1, link=link,
        refresh_every=2)
    # one refresh before the first link epoch, then one every 2 of its 8 steps
    assert link.diagnostics()["n_refresh"] == 1 + 4


def test_pair_margins_reference():
    logp = torch.log_softmax(torch.randn(5, 3, dtype=torch.float64), -1)
    a0 = torch.tensor([0, 1, 2, 0, 1])
    a1 = torch.tensor([1, 2, 0, 2, 1])
    ref = torch.log(torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64))
    t = pair_margins(logp, a0, a1, ref)
    i = torch.arange(5)
    expected = (logp[i, a1] - ref[a1]) - (logp[i, a0] - ref[a0])
    assert torch.allclose(t, expected)
    per_row = ref.expand(5, 3)
    assert torch.allclose(pair_margins(logp, a0, a1, per_row), expected)


def test_module_policy_with_reference_vector():
    torch.manual_seed(0)
    lin = torch.nn.Linear(2, 3).double()
    ref = np.log([0.2, 0.3, 0.5])
    pol = module_policy(lin, 3, reference=ref)
    X = np.random.default_rng(0).standard_normal((7, 2))
    with torch.no_grad():
        P = torch.softmax(lin(torch.tensor(X)), -1).numpy()
    np.testing.assert_allclose(pol.predict_proba(X), P, atol=1e-12)


def test_bad_arguments():
    table, _ = _linear_table(n=100)
    lin = torch.nn.Linear(3, 4)
    with pytest.raises(ValueError, match="learner"):
        fit(lin, table, "kto")
    with pytest.raises(ValueError, match="link"):
        fit(lin, table, "dpo", link=KernelLinkState())
    with pytest.raises(ValueError, match="PreferenceTable"):
        fit(lin, table.contexts, "dpo")
    with pytest.raises(ValueError, match="logits"):
        fit(torch.nn.Linear(3, 5), table, "dpo", epochs=1)
    with pytest.raises(ValueError, match="validation_fraction"):
        fit(lin, table, "dpo", validation_fraction=1.5)
    with pytest.raises(ValueError, match="epochs"):
        fit(lin, table, "dpo", epochs=0)
    with pytest.raises(ValueError, match="optimizer"):
        fit(lin, table, "dpo", optimizer="rmsprop", epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_pair = PreferenceTable(contexts=table.contexts, action0=table.action0,
                                   action1=table.action1, label=table.label,
                                   ref_logprobs=np.full((100, 4), -np.log(4)))
    res = fit(torch.nn.Linear(3, 4), per_pair, "dpo", epochs=1)
    with pytest.raises(ValueError, match="per pair"):
        res.policy_.predict_proba(table.contexts[:3])


def test_refit_retrains_on_all_pairs_for_the_kept_epochs():
    table, _ = _linear_table(n=400)

    def net():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(),
                                   torch.nn.Linear(16, 4))

    first = fit(net(), table, "ospo", epochs=30, lr=2e-2, validation_fraction=0.25,
                patience=3, warm_start_epochs="auto")
    res = fit(net(), table, "ospo", epochs=30, lr=2e-2, validation_fraction=0.25,
              patience=3, warm_start_epochs="auto", refit=True)
    assert len(res.val_rows_) == 0 and len(res.train_rows_) == 400
    second = res.history_[len(first.history_):]
    assert [h["epoch"] for h in res.history_[:len(first.history_)]] == \
        [h["epoch"] for h in first.history_]
    warm_kept = max(h["epoch"] for h in first.history_ if h["phase"] == "warm"
                    and h["val_loss"] == min(g["val_loss"] for g in first.history_
                                             if g["phase"] == "warm"))
    assert sum(h["phase"] == "warm" for h in second) == warm_kept
    assert len(second) == first.best_epoch_ - sum(h["phase"] == "warm" for h in first.history_) \
        + warm_kept
