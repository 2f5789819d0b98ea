"""SPOTrainer: TRL's DPOTrainer with DPO/PSPO/OSPO/RSPO losses, on a tiny Llama."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("trl")

from _llm_helpers import full_batch, make_trainer, toy_rows  # noqa: E402

from semiparam.links.families import ShiftedLogisticLink  # noqa: E402
from semiparam.torch import IsotonicLinkState, KernelLinkState  # noqa: E402
from semiparam.torch.trl import SPOConfig, random_orientation  # noqa: E402


def _losses(trainer):
    return [h["loss"] for h in trainer.state.log_history if "loss" in h]


@pytest.mark.parametrize("learner", ["dpo", "rspo", "pspo", "ospo"])
def test_training_step_lowers_the_loss(learner):
    """Full-batch steps: each logged loss is the toy set's loss before that step.

    PSPO/OSPO train step 1 with the logistic link, refresh after it, and keep that link
    (and its orientation coins) for steps 2-3, so steps 2 and 3 evaluate one function.
    """
    tr = make_trainer(learner, max_steps=3, link_warmup_steps=1, link_refresh_steps=100)
    tr.train()
    losses = _losses(tr)
    assert len(losses) == 3 and all(np.isfinite(losses))
    first = 0 if learner in ("dpo", "rspo") else 1
    assert losses[2] < losses[first]
    if learner in ("pspo", "ospo"):
        assert tr.link_refreshes_ == 1
        history = tr.state.log_history
        assert history[0]["link/active"] == 0.0 and history[1]["link/active"] == 1.0
        assert "link/bandwidth" in history[1] and "link/slope_at_zero" in history[1]
    for key in ("rewards/chosen", "rewards/rejected", "rewards/accuracies",
                "rewards/margins", "logps/chosen", "logps/rejected"):
        assert key in tr.state.log_history[0]


def test_dpo_learner_equals_trl_sigmoid_loss():
    """learner='dpo' reproduces TRL's own loss_type='sigmoid' on the same batch."""
    from trl import DPOConfig, DPOTrainer

    ours = make_trainer("dpo", beta=0.5)
    with torch.no_grad():
        ours.model.lm_head.weight.add_(0.05 * torch.randn_like(ours.model.lm_head.weight))
    batch = full_batch(ours)
    args = DPOConfig(output_dir=ours.args.output_dir, beta=0.5, report_to=[], use_cpu=True,
                     bf16=False,
                     per_device_train_batch_size=16)
    theirs = DPOTrainer(ours.model, ref_model=ours.ref_model, args=args,
                        train_dataset=ours.train_dataset.remove_columns(
                            ["prompt_ids", "chosen_ids", "rejected_ids"]),
                        processing_class=ours.processing_class)
    model_batch = {k: batch[k] for k in ("input_ids", "attention_mask", "completion_mask")}
    with torch.no_grad():
        a = ours.compute_loss(ours.model, batch)
        b = theirs.compute_loss(theirs.model, model_batch)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_precomputed_reference():
    """precompute_ref_log_probs=True: no reference model kept, columns equal the start."""
    from semiparam.torch import sequence_logps

    tr = make_trainer("pspo", precompute=True, max_steps=2, link_warmup_steps=1,
                      link_refresh_steps=100)
    assert tr.ref_model is None
    assert {"ref_chosen_logps", "ref_rejected_logps"} <= set(tr.train_dataset.column_names)
    batch = full_batch(tr)
    with torch.no_grad():
        lp = sequence_logps(tr.model, batch["input_ids"], batch["attention_mask"],
                            batch["completion_mask"])
    c, r = lp.chunk(2)
    torch.testing.assert_close(batch["ref_chosen_logps"], c, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batch["ref_rejected_logps"], r, rtol=1e-5, atol=1e-5)
    t, _ = tr.pool_margins()
    assert np.max(np.abs(t)) < 1e-4  # the policy is the reference before training
    tr.train()
    assert tr.link_refreshes_ == 1 and np.all(np.isfinite(_losses(tr)))


def test_weight_column_weights_the_loss():
    """Weight 0 removes a pair: the weighted loss equals the loss of the weight-1 pairs."""
    rows = toy_rows(weights=True)
    tr = make_trainer("dpo", rows=rows)
    batch = full_batch(tr)
    assert torch.equal(batch["weight"], torch.tensor([r["weight"] for r in rows]))
    with torch.no_grad():
        weighted = tr.compute_loss(tr.model, batch)
        t = tr.pair_margins(tr.model, batch)[0]
    keep = batch["weight"] > 0
    expected = torch.nn.functional.softplus(-t[keep]).mean()
    torch.testing.assert_close(weighted, expected, rtol=1e-6, atol=1e-7)


