"""Throughput of ``sequence_logps`` and of one ``SPOTrainer`` step, tiny Llama and SmolLM2.

For each model, a batch of ``--pairs`` preference pairs (prompt and two completions of
``--words`` random words each, so ``2 * pairs`` sequences of ``2 * words`` words; about 18
SmolLM2 tokens or 100 characters per sequence at the default 8) is collated by TRL's
collator; then, on ``--device``:

- ``forward``: the model's plain forward (logits), the baseline measured in the same run;
- ``sequence_logps``: forward + completion log-probabilities, no gradient;
- ``logps+backward``: the same with a backward pass;
- ``step dpo`` / ``step ospo`` / ...: one optimiser step of ``SPOTrainer`` (policy forward
  and backward, reference forward, loss, AdamW), the median of ``--steps`` full-batch
  steps; the link refresh is timed separately (``refresh``: one no-grad pass over the
  pool plus the CPU fit).

Tokens per second count every non-padding token of the batch; ratios are against
``forward`` of the same model in the same run.  Timings on a shared machine are noisy:
report ``uptime`` beside them.

Usage::

    python benchmarks/bench_llm.py                     # tiny Llama and SmolLM2, CPU
    python benchmarks/bench_llm.py --quick             # tiny Llama only (a smoke run)
    python benchmarks/bench_llm.py --device cuda --pairs 32 --words 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TQDM_DISABLE", "1")


def _rows(n, k, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    words = ["alpha", "beta", "gamma", "delta", "red", "blue", "cat", "dog", "sun", "rain",
             "quick", "slow", "river", "stone", "light", "dark"]

    def text(k):
        return " ".join(rng.choice(words, k))

    return [{"prompt": text(k) + ":", "chosen": " " + text(k), "rejected": " " + text(k)}
            for _ in range(n)]


def _time(fn, repeats):
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def bench_model(name, model, tok, args):
    import copy

    import torch
    from datasets import Dataset

    from semiparam.torch import sequence_logps
    from semiparam.torch.trl import SPOConfig, SPOTrainer

    device = torch.device(args.device)
    rows = _rows(args.pairs, args.words)
    ds = Dataset.from_list(rows)
    results = []

    def trainer(learner):
        cfg = SPOConfig(output_dir=os.path.join(args.tmp, f"bench-{name}-{learner}"),
                        learner=learner, per_device_train_batch_size=args.pairs,
                        per_device_eval_batch_size=args.pairs, max_steps=args.steps + 1,
                        learning_rate=1e-6, logging_steps=10**6, report_to=[],
                        save_strategy="no", use_cpu=args.device == "cpu", bf16=False,
                        gradient_checkpointing=False, link_warmup_steps=1,
                        link_refresh_steps=10**6, seed=0, beta=0.1)
        return SPOTrainer(copy.deepcopy(model), ref_model=copy.deepcopy(model), args=cfg,
                          train_dataset=ds, processing_class=tok)

    tr = trainer("dpo")
    batch = tr.data_collator([tr.train_dataset[i] for i in range(len(tr.train_dataset))])
    inputs = {k: batch[k].to(device) for k in ("input_ids", "attention_mask", "completion_mask")}
    tokens = int(inputs["attention_mask"].sum())
    m = tr.model.to(device)

    def fwd():
        with torch.no_grad():
            m(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
              use_cache=False)

    def lps():
        with torch.no_grad():
            sequence_logps(m, **inputs)

    def lps_bwd():
        sequence_logps(m, **inputs).sum().backward()
        m.zero_grad(set_to_none=True)

    base = _time(fwd, args.repeats)
    results.append(("forward", base))
    results.append(("sequence_logps", _time(lps, args.repeats)))
    results.append(("logps+backward", _time(lps_bwd, args.repeats)))
    for learner in args.learners:
        tr = trainer(learner)
        stamps = []

        from transformers import TrainerCallback

        class Clock(TrainerCallback):
            def on_step_begin(self, a, state, control, **kw):
                stamps.append(time.perf_counter())

            def on_step_end(self, a, state, control, **kw):
                if state.global_step > 1:  # step 1: warm-up (and, for PSPO/OSPO, DPO's link)
                    stamps[-1] = time.perf_counter() - stamps[-1]
                else:
                    stamps.pop()

        tr.add_callback(Clock())
        t0 = time.perf_counter()
        tr.train()
        total = time.perf_counter() - t0
        step = statistics.median(stamps) if stamps else float("nan")
        results.append((f"step {learner}", step))
        if tr.link_history_:
            t1 = time.perf_counter()
            tr.refresh_link()
            results.append((f"refresh {learner}", time.perf_counter() - t1))
        del total
    print(f"\n{name}: {args.pairs} pairs = {2 * args.pairs} sequences, {tokens} tokens, "
          f"device {args.device}")
    print(f"{'operation':>18} {'seconds':>9} {'tokens/s':>10} {'x forward':>10}")
    for op, sec in results:
        print(f"{op:>18} {sec:9.4f} {tokens / sec:10.0f} {sec / base:10.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny Llama only, few repeats")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--words", type=int, default=8, help="words per prompt and completion")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--learners", default="dpo,pspo,ospo,rspo")
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR", "/tmp"))
    args = ap.parse_args(argv)
    args.learners = [s for s in args.learners.split(",") if s]
    try:
        import transformers  # noqa: F401
        import trl  # noqa: F401
    except ImportError:
        print("bench_llm: skipped (needs the llm extra: pip install 'semiparam[llm]')")
        return 0
    import torch

    from semiparam.torch.lm import char_tokenizer, load_smollm2, tiny_llama

    if args.quick:
        args.repeats, args.steps = 2, 2
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; load: "
          f"{os.getloadavg()[0]:.2f}")
    tok = char_tokenizer()
    bench_model("tiny Llama (char tokenizer)", tiny_llama(tok), tok, args)
    if not args.quick:
        try:
            model, tok = load_smollm2()
        except ImportError as err:
            print(f"SmolLM2 skipped: {err}")
            return 0
        bench_model("SmolLM2-135M-Instruct", model, tok, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
