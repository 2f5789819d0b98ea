"""LMFeatures: pooled hidden states and log-probability summaries of a causal LM."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import _llm_helpers  # noqa: E402,F401  (offline Hub)
from sklearn.base import clone  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from semiparam.index import IsotonicIndexClassifier  # noqa: E402
from semiparam.torch import LMFeatures, sequence_logps  # noqa: E402
from semiparam.torch.lm import char_tokenizer, tiny_llama  # noqa: E402

TOK = char_tokenizer()
MODEL = tiny_llama(TOK, hidden_size=16, intermediate_size=32, seed=1)


def _texts(n, seed=0):
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghij"))
    return ["".join(rng.choice(letters, rng.integers(2, 12))) for _ in range(n)]


def test_hidden_mean_and_last_pooling_match_direct_computation():
    texts = ["abc", "hello world", "x"]
    mean = LMFeatures(model=MODEL, tokenizer=TOK, layer=1, batch_size=2).fit_transform(texts)
    last = LMFeatures(model=MODEL, tokenizer=TOK, layer=-1, pooling="last").fit_transform(texts)
    assert mean.shape == (3, 16) and last.shape == (3, 16)
    for i, text in enumerate(texts):
        ids = torch.tensor([TOK(text)["input_ids"]])
        with torch.no_grad():
            hs = MODEL(input_ids=ids, output_hidden_states=True).hidden_states
        np.testing.assert_allclose(mean[i], hs[1][0].mean(0).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(last[i], hs[-1][0, -1].numpy(), rtol=1e-5, atol=1e-6)


def test_logprob_of_pairs_equals_sequence_logps():
    pairs = [["abc:", "hello"], ["x", "yz"]]
    F = LMFeatures(model=MODEL, tokenizer=TOK, kind="logprob").fit_transform(pairs)
    assert F.shape == (2, 4)
    for i, (p, r) in enumerate(pairs):
        pi, ri = TOK(p)["input_ids"], TOK(r)["input_ids"]
        ids = torch.tensor([pi + ri])
        comp = torch.tensor([[0] * len(pi) + [1] * len(ri)])
        with torch.no_grad():
            lp = float(sequence_logps(MODEL, ids, torch.ones_like(ids), comp))
        np.testing.assert_allclose(F[i], [lp, lp / len(ri), F[i, 2], len(ri)], rtol=1e-5)
        assert F[i, 2] <= F[i, 1]  # the minimum token log-probability is below the mean


def test_batching_is_invariant():
    texts = _texts(9)
    a = LMFeatures(model=MODEL, tokenizer=TOK, batch_size=1).fit_transform(texts)
    b = LMFeatures(model=MODEL, tokenizer=TOK, batch_size=4).fit_transform(texts)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_disk_cache_hits_and_keys(tmp_path):
    texts = _texts(6)
    f1 = LMFeatures(model=MODEL, tokenizer=TOK, cache_dir=tmp_path)
    A = f1.fit_transform(texts)
    assert f1.n_computed_ == 6 and f1.n_cache_hits_ == 0
    f2 = LMFeatures(model=MODEL, tokenizer=TOK, cache_dir=tmp_path).fit(texts)
    B = f2.transform(texts[:3] + ["new text"])
    assert f2.n_cache_hits_ == 3 and f2.n_computed_ == 1
    np.testing.assert_array_equal(A[:3], B[:3])
    other = tiny_llama(TOK, hidden_size=16, intermediate_size=32, seed=2)
    f3 = LMFeatures(model=other, tokenizer=TOK, cache_dir=tmp_path).fit(texts)
    C = f3.transform(texts)
    assert f3.n_cache_hits_ == 0 and not np.allclose(A, C)  # another model, another key
    f4 = LMFeatures(model=MODEL, tokenizer=TOK, layer=0, cache_dir=tmp_path).fit(texts)
    f4.transform(texts)
    assert f4.n_cache_hits_ == 0


def test_pipeline_with_isotonic_index_classifier_on_texts():
    """Texts -> LM features -> PCA -> single-index model with a non-logistic link."""
    texts = np.array(_texts(600, seed=3))
    lm = LMFeatures(model=MODEL, tokenizer=TOK)
    Z = PCA(3, random_state=0).fit_transform(lm.fit_transform(texts))
    Z = Z / Z.std(axis=0)
    v = Z @ np.array([1.0, -0.5, 0.25])
    rng = np.random.default_rng(0)
    y = (rng.random(v.size) < np.where(v > 0, 0.95, 0.1)).astype(int)  # step-like link
    pipe = Pipeline([("lm", LMFeatures(model=MODEL, tokenizer=TOK)),
                     ("pca", PCA(3, random_state=0)), ("sim", IsotonicIndexClassifier())])
    pipe.fit(texts[:400], y[:400])
    p = pipe.predict_proba(texts[400:])[:, 1]
    assert p.shape == (200,)
    acc = np.mean((p > 0.5) == y[400:])
    assert acc > 0.75  # the Bayes rate is about 0.92; chance 0.5
    assert clone(pipe).get_params()["lm__model"] is not None


def test_action_embeddings_as_policy_features():
    """Per-action LM embeddings in KroneckerFeatures: DPO recovers a planted direction."""
    from semiparam.policy import DPO, KroneckerFeatures, PreferenceTable

    actions = ["red apple", "green pear", "blue sky", "dark night", "warm sun"]
    V = PCA(2, random_state=0).fit_transform(
        LMFeatures(model=MODEL, tokenizer=TOK).fit_transform(actions))
    fm = KroneckerFeatures(V)
    rng = np.random.default_rng(0)
    n, d = 4000, 1
    X = rng.normal(size=(n, d))
    a0, a1 = rng.integers(0, 5, n), rng.integers(0, 5, n)
    keep = a0 != a1
    X, a0, a1 = X[keep], a0[keep], a1[keep]
    theta = np.array([1.0, 0.5, -0.5, 1.0])
    theta = 3 * theta / np.linalg.norm(theta)
    t = fm.difference(X, a0, a1) @ theta
    z = (rng.random(t.size) < 1 / (1 + np.exp(-t))).astype(int)
    table = PreferenceTable(contexts=X, action0=a0, action1=a1, label=z)
    coef = DPO(features=fm).fit(table).coef_
    assert coef @ theta / np.linalg.norm(theta) > 0.95


def test_bad_input():
    with pytest.raises(ValueError, match="kind"):
        LMFeatures(model=MODEL, tokenizer=TOK, kind="embed").fit(["a"])
    with pytest.raises(ValueError, match="tokenizer"):
        LMFeatures(model=MODEL).fit(["a"])
    with pytest.raises(ValueError, match="strings"):
        LMFeatures(model=MODEL, tokenizer=TOK).fit([1, 2])
    with pytest.raises(ValueError, match="single string"):
        LMFeatures(model=MODEL, tokenizer=TOK).fit("abc")
    with pytest.raises(ValueError, match="shape"):
        LMFeatures(model=MODEL, tokenizer=TOK).fit(np.array([["a", "b", "c"]]))
    f = LMFeatures(model=MODEL, tokenizer=TOK).fit(["a", "b"])
    with pytest.raises(ValueError, match="pair input"):
        f.transform([["a", "b"]])
    with pytest.raises(ValueError, match="smollm2"):
        LMFeatures(model="gpt2").fit(["a"])
