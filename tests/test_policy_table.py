"""PreferenceTable validation and the feature maps / difference design."""

import numpy as np
import pandas as pd
import pytest

from semiparam.exceptions import DataWarning
from semiparam.policy import (
    CallableFeatures,
    KroneckerFeatures,
    OneHotFeatures,
    PreferenceTable,
    difference_design,
    identified_basis,
)
from semiparam.policy.features import resolve_features


def _arrays(n=40, k=4, d=3, seed=0):
    rng = np.random.default_rng(seed)
    a0 = rng.integers(0, k, n)
    a1 = (a0 + rng.integers(1, k, n)) % k  # never equal
    return dict(contexts=rng.normal(size=(n, d)), action0=a0, action1=a1,
                label=rng.integers(0, 2, n), n_actions=k)


def test_basic_table():
    t = PreferenceTable(**_arrays())
    assert len(t) == 40 and t.n_actions == 4 and t.contexts.shape == (40, 3)
    np.testing.assert_allclose(t.reference_logprobs(), np.full((40, 4), -np.log(4)))
    assert "n_pairs=40" in repr(t)


def test_ties_dropped_with_count():
    kw = _arrays()
    kw["action1"] = kw["action1"].copy()
    kw["action1"][:7] = kw["action0"][:7]
    with pytest.warns(DataWarning, match="Dropped 7 of 40 pairs"):
        t = PreferenceTable(**kw)
    assert len(t) == 33 and t.n_dropped == 7
    kw["action1"] = kw["action0"]
    with pytest.raises(ValueError, match="Every pair has action0 == action1"):
        PreferenceTable(**kw)


@pytest.mark.parametrize("change,match", [
    (dict(label=np.r_[np.zeros(39), 2]), "label must be binary"),
    (dict(label=np.r_[np.zeros(39), np.nan]), "NaN"),
    (dict(action0=np.r_[np.zeros(39, int), 4]), "out of range"),
    (dict(action1=np.r_[np.ones(39, int), -1]), "out of range"),
    (dict(action0=np.full(40, 0.5)), "integer"),
    (dict(contexts=np.full((40, 3), np.inf)), "NaN or infinity"),
    (dict(label=np.zeros(39)), "Mismatched lengths"),
    (dict(n_actions=1), "at least two actions"),
    (dict(weights=-np.ones(40)), "nonnegative"),
    (dict(ref_logprobs=np.log(np.full(4, 0.3))), "not a distribution"),
    (dict(ref_logprobs=np.zeros((40, 3))), "shape"),
    (dict(ref_logprobs=np.array([np.log(0.5), np.log(0.5), -np.inf, -np.inf])),
     "reference probability zero"),
])
def test_bad_inputs(change, match):
    kw = {**_arrays(), **change}
    with pytest.raises(ValueError, match=match):
        PreferenceTable(**kw)


def test_from_pandas_and_reference():
    kw = _arrays()
    df = pd.DataFrame(kw["contexts"], columns=["age", "income", "score"])
    df["a0"], df["a1"], df["z"] = kw["action0"], kw["action1"], kw["label"].astype(bool)
    ref = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    for j in range(4):
        df[f"r{j}"] = ref[j]
    t = PreferenceTable.from_pandas(df, context_cols=["age", "income", "score"], action0="a0",
                                    action1="a1", label="z", ref_cols=[f"r{j}" for j in range(4)])
    assert t.context_names == ("age", "income", "score") and t.ref_logprobs.shape == (40, 4)
    np.testing.assert_allclose(t.reference_logprobs()[0], ref)
    with pytest.raises(ValueError, match="not in the DataFrame"):
        PreferenceTable.from_pandas(df, context_cols=["nope"], action0="a0", action1="a1",
                                    label="z")


