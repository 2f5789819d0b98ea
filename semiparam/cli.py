"""The ``semiparam`` command.

::

    semiparam study run SPEC --out DIR [--backend serial|loky|dask|ray] [--n-workers N]
                                       [--address ADDR] [--replications R] [--seed S]
                                       [--set KEY=VALUE ...] [--chunk-size N] [--quiet]
    semiparam study status DIR
    semiparam study summarize DIR [--format markdown|html|csv] [--measures M,...]
                                  [--baseline NAME] [--output FILE]
    semiparam study plot DIR --kind nested-loop|coverage|zip|frontier --output FILE
                             [--measure M] [--parameter P] [--cell KEY=VALUE ...]
    semiparam study errors DIR [--kind error|warning] [--tracebacks]

``SPEC`` is ``builtin:binary-choice``, ``builtin:policy``, or a Python file that defines
either ``study`` (a :class:`semiparam.simulate.Study`) or ``make_study(**options)``;
``--set KEY=VALUE`` passes options to the factory (values parsed as JSON when they parse,
e.g. ``--set n=[500,2000]``, else taken as strings).  ``run`` resumes when ``--out`` holds an
earlier run of the same study.

Exit status: 0 success; 1 the study finished with cells stopped at their failure cap;
2 a usage error or a bad specification (a message, no traceback; ``--debug`` shows it);
130 interrupted (what finished is stored; rerun to resume).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys

__all__ = ["main"]


class UsageError(Exception):
    """A mistake of the user's: reported as one line, exit status 2."""


def _parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _pairs(items, what):
    out = {}
    for item in items or ():
        if "=" not in item:
            raise UsageError(f"{what} must look like KEY=VALUE; got {item!r}.")
        k, v = item.split("=", 1)
        out[k.strip()] = _parse_value(v)
    return out


def load_spec(spec: str, options: dict, replications=None, seed=None):
    """The Study named by ``spec`` (see the module docstring)."""
    from .simulate import Study
    from .simulate.builtin import BUILTIN_STUDIES

    kw = dict(options)
    if replications is not None:
        kw["replications"] = replications
    if seed is not None:
        kw["seed"] = seed
    if spec.startswith("builtin:"):
        name = spec[len("builtin:"):]
        if name not in BUILTIN_STUDIES:
            raise UsageError(f"Unknown built-in study {name!r}; choose from "
                             f"{sorted(BUILTIN_STUDIES)}.")
        factory = BUILTIN_STUDIES[name]
    else:
        if not os.path.isfile(spec):
            raise UsageError(f"No specification file {spec!r} (or use builtin:NAME).")
        ns = runpy.run_path(spec, run_name="semiparam_study_spec")
        if "make_study" in ns:
            factory = ns["make_study"]
        elif "study" in ns:
            study = ns["study"]
            if not isinstance(study, Study):
                raise UsageError(f"{spec}: `study` is a {type(study).__name__}, not a Study.")
            if options:
                raise UsageError("--set needs a make_study(**options) factory in the spec.")
            if replications is not None:
                study.replications = int(replications)
            if seed is not None:
                from .simulate.seeds import root_entropy

                study.seed, study.entropy = seed, root_entropy(seed)
            return study
        else:
            raise UsageError(f"{spec} defines neither `study` nor `make_study`.")
    try:
        study = factory(**kw)
    except TypeError as err:
        raise UsageError(f"Bad options for {spec}: {err}") from err
    if not isinstance(study, Study):
        raise UsageError(f"{spec}: the factory returned a {type(study).__name__}, not a Study.")
    return study


# ---------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------
def _cmd_run(args):
    study = load_spec(args.spec, _pairs(args.set, "--set"), args.replications, args.seed)
    study.run(backend=args.backend, n_workers=args.n_workers, address=args.address,
              store=args.out, chunk_size=args.chunk_size, progress=not args.quiet)
    st = study.status()
    print(f"{study.name}: {int(st['done'].sum())} of {int(st['target'].sum())} replications "
          f"stored in {study.store.path}; {int(st['failed'].sum())} failed.")
    stopped = st[st["stopped"]]
    if len(stopped):
        print(f"{len(stopped)} cell(s) stopped at the failure cap; see "
              f"`semiparam study errors {args.out}`.", file=sys.stderr)
        return 1
    return 0


