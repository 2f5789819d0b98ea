"""Shared set-up of the language-model tests: offline Hub, a toy preference set, a trainer."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TQDM_DISABLE", "1")


def toy_rows(n=16, weights=False, seed=0):
    """Prompt/chosen/rejected rows of short random lower-case strings (seeded)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))

    def word(lo, hi):
        return "".join(rng.choice(letters, rng.integers(lo, hi + 1)))

    rows = []
    for i in range(n):
        row = {"prompt": word(2, 5) + ":", "chosen": word(1, 6), "rejected": word(1, 6)}
        if weights:
            row["weight"] = float(i % 2)
        rows.append(row)
    return rows


def make_trainer(learner="dpo", *, rows=None, precompute=False, seed=0, **config):
    """An SPOTrainer on the tiny Llama and the toy set (no files, no network)."""
    from datasets import Dataset

    from semiparam.torch.lm import char_tokenizer, tiny_llama
    from semiparam.torch.trl import SPOConfig, SPOTrainer

    tok = char_tokenizer()
    model = tiny_llama(tok, seed=seed)
    ref = None if precompute else tiny_llama(tok, seed=seed)
    rows = toy_rows() if rows is None else rows
    kw = dict(output_dir=os.path.join(os.environ.get("TMPDIR", "/tmp"), "spo-test"),
              learner=learner, per_device_train_batch_size=len(rows),
              per_device_eval_batch_size=len(rows), max_steps=1, learning_rate=1e-3,
              logging_steps=1, report_to=[], save_strategy="no", use_cpu=True, seed=seed,
              beta=1.0, bf16=False, precompute_ref_log_probs=precompute, dataloader_num_workers=0)
    kw.update(config)
    args = SPOConfig(**kw)
    return SPOTrainer(model, ref_model=ref, args=args, train_dataset=Dataset.from_list(rows),
                      processing_class=tok)


def full_batch(trainer):
    """The whole (prepared) training set as one collated batch, in row order."""
    return trainer.data_collator([trainer.train_dataset[i]
                                  for i in range(len(trainer.train_dataset))])