def test_randomize_order_and_subset():
    kw = _arrays()
    kw["label"] = np.ones(40, int)  # (chosen, rejected) data
    t = PreferenceTable(**kw).randomize_order(0)
    assert 0 < t.label.sum() < 40
    flipped = t.label == 0
    np.testing.assert_array_equal(t.action0[flipped], kw["action1"][flipped])
    assert len(t.subset(slice(0, 10))) == 10


def test_difference_design_and_scores_agree():
    t = PreferenceTable(**_arrays())
    fm = resolve_features(None, t)
    assert isinstance(fm, OneHotFeatures) and fm.n_features(3) == 16
    D = difference_design(t)
    theta = np.random.default_rng(1).normal(size=16)
    S = fm.scores(t.contexts, theta)
    rows = np.arange(len(t))
    np.testing.assert_allclose(D @ theta, S[rows, t.action1] - S[rows, t.action0])
    cf = CallableFeatures(fm.transform, 4)
    np.testing.assert_allclose(difference_design(t, cf), D)
    np.testing.assert_allclose(cf.scores(t.contexts, theta), S)
    assert fm.feature_names(t.context_names)[:2] == ["a0:1", "a0:x0"]


def test_identified_basis_removes_common_shift():
    t = PreferenceTable(**_arrays(n=400))
    D = difference_design(t)
    B = identified_basis(D)
    assert B.shape == (16, 12)  # (k - 1) (d + 1)
    np.testing.assert_allclose(B.T @ B, np.eye(12), atol=1e-10)
    common = np.tile(np.random.default_rng(2).normal(size=4), 4)  # same block for each action
    np.testing.assert_allclose(B.T @ common, 0.0, atol=1e-10)
    assert identified_basis(np.zeros((5, 3))).shape == (3, 0)


@pytest.mark.parametrize("one_hot", [True, False])
def test_difference_gram_and_product_by_action_pair(one_hot):
    """The Kronecker maps form D'WD and D B by action pair without D: the same numbers."""
    rng = np.random.default_rng(4)
    n = 3000
    X, w = rng.normal(size=(n, 4)), rng.random(n)
    a0, a1 = rng.integers(0, 5, n), rng.integers(0, 5, n)
    fm = OneHotFeatures(5) if one_hot else KroneckerFeatures(rng.normal(size=(5, 3)),
                                                             intercept=False)
    D = fm.difference(X, a0, a1)
    Dw = D * np.sqrt(w)[:, None]
    np.testing.assert_allclose(fm.difference_gram(X, a0, a1, w), Dw.T @ Dw / w.sum(),
                               atol=1e-13)
    B = rng.normal(size=(D.shape[1], 7))
    np.testing.assert_allclose(fm.difference_times(X, a0, a1, B), D @ B, atol=1e-12)
    np.testing.assert_allclose(identified_basis(None, gram=fm.difference_gram(X, a0, a1, w)),
                               identified_basis(D, w), atol=1e-10)


def test_kronecker_action_features_and_context_map():
    V = np.random.default_rng(3).normal(size=(4, 2))
    kw = _arrays()
    t = PreferenceTable(**kw, action_features=V)
    fm = resolve_features(None, t)
    assert isinstance(fm, KroneckerFeatures) and fm.n_features(3) == 8
    D = difference_design(t)
    Z = np.column_stack([np.ones(40), t.contexts])
    dV = V[t.action1] - V[t.action0]
    np.testing.assert_allclose(D, np.einsum("ni,nj->nij", dV, Z).reshape(40, -1))
    sq = OneHotFeatures(4, intercept=False, context_map=lambda X: X**2)
    assert sq.n_features(3) == 12
    np.testing.assert_allclose(sq.scores(t.contexts, np.ones(12)),
                               np.repeat((t.contexts**2).sum(1, keepdims=True), 4, axis=1))
    with pytest.raises(ValueError, match="n_actions = 3 but the table has 4"):
        resolve_features(OneHotFeatures(3), t)
    with pytest.raises(ValueError, match="no context features and no intercept"):
        OneHotFeatures(4, intercept=False).transform(np.zeros((2, 0)), np.array([0, 1]))