def _open(path):
    from .simulate.storage import StudyStore

    try:
        return StudyStore(path, create=False)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from err


def _cmd_status(args):
    import pandas as pd

    from .simulate.study import store_status

    st = _open(args.dir)
    meta = st.get_meta()
    table = store_status(st)
    print(f"study {meta.get('name', '?')!r}: methods {meta.get('methods')}, "
          f"{len(table)} cells x {meta.get('replications')} replications, seed "
          f"{meta.get('entropy')}")
    if table.empty:
        print("nothing stored yet")
        return 0
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.to_string(index=False))
    done, target = int(table["done"].sum()), int(table["target"].sum())
    print(f"{done}/{target} replications done ({100 * done / max(target, 1):.1f}%), "
          f"{int(table['failed'].sum())} failed, {int(table['stopped'].sum())} cells stopped")
    return 0


def _summary(args, st):
    from .simulate import summarize
    from .simulate.study import load_results

    meta = st.get_meta()
    kw = dict(meta.get("summary") or {})
    if getattr(args, "baseline", None):
        kw["baseline"] = args.baseline
    if not kw:
        raise UsageError("The study stores no summary options (Study(summary=...)); nothing "
                         "to summarise by default.")
    res = load_results(st)
    return res, summarize(res, **kw), kw


def _cmd_summarize(args):
    from .simulate import report

    st = _open(args.dir)
    _, summ, _ = _summary(args, st)
    measures = args.measures.split(",") if args.measures else None
    text = report(summ, fmt=args.format, measures=measures, digits=args.digits)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_plot(args):
    import matplotlib

    matplotlib.use("Agg")
    from .simulate import plots

    st = _open(args.dir)
    res, summ, kw = _summary(args, st)
    cell = _pairs(args.cell, "--cell")
    methods = args.methods.split(",") if args.methods else None
    if args.kind in ("nested-loop", "coverage") and cell:
        for k, v in cell.items():
            summ = summ[summ[k] == v]
    if args.kind == "nested-loop":
        measure = args.measure or "bias"
        ref = {"bias": 0.0, "cover": summ.attrs.get("level", 0.95)}.get(measure)
        factors = [f for f in summ.attrs.get("factors", []) if f not in cell]
        fig = plots.nested_loop_plot(summ, measure, parameter=args.parameter, factors=factors,
                                     reference=ref, methods=methods)
    elif args.kind == "coverage":
        factors = [f for f in summ.attrs.get("factors", []) if f not in cell]
        fig = plots.coverage_plot(summ, parameter=args.parameter, factors=factors,
                                  methods=methods)
    elif args.kind == "zip":
        est = kw.get("estimate")
        ests = [est] if isinstance(est, str) else list(est or [])
        if not ests:
            raise UsageError("A zip plot needs estimates with standard errors.")
        p = args.parameter or ests[0]
        if p not in ests:
            raise UsageError(f"--parameter must be one of {ests}.")
        se = kw["se"] if isinstance(kw["se"], str) else kw["se"][ests.index(p)]
        true = kw["true"][p] if isinstance(kw["true"], dict) else kw["true"]
        fig = plots.zip_plot(res, p, se, true, cell=cell, methods=methods)
    else:
        panel = args.panel or (summ.attrs.get("factors") or [None])[0]
        fig = plots.frontier_plot(summ, panel=panel, measure=args.measure or "mean",
                                  methods=methods)
    fig.savefig(args.output, dpi=args.dpi)
    print(f"wrote {args.output}")
    return 0


