"""The acceptance study of the policy learners (issue 4, section 3), with its tables.

Design (defaults): contexts x ~ N(0, I_20), phi(x, a) = e_a (x) x, k = 10 actions,
teacher rows N(0, 0.2^2/20), nu = 10, tau = 0.25, n = 5000 pairs (ties dropped), 2000
held-out contexts, KL budget 0.2 (beta solved exactly), 20 seeds shared by all learners
and shifts, s in {0, 0.5, 1.0, 1.5}.  For every shift it prints the reward at the budget
of DPO, PSPO, OSPO, RSPO and the oracle (the teacher tilted to the same budget), the
paired gain over DPO with its z, the regret ratio (oracle - learner)/(oracle - DPO), the
mean angle to the true direction and the fit time; then the acceptance checks.

The study is the built-in :func:`semiparam.simulate.policy_study` (one replication = one
simulated problem shared by every learner and, by common random numbers, by every shift),
run by the study runner: any back-end, results in a resumable store (``--out``), a
replication's streams derived from the root ``--seed`` and its number, so reruns, resumes
and back-ends agree bit for bit.

Usage::

    python benchmarks/study_policy.py                       # the acceptance design
    python benchmarks/study_policy.py --design paper        # teacher N(0, 1/20), n = 1000
    python benchmarks/study_policy.py --design unequal      # action scales 0.1 ... 3 (geometric)
    python benchmarks/study_policy.py --design mlp          # network teacher, its features
    python benchmarks/study_policy.py --seeds 5 --shifts 0,1.5 --n-jobs 2
    python benchmarks/study_policy.py --seed 100            # an independent set of problems
    python benchmarks/study_policy.py --backend dask --n-jobs 2 --budgets 0.05,0.1,0.2,0.4

The same study from the command line:
``semiparam study run builtin:policy --out runs/policy --replications 20``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from semiparam.simulate import policy_study, summarize_preference_study

#: thresholds of the acceptance design: (shift, learner) -> (min z, max regret ratio)
THRESHOLDS = {
    (1.5, "OSPO"): (5.0, 0.85),
    (1.5, "PSPO"): (3.0, 0.95),
    (1.5, "RSPO"): (5.0, 0.97),
    (0.0, "OSPO"): (None, 1.10),
    (0.0, "PSPO"): (None, 1.40),
    (0.0, "RSPO"): (None, 1.15),
}

DESIGNS = {
    "acceptance": {},
    "paper": {"teacher_scale": 1.0, "n_pairs": 1000},
    "unequal": {"action_scales": "geometric"},
    "mlp": {"teacher": "mlp"},
}


def _data_kwargs(design, n):
    kw = dict(DESIGNS[design])
    if kw.get("action_scales") == "geometric":
        kw["action_scales"] = np.geomspace(0.1, 3.0, 10)
    if n is not None:
        kw["n_pairs"] = n
    return kw


def check(summary) -> list:
    """Lines ``PASS``/``FAIL`` for every threshold of the acceptance design."""
    lines = []
    for (shift, name), (zmin, rmax) in THRESHOLDS.items():
        row = summary[(summary["shift"] == shift) & (summary["learner"] == name)]
        if row.empty:
            continue
        z, ratio = float(row["z"].iloc[0]), float(row["regret_ratio"].iloc[0])
        ok = (zmin is None or z >= zmin) and ratio <= rmax
        need = (f"z >= {zmin:g}, " if zmin is not None else "") + f"ratio <= {rmax:g}"
        lines.append(f"{'PASS' if ok else 'FAIL'}  s={shift:<4g} {name:5s} z={z:6.1f} "
                     f"ratio={ratio:5.3f}   (needs {need})")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--design", choices=sorted(DESIGNS), default="acceptance")
    ap.add_argument("--seeds", type=int, default=20, help="replications (problems) per shift")
    ap.add_argument("--seed", type=int, default=0, help="root seed of the study")
    ap.add_argument("--shifts", default="0,0.5,1.0,1.5")
    ap.add_argument("--n", type=int, default=None, help="pairs drawn (default per design)")
    ap.add_argument("--kappa", type=float, default=0.2, help="budget of the printed table")
    ap.add_argument("--budgets", default=None,
                    help="further budgets scored (comma-separated; for frontier plots)")
    ap.add_argument("--backend", default="loky", choices=["serial", "loky", "dask", "ray"])
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", default=None, help="study store (resumable); default "
                    "runs/study_policy_<design>_seed<seed>")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    shifts = [float(s) for s in args.shifts.split(",")]
    budgets = sorted({args.kappa, *(float(k) for k in (args.budgets or "").split(",") if k)})
    kw = _data_kwargs(args.design, args.n)
    out = args.out or f"runs/study_policy_{args.design}_seed{args.seed}"
    study = policy_study(shifts=shifts, budgets=budgets, replications=args.seeds,
                         seed=args.seed, data_kwargs=kw)
    print(f"design={args.design} {kw} replications={args.seeds} shifts={shifts} "
          f"budgets={budgets} store={out}", flush=True)
    backend = "serial" if args.n_jobs == 1 and args.backend == "loky" else args.backend
    study.run(backend=backend, n_workers=args.n_jobs, store=out, progress=not args.quiet)
    res = study.results()
    bad = res[res["error"].notna()]
    if len(bad):
        print(f"{len(bad)} failed fits (see `semiparam study errors {out}`)")
    # the table of the acceptance study: one row per (seed, shift, learner)
    res = res.rename(columns={"rep": "seed", "method": "learner"})
    res["reward"] = res[f"reward@{args.kappa:g}"]
    res["seconds"] = res["fit_seconds"]
    summary = summarize_preference_study(res)
    cols = ["shift", "learner", "reward", "gain", "se", "z", "regret_ratio", "angle",
            "seconds", "separated", "n_seeds"]
    with pd_options():
        print(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.design == "acceptance" and args.kappa == 0.2:
        print("\nAcceptance checks:")
        lines = check(summary)
        print("\n".join(lines))
        return 0 if all(line.startswith("PASS") for line in lines) else 1
    return 0


def pd_options():
    import pandas as pd

    return pd.option_context("display.width", 200)


if __name__ == "__main__":
    sys.exit(main())
