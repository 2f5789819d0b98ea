"""semiparam.torch: cross-validated ensembles, explicit held-out rows, tied pairs in the
link memory, member re-initialisation and torch's thread count across link refreshes."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import semiparam.torch.links as links_module  # noqa: E402
from semiparam.policy import PreferenceTable  # noqa: E402
from semiparam.torch import (  # noqa: E402
    KernelLinkState,
    LogProbEnsemble,
    fit,
    module_policy,
    reset_parameters,
    torch_threads_kept,
)


def _linear_table(n=1200, d=3, k=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Theta = rng.standard_normal((k, d + 1))
    a0 = rng.integers(0, k, n)
    a1 = (a0 + rng.integers(1, k, n)) % k
    Z1 = np.column_stack([np.ones(n), X])
    u = np.sum((Theta[a1] - Theta[a0]) * Z1, axis=1)
    z = (rng.uniform(size=n) < 1 / (1 + np.exp(-u))).astype(int)
    return PreferenceTable(contexts=X, action0=a0, action1=a1, label=z, n_actions=k), Theta


def _centred(lin):
    B = torch.cat([lin.bias.detach()[:, None], lin.weight.detach()], dim=1).double().numpy()
    return B - B.mean(axis=0)


def test_folds_ensemble_is_the_geometric_mean_of_its_members_and_recovers_the_direction():
    table, Theta = _linear_table()
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 4).double()
    res = fit(lin, table, "dpo", folds=3, patience=3, epochs=30, lr=1e-2,
              dtype=torch.float64, seed=4)
    assert isinstance(res.module_, LogProbEnsemble) and len(res.members_) == 3
    # every pair is held out by exactly one member
    held = np.concatenate([m.val_rows_ for m in res.members_])
    np.testing.assert_array_equal(np.sort(held), np.arange(len(table)))
    for m in res.members_:
        assert len(np.intersect1d(m.val_rows_, m.train_rows_)) == 0
        assert m.best_epoch_ < m.n_epochs_ or m.n_epochs_ == 30
    X = table.contexts[:200]
    P = res.policy_.predict_proba(X)
    logs = np.mean([np.log(m.policy_.predict_proba(X)) for m in res.members_], axis=0)
    G = np.exp(logs - logs.max(axis=1, keepdims=True))
    np.testing.assert_allclose(P, G / G.sum(axis=1, keepdims=True), atol=1e-12)
    # linear members: the ensemble is linear with the members' mean (centred) coefficients
    coef = np.mean([_centred(m.module_) for m in res.members_], axis=0).ravel()
    truth = (Theta - Theta.mean(axis=0)).ravel()
    assert coef @ truth / np.linalg.norm(coef) / np.linalg.norm(truth) > 0.97


def test_folds_deterministic_and_member_init():
    table, _ = _linear_table(n=400)

    def run(member_init):
        torch.manual_seed(1)
        net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
        first = [p.detach().clone() for p in net.parameters()]
        res = fit(net, table, "ospo", folds=2, patience=2, epochs=6, seed=3,
                  warm_start_epochs=1, member_init=member_init)
        return res, first

    a, first = run("reset")
    b, _ = run("reset")
    X = table.contexts[:50]
    np.testing.assert_array_equal(a.policy_.predict_proba(X), b.policy_.predict_proba(X))
    assert [h["val_loss"] for h in a.history_] == [h["val_loss"] for h in b.history_]
    assert {h["member"] for h in a.history_} == {0, 1}
    c, _ = run("copy")
    assert not np.array_equal(a.policy_.predict_proba(X), c.policy_.predict_proba(X))
    # the global generator is not consumed by the fit (members re-drawn in a forked RNG)
    lin = torch.nn.Linear(3, 4)
    torch.manual_seed(7)
    fit(lin, table, "dpo", folds=2, patience=1, epochs=2)
    after = torch.rand(3)
    torch.manual_seed(7)
    np.testing.assert_array_equal(after, torch.rand(3))
    del first


def test_reset_parameters_is_seeded_and_keeps_the_global_generator():
    net = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    torch.manual_seed(0)
    reset_parameters(net, seed=(3, 1))
    w1 = [p.detach().clone() for p in net.parameters()]
    x = torch.rand(2)
    torch.manual_seed(0)
    reset_parameters(net, seed=(3, 1))
    for p, q in zip(net.parameters(), w1):
        torch.testing.assert_close(p.detach(), q)
    torch.testing.assert_close(torch.rand(2), x)
    reset_parameters(net, seed=(3, 2))
    assert not torch.equal(next(net.parameters()).detach(), w1[0])


def test_holdout_rows():
    table, _ = _linear_table(n=300)
    rows = np.arange(0, 300, 4)
    res = fit(torch.nn.Linear(3, 4), table, "dpo", holdout=rows, patience=2, epochs=4)
    np.testing.assert_array_equal(res.val_rows_, rows)
    assert len(res.train_rows_) == 300 - len(rows)
    for bad, match in ((np.array([0, 0, 1]), "distinct"), (np.array([0, 300]), "lie in"),
                       (np.array([0.5, 1.0]), "integer"), (np.array([0]), "at least 2")):
        with pytest.raises(ValueError, match=match):
            fit(torch.nn.Linear(3, 4), table, "dpo", holdout=bad, epochs=1)
    with pytest.raises(ValueError, match="either holdout or validation_fraction"):
        fit(torch.nn.Linear(3, 4), table, "dpo", holdout=rows, validation_fraction=0.2)


def test_folds_bad_arguments():
    table, _ = _linear_table(n=100)
    lin = torch.nn.Linear(3, 4)
    with pytest.raises(ValueError, match="give patience"):
        fit(lin, table, "dpo", folds=3)
    with pytest.raises(ValueError, match="do not apply"):
        fit(lin, table, "dpo", folds=3, patience=2, refit=True)
    with pytest.raises(ValueError, match="do not apply"):
        fit(lin, table, "dpo", folds=3, patience=2, validation_fraction=0.2)
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        fit(lin, table, "dpo", folds=1, patience=2)
    with pytest.raises(ValueError, match="member_init"):
        fit(lin, table, "dpo", folds=2, patience=2, member_init="zeros")
    with pytest.raises(ValueError, match="signs"):
        LogProbEnsemble([lin], signs=[0.5])


def test_tie_labels_sit_at_margin_zero_in_the_link_memory():
    table, _ = _linear_table(n=400)
    ties = np.ones(100)  # a heavy point mass at t = 0 with label 1
    link = KernelLinkState(bandwidth=0.3)
    res = fit(torch.nn.Linear(3, 4).double(), table, "ospo", epochs=3, link=link,
              tie_labels=ties, dtype=torch.float64)
    d = res.link_.diagnostics()
    assert d["n_pairs"] == 400 + 100
    t = res.margins(table)
    base = KernelLinkState(bandwidth=0.3).refresh(t, table.label)
    g_ties = float(res.link_(torch.zeros(1, dtype=torch.float64)))
    g_base = float(base(torch.zeros(1, dtype=torch.float64)))
    # the link at 0 mixes the 100 ones in: N/M of the combined sums
    M0, N0 = (float(v) for v in base.sums(torch.zeros(1, dtype=torch.float64)))
    k0 = 100 / np.sqrt(2 * np.pi)
    assert g_ties == pytest.approx((N0 + k0) / (M0 + k0), abs=1e-6)
    assert g_ties > g_base
    with pytest.raises(ValueError, match="tie_labels"):
        fit(torch.nn.Linear(3, 4), table, "dpo", tie_labels=ties, epochs=1)
    with pytest.raises(ValueError, match="0/1"):
        fit(torch.nn.Linear(3, 4), table, "ospo", tie_labels=[0.5], epochs=1)


def test_link_refresh_keeps_torch_thread_count(monkeypatch):
    """numba's OpenMP layer can reset torch's thread count inside a refresh (simulated)."""
    table, _ = _linear_table(n=300)
    real = links_module.kernel_sums

    def meddling(*args, **kwargs):
        torch.set_num_threads(3 if torch.get_num_threads() != 3 else 2)
        return real(*args, **kwargs)

    monkeypatch.setattr(links_module, "kernel_sums", meddling)
    before = torch.get_num_threads()
    try:
        KernelLinkState().refresh(np.linspace(-1, 1, 50), np.arange(50) % 2)
        assert torch.get_num_threads() == before
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(torch.nn.Linear(3, 4), table, "ospo", epochs=2)
        assert torch.get_num_threads() == before
        with torch_threads_kept():
            torch.set_num_threads(before + 1)
        assert torch.get_num_threads() == before
    finally:
        torch.set_num_threads(before)


def test_log_prob_ensemble_flips_a_decreasing_member():
    lin = torch.nn.Linear(2, 3)
    ref = np.log(np.array([0.5, 0.3, 0.2]))
    ens = LogProbEnsemble([lin, lin], signs=[1.0, -1.0], reference=ref)
    X = np.random.default_rng(0).standard_normal((5, 2))
    # +s and -s cancel: the ensemble's implicit reward is constant per context
    pol = module_policy(ens, 3, reference=ref)
    np.testing.assert_allclose(pol.predict_proba(X), np.tile(np.exp(ref), (5, 1)), atol=1e-6)


def _mlp_table(n=300, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    a0, a1 = rng.integers(0, 5, n), rng.integers(0, 5, n)
    keep = a0 != a1
    u = np.tanh(X[:, 0]) * (a1 - a0) + X[:, 1] * ((a1 % 2) - (a0 % 2))
    z = (rng.uniform(size=n) < 1 / (1 + np.exp(-2 * u))).astype(int)
    return PreferenceTable(contexts=X[keep], action0=a0[keep], action1=a1[keep],
                           label=z[keep], n_actions=5)


def _mlp(seed=0, dropout=False):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(4, 8), torch.nn.ReLU()]
    layers += [torch.nn.Dropout(0.1)] if dropout else []
    return torch.nn.Sequential(*layers, torch.nn.Linear(8, 5))


@pytest.mark.parametrize("learner, extra", [
    ("dpo", {}), ("rspo", {}), ("pspo", dict(warm_start_epochs="auto")),
    ("ospo", dict(warm_start_epochs=2)), ("dpo", dict(optimizer="adamw", batch_size=50))])
def test_lockstep_members_follow_their_lone_runs_bit_for_bit(learner, extra):
    """Members trained together (one backward pass and optimiser step per step) end where
    each ends trained alone: same parameters, epochs, histories and policy."""
    table = _mlp_table()
    kw = dict(folds=3, patience=3, epochs=40, lr=3e-2, weight_decay=1e-3, seed=5,
              dtype=torch.float64, **extra)
    alone = fit(_mlp(), table, learner, lockstep=False, **kw)
    together = fit(_mlp(), table, learner, lockstep=True, **kw)
    # the members stop at different epochs, so some steps run with fewer members
    assert len({m.n_epochs_ for m in alone.members_}) > 1
    for a, b in zip(alone.members_, together.members_):
        assert (a.n_epochs_, a.best_epoch_, a.n_steps_) == (b.n_epochs_, b.best_epoch_,
                                                          b.n_steps_)
        for p, q in zip(a.module_.parameters(), b.module_.parameters()):
            assert torch.equal(p, q)
        assert [h["val_loss"] for h in a.history_] == [h["val_loss"] for h in b.history_]
    X = table.contexts[:50]
    np.testing.assert_array_equal(alone.policy_.predict_proba(X),
                                  together.policy_.predict_proba(X))


def test_lockstep_with_dropout_and_fallbacks():
    table = _mlp_table()
    kw = dict(folds=3, patience=2, epochs=8, lr=1e-2, seed=0)
    res = fit(_mlp(dropout=True), table, "dpo", **kw)  # masks drawn in another order
    assert all(np.isfinite(m.history_[-1]["val_loss"]) for m in res.members_)
    P = res.policy_.predict_proba(table.contexts[:20])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # optimisers that are not elementwise train the members one after another
    opt = lambda params: torch.optim.Adam(params, lr=1e-2)  # noqa: E731
    a = fit(_mlp(), table, "dpo", optimizer=opt, **kw)
    b = fit(_mlp(), table, "dpo", lr=1e-2, folds=3, patience=2, epochs=8, seed=0)
    for m, n in zip(a.members_, b.members_):
        for p, q in zip(m.module_.parameters(), n.module_.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="lockstep must be True or False"):
        fit(_mlp(), table, "dpo", lockstep="yes", **kw)