def _cmd_errors(args):
    import pandas as pd

    from .simulate.study import load_events

    ev = load_events(_open(args.dir))
    if args.kind:
        ev = ev[ev["kind"] == args.kind]
    if ev.empty:
        print("no events recorded")
        return 0
    counts = ev.groupby(["method", "kind", "category"]).size().rename("count")
    print(counts.to_string())
    if args.tracebacks:
        for row in ev[ev["kind"] == "error"].itertuples(index=False):
            print(f"\n--- rep {row.rep}, method {row.method}, seed {json.dumps(row.seed)}")
            print(row.traceback)
    else:
        cols = [c for c in ev.columns if c not in ("traceback", "seed")]
        with pd.option_context("display.width", 200, "display.max_colwidth", 80):
            print(ev[cols].head(args.head).to_string(index=False))
    return 0


# ---------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="semiparam", description="semiparam command line.")
    p.add_argument("--version", action="version", version=f"semiparam {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="group", metavar="COMMAND")
    sub.required = True
    sp = sub.add_parser("study", help="simulation studies: run, status, summarize, plot",
                        description="Run, inspect, summarise and plot simulation studies.")
    ss = sub_study = sp.add_subparsers(dest="command", metavar="SUBCOMMAND")
    sub_study.required = True

    r = ss.add_parser("run", help="run (or resume) a study",
                      description="Run a study into --out; resumes an earlier run there.")
    r.add_argument("spec", help="builtin:binary-choice, builtin:policy, or a .py file")
    r.add_argument("--out", required=True, help="directory (or .sqlite file) of the store")
    r.add_argument("--backend", choices=["serial", "loky", "dask", "ray"], default="serial")
    r.add_argument("--n-workers", type=int, default=None)
    r.add_argument("--address", default=None, help="dask scheduler or ray cluster address")
    r.add_argument("--replications", type=int, default=None)
    r.add_argument("--seed", type=int, default=None)
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="option of the study factory (JSON values), repeatable")
    r.add_argument("--chunk-size", type=lambda s: s if s == "auto" else int(s),
                   default="auto")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_run)

    s = ss.add_parser("status", help="progress of a stored study",
                      description="Per cell: replications done, failed, stopped.")
    s.add_argument("dir")
    s.set_defaults(func=_cmd_status)

    m = ss.add_parser("summarize", help="performance measures with Monte Carlo SEs",
                      description="Tabulate the stored study's performance measures.")
    m.add_argument("dir")
    m.add_argument("--format", choices=["markdown", "html", "csv"], default="markdown")
    m.add_argument("--measures", default=None, help="comma-separated measures to show")
    m.add_argument("--baseline", default=None, help="method for relprec and gains")
    m.add_argument("--digits", type=int, default=3)
    m.add_argument("--output", default=None)
    m.set_defaults(func=_cmd_summarize)

    g = ss.add_parser("plot", help="plot a stored study",
                      description="Nested-loop, coverage, zip or reward-frontier plot.")
    g.add_argument("dir")
    g.add_argument("--kind", choices=["nested-loop", "coverage", "zip", "frontier"],
                   required=True)
    g.add_argument("--output", required=True, help="image file (png, pdf, svg)")
    g.add_argument("--measure", default=None)
    g.add_argument("--parameter", default=None)
    g.add_argument("--baseline", default=None)
    g.add_argument("--methods", default=None, help="comma-separated methods to draw")
    g.add_argument("--panel", default=None, help="factor with one frontier panel per level")
    g.add_argument("--cell", action="append", metavar="KEY=VALUE",
                   help="restrict to cells with these factor values, repeatable")
    g.add_argument("--dpi", type=int, default=120)
    g.set_defaults(func=_cmd_plot)

    e = ss.add_parser("errors", help="errors and warnings recorded",
                      description="Errors and warnings with the seeds that reproduce them.")
    e.add_argument("dir")
    e.add_argument("--kind", choices=["error", "warning"], default=None)
    e.add_argument("--tracebacks", action="store_true")
    e.add_argument("--head", type=int, default=20)
    e.set_defaults(func=_cmd_errors)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; finished chunks are stored, rerun to resume", file=sys.stderr)
        return 130
    except (UsageError, ValueError, TypeError, KeyError, FileNotFoundError,
            ImportError) as err:
        if args.debug:
            raise
        print(f"semiparam: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