def test_refresh_schedule_steps_and_epochs():
    tr = make_trainer("pspo", max_steps=5, link_refresh_steps=2)
    tr.train()
    assert [h["step"] for h in tr.link_history_] == [2, 4]
    # per epoch (None): after every epoch but the last; 2 batches of 8 per epoch
    tr = make_trainer("ospo", max_steps=-1, num_train_epochs=3, per_device_train_batch_size=8)
    tr.train()
    assert [h["step"] for h in tr.link_history_] == [2, 4]


def test_conversational_data():
    rows = [{"prompt": [{"role": "user", "content": r["prompt"]}],
             "chosen": [{"role": "assistant", "content": r["chosen"]}],
             "rejected": [{"role": "assistant", "content": r["rejected"]}]}
            for r in toy_rows(8)]
    tr = make_trainer("ospo", rows=rows, max_steps=2, link_warmup_steps=1,
                      link_refresh_steps=100)
    tr.train()
    assert tr.link_refreshes_ == 1 and np.all(np.isfinite(_losses(tr)))


@pytest.mark.parametrize("state", [IsotonicLinkState, KernelLinkState])
def test_orientation_coins_recover_a_non_logistic_link(state):
    """'Chosen wins' pairs with link g0 (shifted-logistic mixture, s=1.5, tau=0.25).

    Re-oriented by fair coins, the pool gives back g0: within 0.05 on [-3, 3] at
    n = 20000 (pointwise standard errors there are about 0.01-0.02), and far from the
    logistic.  Without the coins every label is 1 and the fit is the constant 1.
    """
    rng = np.random.default_rng(0)
    g0 = ShiftedLogisticLink(s=1.5, tau=0.25)
    u = rng.normal(0.0, 2.0, 20000)               # margins of (a1, a0) in random order
    z = rng.random(u.size) < g0(u)                 # a1 preferred
    chosen_margin = np.where(z, u, -u)             # TRL's view: chosen minus rejected
    tt, labels, s = random_orientation(chosen_margin, np.random.default_rng(1))
    assert set(np.unique(labels)) == {0.0, 1.0} and np.all(tt == s * chosen_margin)
    link = state().refresh(tt, labels)
    grid = torch.linspace(-3, 3, 61, dtype=torch.float64)
    fitted = link(grid).numpy()
    truth = g0(grid.numpy())
    assert np.max(np.abs(fitted - truth)) < 0.05
    assert np.max(np.abs(fitted - 1 / (1 + np.exp(-grid.numpy())))) > 0.15
    flat = IsotonicLinkState(clip=0.0).refresh(chosen_margin, np.ones(u.size))
    assert np.allclose(flat(grid).numpy(), 1.0)


def test_config_validation():
    with pytest.raises(ValueError, match="learner"):
        SPOConfig(output_dir="x", learner="kto", report_to=[], use_cpu=True, bf16=False)
    with pytest.raises(ValueError, match="loss_type"):
        SPOConfig(output_dir="x", loss_type="ipo", report_to=[], use_cpu=True, bf16=False)
    with pytest.raises(ValueError, match="link_refresh_steps"):
        SPOConfig(output_dir="x", link_refresh_steps=0, report_to=[], use_cpu=True, bf16=False)
    with pytest.raises(ValueError, match="ld_alpha"):
        SPOConfig(output_dir="x", ld_alpha=0.5, report_to=[], use_cpu=True, bf16=False)
    with pytest.raises(ValueError, match="finite"):
        random_orientation(np.array([0.0, np.nan]), np.random.default_rng(0))
    tr = make_trainer("dpo")
    with pytest.raises(ValueError, match="no link"):
        tr.refresh_link()


def test_evaluate_uses_the_fitted_link():
    """Evaluation: the plain log-loss -log g(t) of the current link, with eval_* metrics."""
    from datasets import Dataset

    tr = make_trainer("pspo", max_steps=2, link_warmup_steps=1, link_refresh_steps=100)
    tr.train()
    metrics = tr.evaluate(Dataset.from_list(toy_rows(8, seed=1)))
    assert np.isfinite(metrics["eval_loss"]) and "eval_rewards/margins" in metrics
    batch = full_batch(tr)
    tr.model.eval()
    with torch.no_grad():
        t = tr.pair_margins(tr.model, batch)[0]
        expected = -torch.log(tr.link_(t)).mean()
        batch.pop("spo_index")
        got = tr.compute_loss(tr.model, batch)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
