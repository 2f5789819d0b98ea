"""The built-in binary-choice study (misspecified links), with the tables and figures of
docs/studies.md.

It runs (or resumes) ``builtin:binary-choice`` into ``--out``, exactly as the command

    semiparam study run builtin:binary-choice --out runs/binary-choice \\
        --set 'n=[500,2000,8000]' --replications 50 --backend loky --n-workers 2

does, then prints Markdown tables (rows: design, link, n; columns: methods; entries
``value (MCSE)``) of the bias and coverage of the normalised coefficient ``b2`` (true 0.5),
the mean angle to the true direction, and the relative precision against logit, and
draws the figures (nested-loop plots of the bias of b3 and of the angle, coverage of b3 with
MCSE bars, a zip plot of b3 in one non-elliptical cell).

Usage::

    python benchmarks/study_binary_choice.py                     # the docs' size
    python benchmarks/study_binary_choice.py --n 500,1000,2000,4000,8000 --replications 200
    python benchmarks/study_binary_choice.py --figures docs/_static/studies
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np


def wide(summ, measure, parameter, digits=3):
    """Rows (design, link, n) x method columns of ``value (mcse)``."""
    s = summ[(summ["measure"] == measure) & (summ["parameter"] == parameter)]

    def fmt(v, e):
        if not np.isfinite(v):
            return ""
        return f"{v:.{digits}f}" + (f" ({e:.{digits}f})" if np.isfinite(e) else "")

    s = s.assign(entry=[fmt(v, e) for v, e in zip(s["value"], s["mcse"])])
    t = s.pivot_table(index=["design", "link", "n"], columns="method", values="entry",
                      aggfunc="first", sort=False)
    methods = list(dict.fromkeys(s["method"]))
    t = t[methods].reset_index()
    cols = list(t.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in t.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", default="500,2000,8000")
    ap.add_argument("--replications", type=int, default=50)
    ap.add_argument("--backend", default="loky")
    ap.add_argument("--n-workers", type=int, default=2)
    ap.add_argument("--out", default="runs/binary-choice")
    ap.add_argument("--figures", default=None, help="directory for the PNG figures")
    args = ap.parse_args(argv)

    from semiparam.simulate import binary_choice_study

    study = binary_choice_study(n=[int(v) for v in args.n.split(",")],
                                replications=args.replications)
    study.run(args.backend, n_workers=args.n_workers, store=args.out)
    res = study.results()
    summ = study.summarize()
    st = study.status()
    print(f"{int(st['done'].sum())} replications, {int(res['error'].notna().sum())} failed "
          f"fits, {int(res['n_warnings'].gt(0).sum())} fits with warnings; "
          f"not converged: {int((res['converged'] == False).sum())}")  # noqa: E712
    secs = res.groupby(["n", "method"], sort=False)["seconds"].median().unstack()
    print("\nMedian fit time (s) by n:\n")
    print(secs.round(3).to_string())
    for title, measure, param, d in (
            ("Bias of b2 (true 0.5)", "bias", "b2", 3),
            ("Coverage of 95% intervals for b2", "cover", "b2", 2),
            ("Bias of b3 (true -1)", "bias", "b3", 3),
            ("Coverage of 95% intervals for b3", "cover", "b3", 2),
            ("Mean angle to the true direction (degrees)", "angle_mean", "angle", 2),
            ("Relative precision of b2 against logit (%)", "relprec", "b2", 0)):
        print(f"\n### {title}\n")
        print(wide(summ, measure, param, d))
    if args.figures:
        import matplotlib

        matplotlib.use("Agg")
        from semiparam.simulate import coverage_plot, nested_loop_plot, zip_plot

        os.makedirs(args.figures, exist_ok=True)
        fig = nested_loop_plot(summ, "bias", parameter="b3", reference=0.0)
        fig.savefig(os.path.join(args.figures, "binary_nested_bias_b3.png"), dpi=110)
        fig = nested_loop_plot(summ, "angle_mean", parameter="angle")
        fig.savefig(os.path.join(args.figures, "binary_nested_angle.png"), dpi=110)
        sub = summ[summ["design"] == "non-elliptical"]
        sub.attrs.update(summ.attrs)
        fig = coverage_plot(sub, parameter="b3", factors=["link", "n"])
        fig.savefig(os.path.join(args.figures, "binary_coverage_b3_nonelliptical.png"),
                    dpi=110)
        n_max = max(int(v) for v in args.n.split(","))
        fig = zip_plot(res, "b3", "se3", -1.0,
                       cell={"design": "non-elliptical", "link": "cloglog", "n": n_max})
        fig.savefig(os.path.join(args.figures, "binary_zip_b3.png"), dpi=110)
        print(f"\nfigures in {args.figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
