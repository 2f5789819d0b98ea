"""Step and refresh times of the semiparam.torch losses and link states.

For n training pairs (default 1e4, 1e5, 1e6) with margins from a bimodal-link design:

* refresh: ``IsotonicLinkState.refresh`` and ``KernelLinkState.refresh`` on all n margins
  (CPU; the baseline is ``numpy.argsort`` of the n margins, the ``O(n log n)`` floor);
* step: forward + backward of each loss on a batch of ``--batch`` margins that come from
  a small MLP (d = 20 -> 32 -> 32 -> 10) on ``--device``; the baseline is the DPO step.

Prints best-of-``--repeat`` wall times and their ratios to the baseline.  Timings under
shared load are noisy: quote the ratios and ``uptime`` with them.

Usage::

    python benchmarks/bench_torch.py [--n 1e4,1e5,1e6] [--batch 128] [--device cuda]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def design(n, rng):
    t = 2.0 * rng.standard_normal(n)
    p = 0.5 / (1 + np.exp(-(t - 1.5) / 0.25)) + 0.5 / (1 + np.exp(-(t + 1.5) / 0.25))
    return t, (rng.uniform(size=n) < p).astype(float)


def main(argv=None):
    ap = argparse.ArgumentParser(description="semiparam.torch step and refresh times")
    ap.add_argument("--n", default="1e4,1e5,1e6")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50, help="steps per step-time measurement")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="n = 1e4 only, 1 repeat")
    args = ap.parse_args(argv)

    import torch

    from semiparam.torch import (IsotonicLinkState, KernelLinkState, dpo_loss, ospo_loss,
                                 pair_margins, pspo_loss, rspo_loss)

    torch.set_num_threads(args.threads)
    sizes = [int(float(v)) for v in args.n.split(",")]
    repeat = args.repeat
    if args.quick:
        sizes, repeat = [10_000], 1
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    print(f"device {device}, batch {args.batch}, threads {args.threads}, best of {repeat}")
    print("\nrefresh (CPU, seconds; ratio to numpy.argsort of the margins)")
    print(f"{'n':>9} {'argsort':>9} {'isotonic':>9} {'ratio':>7} {'kernel':>9} {'ratio':>7} "
          f"{'knots':>6}")
    states = {}
    for n in sizes:
        t, z = design(n, rng)
        iso, ker = IsotonicLinkState(), KernelLinkState()
        iso.refresh(t[:1000], z[:1000]), ker.refresh(t[:1000], z[:1000])  # compile, warm up
        base = best_of(lambda: np.argsort(t), repeat)
        ti = best_of(lambda: iso.refresh(t, z), repeat)
        tk = best_of(lambda: ker.refresh(t, z), repeat)
        states[n] = (t, z, iso, ker)
        print(f"{n:>9} {base:>9.4f} {ti:>9.4f} {ti / base:>7.1f} {tk:>9.4f} {tk / base:>7.1f} "
              f"{ker.diagnostics()['n_knots']:>6}")

    print(f"\nstep (forward + backward, batch {args.batch}, ms; ratio to the DPO step)")
    print(f"{'n':>9} {'dpo':>8} {'rspo':>8} {'ratio':>6} {'pspo':>8} {'ratio':>6} "
          f"{'ospo':>8} {'ratio':>6}")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                              torch.nn.ReLU(), torch.nn.Linear(32, 10)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    for n in sizes:
        t_np, z_np, iso, ker = states[n]
        X = torch.randn(n, 20, device=device)
        a0 = torch.randint(0, 10, (n,), device=device)
        a1 = torch.randint(0, 10, (n,), device=device)
        z = torch.as_tensor(z_np, dtype=torch.float32, device=device)
        gen = torch.Generator(device="cpu").manual_seed(0)
        batches = [torch.randint(0, n, (args.batch,), generator=gen).to(device)
                   for _ in range(args.steps)]

        def run(kind):
            for idx in batches:
                t = pair_margins(torch.log_softmax(net(X[idx]), -1), a0[idx], a1[idx])
                zb = z[idx]
                if kind == "dpo":
                    loss = dpo_loss(t, zb, validate=False)
                elif kind == "rspo":
                    loss = rspo_loss(t, zb, validate=False)
                elif kind == "pspo":
                    loss = pspo_loss(t, zb, iso, validate=False)
                else:
                    loss = ospo_loss(t, zb, ker, index=idx, validate=False)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize()

        for kind in ("dpo", "rspo", "pspo", "ospo"):  # warm up (device tables, kernels)
            run(kind)
        ms = {k: 1e3 * best_of(lambda k=k: run(k), repeat) / args.steps
              for k in ("dpo", "rspo", "pspo", "ospo")}
        b = ms["dpo"]
        print(f"{n:>9} {b:>8.3f} {ms['rspo']:>8.3f} {ms['rspo'] / b:>6.2f} {ms['pspo']:>8.3f} "
              f"{ms['pspo'] / b:>6.2f} {ms['ospo']:>8.3f} {ms['ospo'] / b:>6.2f}")


if __name__ == "__main__":
    main()
