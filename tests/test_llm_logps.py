"""sequence_logps: against TRL's own log-probabilities and the model's cross-entropy."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("trl")

from _llm_helpers import full_batch, make_trainer  # noqa: E402

from semiparam.torch import sequence_logps  # noqa: E402
from semiparam.torch.lm import char_tokenizer, tiny_llama  # noqa: E402


@pytest.fixture(scope="module")
def trainer():
    return make_trainer("dpo")


def test_matches_trl_on_collated_batch(trainer):
    """TRL's DPOTrainer.compute_ref_log_probs (its fused LM head) on the same batch, 1e-5."""
    batch = full_batch(trainer)
    ref_c, ref_r = trainer.compute_ref_log_probs(trainer.ref_model, batch)
    ours = sequence_logps(trainer.ref_model, batch["input_ids"], batch["attention_mask"],
                          batch["completion_mask"])
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, torch.cat([ref_c, ref_r]), rtol=1e-5, atol=1e-5)
    # the policy too (the same weights at the start) and through TRL's fused forward
    labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
    with torch.no_grad():
        fused = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                              labels=labels, fused_lm_head=True).log_probs.sum(dim=1)
    pol = sequence_logps(trainer.model, batch["input_ids"], batch["attention_mask"],
                         batch["completion_mask"])
    torch.testing.assert_close(pol, fused, rtol=1e-5, atol=1e-5)


def test_equals_cross_entropy_per_sequence():
    """-n * (HF mean cross-entropy over completion tokens), sequence by sequence."""
    tok = char_tokenizer()
    model = tiny_llama(tok, seed=3)
    texts = [("abc:", "hello"), ("x", "yz!")]
    for prompt, completion in texts:
        p = tok(prompt)["input_ids"]
        c = tok(completion)["input_ids"]
        ids = torch.tensor([p + c])
        att = torch.ones_like(ids)
        comp = torch.tensor([[0] * len(p) + [1] * len(c)])
        labels = ids.masked_fill(comp == 0, -100)
        with torch.no_grad():
            ce = model(input_ids=ids, attention_mask=att, labels=labels).loss
            lp = sequence_logps(model, ids, att, comp)
            avg = sequence_logps(model, ids, att, comp, average=True)
        torch.testing.assert_close(lp, -ce.reshape(1) * len(c), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(avg, -ce.reshape(1), rtol=1e-5, atol=1e-5)


def test_chunks_padding_and_gradient(trainer):
    batch = full_batch(trainer)
    args = (batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    whole = sequence_logps(trainer.model, *args)
    chunked = sequence_logps(trainer.model, *args, chunk_size=3)
    torch.testing.assert_close(whole, chunked, rtol=1e-6, atol=1e-6)
    # one row alone (no padding) equals the row in the padded batch
    n = int(batch["attention_mask"][5].sum())
    alone = sequence_logps(trainer.model, *(a[5:6, :n] for a in args))
    torch.testing.assert_close(alone, whole[5:6], rtol=1e-5, atol=1e-5)
    whole.sum().backward()
    grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads)
    trainer.model.zero_grad()


def test_bad_input():
    model = tiny_llama()
    ids = torch.zeros((2, 5), dtype=torch.long)
    ones = torch.ones_like(ids)
    with pytest.raises(ValueError, match="2-D"):
        sequence_logps(model, ids[0], ones[0], ones[0])
    with pytest.raises(ValueError, match="completion_mask"):
        sequence_logps(model, ids, ones, ones[:, :3])
    with pytest.raises(ValueError, match="attention_mask masks out"):
        sequence_logps(model, ids, torch.zeros_like(ids), ones)
    with pytest.raises(ValueError, match="integer"):
        sequence_logps(model, ids.float(), ones, ones)
    with pytest.raises(ValueError, match="chunk_size"):
        sequence_logps(model, ids, ones, ones, chunk_size=0)
