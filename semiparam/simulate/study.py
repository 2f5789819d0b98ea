"""The simulation-study runner: a design grid, a data-generating function, methods, and
replications, run on any back-end into a crash-safe store.

A study is the triple (design, generate, methods) in the sense of R's SimDesign:

* ``design``: a dict of factor lists (all combinations, the first factor varying slowest),
  a pandas DataFrame of cells, or a list of dicts;
* ``generate(cell, rng) -> data``: one simulated data set for a cell, drawn from ``rng``
  (a :class:`numpy.random.Generator` on the replication's own stream, see ``seeds.py``);
* ``methods``: ``{name: method}``, each a callable ``(data, cell) -> dict`` of scalar outputs
  (estimates, standard errors, angles, rewards ...), or a scikit-learn style estimator
  (wrapped by :class:`EstimatorMethod`).  A callable that takes a third argument ``rng``
  gets a stream of its own.

Each replication draws one data set and applies every method to it (common random numbers
across methods, so paired comparisons between methods are sharp).  Per method the runner
records the outputs, the fit time (``seconds``, the one output that is not reproducible),
errors (message and traceback) and warnings, each event with the seed record that
reproduces it (:meth:`Study.reproduce`).  A replication fails when ``generate`` or any
method raises; a cell stops after ``max_failures`` failed replications (a runaway cell
cannot eat the study's time).  Which replications of a stopped cell ran may depend on the
back-end's timing; every replication that did run is still reproducible bit for bit.

Work is shipped in chunks of replications of one cell, the cells taken round robin (an
interrupted study has every cell partly done).  ``chunk_size="auto"`` starts with
single replications, then sizes chunks to about ``target_seconds`` of work from the mean
time per replication measured so far (bounded so that the last chunks still spread over
the workers).  The study specification is pickled once (cloudpickle) and unpickled once
per worker process.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
import os
import sys
import time
import traceback
import warnings
from collections.abc import Mapping

import numpy as np

from .backends import get_backend
from .progress import Progress
from .seeds import (canonical, cell_key, method_seed, replication_seed, rng_from_record,
                    root_entropy, seed_record)
from .storage import StudyStore

__all__ = ["Study", "EstimatorMethod", "run_chunk", "run_replication", "load_results",
           "load_events", "store_status"]

_GENERATE = "<generate>"
_MAX_WARNINGS = 10  # warning records kept per (replication, method); the rest are counted


# ---------------------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------------------
class EstimatorMethod:
    """Wrap an unfitted scikit-learn style index estimator as a study method.

    ``data`` must be a mapping with the regressors under ``X`` and the outcome under ``y``;
    when it holds the true direction under ``truth``, the output ``angle`` (degrees) is
    added.  Outputs: ``b1 .. bd`` (``coef_``), ``se1 .. sed`` (``result_.std_errors`` when
    the estimator has a results object), ``converged`` (``converged_``, True when absent)
    and ``angle``.  An estimator with a ``random_state`` parameter gets an int drawn from
    the method's own stream.
    """

    def __init__(self, estimator, *, X="X", y="y", truth="coef"):
        if not hasattr(estimator, "fit"):
            raise TypeError(f"EstimatorMethod needs an estimator with fit; got {estimator!r}.")
        self.estimator = estimator
        self.X, self.y, self.truth = X, y, truth

    def __call__(self, data, cell, rng=None):
        from sklearn.base import clone

        from .binary import angle

        est = clone(self.estimator)
        if rng is not None and "random_state" in est.get_params():
            est.set_params(random_state=int(rng.integers(2**31 - 1)))
        est.fit(data[self.X], data[self.y])
        coef = np.asarray(est.coef_, dtype=float).ravel()
        out = {f"b{j + 1}": float(c) for j, c in enumerate(coef)}
        res = getattr(est, "result_", None)
        if res is not None:
            out.update({f"se{j + 1}": float(s) for j, s in enumerate(res.std_errors)})
        out["converged"] = bool(getattr(est, "converged_", True))
        if self.truth in data:
            out["angle"] = angle(coef, data[self.truth])
        return out


def _takes_rng(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "rng" in params


def _scalar(name, key, value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.size == 1:
        return _scalar(name, key, value.reshape(-1)[0])
    raise TypeError(f"Method {name!r} returned a non-scalar output {key!r} "
                    f"({type(value).__name__}); outputs must be scalars.")


# ---------------------------------------------------------------------------------------
# the worker side: one chunk of replications of one cell
# ---------------------------------------------------------------------------------------
_SPEC_CACHE: dict = {}


def _cloudpickle():
    """cloudpickle (a dependency of joblib >= 1.5; vendored by older joblib)."""
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - old joblib
        from joblib.externals import cloudpickle
    return cloudpickle


def _load_spec(blob: bytes, digest: str):
    spec = _SPEC_CACHE.get(digest)
    if spec is None:
        spec = _cloudpickle().loads(blob)
        _SPEC_CACHE.clear()
        _SPEC_CACHE[digest] = spec
    return spec


def _warning_events(name, caught, seed):
    evs = [(name, "warning", w.category.__name__, str(w.message),
            f"{w.filename}:{w.lineno}", seed) for w in caught[:_MAX_WARNINGS]]
    if len(caught) > _MAX_WARNINGS:
        evs.append((name, "warning", "Omitted", f"{len(caught) - _MAX_WARNINGS} more "
                    "warnings", None, seed))
    return evs


def run_replication(spec, cell, key, entropy, rep) -> dict:
    """Run one replication (data, then every method); never raises for user errors."""
    generate, methods, takes_rng = spec
    ss = replication_seed(entropy, key, rep)
    seed = _LazySeed(ss)
    rows, events, failed = [], [], False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = generate(dict(cell), np.random.default_rng(ss))
        events += _warning_events(_GENERATE, caught, seed)
    except Exception as err:
        msg = f"{type(err).__name__}: {err}"
        events.append((_GENERATE, "error", type(err).__name__, msg, traceback.format_exc(),
                       seed))
        rows = [(name, False, None, json.dumps({"error": "generate: " + msg}))
                for name in methods]
        events = [(*ev[:5], str(ev[5])) for ev in events]
        return {"rep": rep, "failed": True, "rows": rows, "events": events}
    for name, method in methods.items():
        kw = {}
        if takes_rng[name]:
            kw["rng"] = np.random.default_rng(method_seed(entropy, key, rep, name))
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = method(data, dict(cell), **kw)
                secs = time.perf_counter() - t0
                if not isinstance(out, Mapping):
                    raise TypeError(f"Method {name!r} must return a dict of scalars; got "
                                    f"{type(out).__name__}.")
                out = {str(k): _scalar(name, k, v) for k, v in out.items()}
            events += _warning_events(name, caught, seed)
            rows.append((name, True, secs, json.dumps(out)))
        except Exception as err:
            secs = time.perf_counter() - t0
            msg = f"{type(err).__name__}: {err}"
            events.append((name, "error", type(err).__name__, msg, traceback.format_exc(),
                           seed))
            rows.append((name, False, secs, json.dumps({"error": msg})))
            failed = True
    if events:
        events = [(*ev[:5], str(ev[5])) for ev in events]
    return {"rep": rep, "failed": failed, "rows": rows, "events": events}


class _LazySeed:
    """The JSON seed record of a replication, written only if an event needs it."""

    __slots__ = ("ss",)

    def __init__(self, ss):
        self.ss = ss

    def __str__(self):
        return json.dumps(seed_record(self.ss))


def run_chunk(task):
    """Worker entry point: ``task = (blob, digest, cell_id, cell, key, entropy, reps,
    budget)``; runs the replications in order, stopping once ``budget`` of them failed.
    Returns ``(cell_id, records, elapsed_seconds)``."""
    blob, digest, cell_id, cell, key, entropy, reps, budget = task
    spec = _load_spec(blob, digest)
    t0 = time.perf_counter()
    records, nfail = [], 0
    for rep in reps:
        rec = run_replication(spec, cell, key, entropy, rep)
        records.append(rec)
        nfail += rec["failed"]
        if budget is not None and nfail >= budget:
            break
    return cell_id, records, time.perf_counter() - t0


def _pickle_spec(spec) -> bytes:
    """cloudpickle the spec; user callables from modules outside installed packages (scripts,
    test files) travel by value so that workers need not import them."""
    cloudpickle = _cloudpickle()
    generate, methods, _ = spec
    registered = []
    sp = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
    here = os.path.realpath(os.path.dirname(os.path.dirname(__file__)))
    for fn in [generate, *methods.values()]:
        mod = sys.modules.get(getattr(fn, "__module__", None) or type(fn).__module__)
        path = os.path.realpath(getattr(mod, "__file__", None) or "")
        if (mod is not None and path and mod.__name__ != "__main__"
                and mod not in registered
                and not any(path.startswith(p + os.sep) for p in sp | {here})):
            try:
                cloudpickle.register_pickle_by_value(mod)
                registered.append(mod)
            except ValueError:
                pass
    try:
        return cloudpickle.dumps(spec)
    finally:
        for mod in registered:
            try:
                cloudpickle.unregister_pickle_by_value(mod)
            except ValueError:  # pragma: no cover - unregistered elsewhere meanwhile
                pass


# ---------------------------------------------------------------------------------------
# the design
# ---------------------------------------------------------------------------------------
def _cells_of(design) -> tuple:
    """``(factor names, list of cell dicts)`` from a dict of lists, DataFrame or records."""
    import pandas as pd

    if isinstance(design, pd.DataFrame):
        if design.columns.duplicated().any():
            raise ValueError("The design has duplicated column names.")
        factors = [str(c) for c in design.columns]
        cells = [dict(zip(factors, row)) for row in design.itertuples(index=False, name=None)]
    elif isinstance(design, Mapping):
        factors = [str(k) for k in design]
        levels = []
        for k, v in design.items():
            if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
                raise TypeError(f"Design factor {k!r} must be a list of levels; got {v!r}.")
            v = list(v)
            if not v:
                raise ValueError(f"Design factor {k!r} has no levels.")
            levels.append(v)
        cells = [dict(zip(factors, combo)) for combo in itertools.product(*levels)]
    elif isinstance(design, (list, tuple)) and all(isinstance(c, Mapping) for c in design):
        factors = list(dict.fromkeys(str(k) for c in design for k in c))
        cells = [{f: c.get(f) for f in factors} for c in design]
    else:
        raise TypeError("design must be a dict of factor lists, a DataFrame of cells or a "
                        f"list of dicts; got {type(design).__name__}.")
    if not cells:
        raise ValueError("The design has no cells.")
    cells = [{f: canonical(v) for f, v in c.items()} for c in cells]
    keys = [cell_key(c) for c in cells]
    if len(set(keys)) != len(keys):
        raise ValueError("The design has duplicated cells.")
    return factors, cells


# ---------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------
class Study:
    """A simulation study: design x replications x methods.

    Parameters
    ----------
    design : dict of lists, DataFrame or list of dicts
    generate : callable ``(cell, rng) -> data``
    methods : dict ``{name: callable (data, cell[, rng]) -> dict}`` or estimators
    replications : int
        Replications per cell.
    seed : int, SeedSequence or None
        Root of every stream; ``None`` draws one (stored with the results).
    max_failures : int or None, default=50
        A cell stops after this many failed replications (``None``: never).
    common_random_numbers : sequence of factor names, default=()
        Cells that differ only in these factors share their random streams.
    summary : dict, default=None
        Default keyword arguments of :func:`semiparam.simulate.summarize` for this study
        (JSON-ready: it is stored with the results so that the command line can use it).
    name : str, default="study"
    """

    def __init__(self, design, generate, methods, replications, seed=None, *,
                 max_failures=50, common_random_numbers=(), summary=None, name="study"):
        self.factors, self.cells = _cells_of(design)
        if not callable(generate):
            raise TypeError("generate must be a callable (cell, rng) -> data.")
        if not isinstance(methods, Mapping) or not methods:
            raise TypeError("methods must be a non-empty dict {name: callable or estimator}.")
        self.methods = {}
        for mname, m in methods.items():
            if not isinstance(mname, str) or not mname or mname == _GENERATE:
                raise ValueError(f"Invalid method name {mname!r}.")
            if hasattr(m, "fit") and not callable(m):
                m = EstimatorMethod(m)
            if not callable(m):
                raise TypeError(f"Method {mname!r} is neither callable nor an estimator.")
            self.methods[mname] = m
        if (not isinstance(replications, (int, np.integer)) or isinstance(replications, bool)
                or replications < 1):
            raise ValueError(f"replications must be a positive int; got {replications!r}.")
        self.replications = int(replications)
        if max_failures is not None and (not isinstance(max_failures, int) or max_failures < 1):
            raise ValueError(f"max_failures must be a positive int or None; got "
                             f"{max_failures!r}.")
        self.max_failures = max_failures
        crn = tuple(common_random_numbers)
        unknown = set(crn) - set(self.factors)
        if unknown:
            raise ValueError(f"common_random_numbers names unknown factors {sorted(unknown)}; "
                             f"the design has {self.factors}.")
        self.common_random_numbers = crn
        self.generate = generate
        self.summary = dict(summary or {})
        self.name = str(name)
        self.seed = seed
        self.entropy = root_entropy(seed)
        self.keys = [cell_key(c, exclude=crn) for c in self.cells]
        # the store's identity of a cell is its full content (with the CRN factors)
        self._ids = [cell_key(c) for c in self.cells]
        self._store = None
        self._takes_rng = {n: _takes_rng(m) for n, m in self.methods.items()}

    # -- helpers -------------------------------------------------------------------------
    def __repr__(self):
        return (f"Study(name={self.name!r}, cells={len(self.cells)}, "
                f"methods={list(self.methods)}, replications={self.replications})")

    def _meta(self) -> dict:
        return {"entropy": str(self.entropy), "methods": list(self.methods),
                "factors": self.factors, "replications": self.replications,
                "common_random_numbers": list(self.common_random_numbers),
                "max_failures": self.max_failures, "summary": self.summary,
                "name": self.name}

    def _open(self, store):
        st = StudyStore(store)
        meta = st.get_meta()
        if meta:
            if meta["methods"] != list(self.methods):
                raise ValueError(f"The store at {st.path!r} holds a study with methods "
                                 f"{meta['methods']}, not {list(self.methods)}.")
            stored = int(meta["entropy"])
            if self.seed is None:
                self.entropy = stored
            elif stored != self.entropy:
                raise ValueError(f"The store at {st.path!r} was run with seed {stored}, not "
                                 f"{self.entropy}; use another store or the same seed.")
            if meta.get("common_random_numbers", []) != list(self.common_random_numbers):
                raise ValueError("The store was run with common_random_numbers="
                                 f"{meta['common_random_numbers']}.")
        st.set_meta(**self._meta())
        return st

    @property
    def store(self) -> StudyStore:
        if self._store is None:
            raise RuntimeError("The study has not been run; call run() first.")
        return self._store

    # -- running -------------------------------------------------------------------------
    def run(self, backend="serial", n_workers=None, *, store=None, address=None,
            chunk_size="auto", target_seconds=0.5, progress=True):
        """Run every replication not yet in ``store`` (all of them for a new store).

        Parameters
        ----------
        backend : {"serial", "loky", "dask", "ray"}
        n_workers : int, default=None
            Worker processes (default: the CPU count; 1 for serial).
        store : path or None
            SQLite file or directory; an earlier run there is resumed.  ``None``: the store
            of this study's previous run, or a new one in memory (this session only).
        address : str, default=None
            Scheduler address (dask: ``tcp://host:8786``; ray: ``auto`` or ``ray://...``).
        chunk_size : int or "auto"
        target_seconds : float
            Work per chunk aimed at by ``chunk_size="auto"``.
        progress : bool

        Returns
        -------
        self
        """
        if chunk_size != "auto" and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size must be 'auto' or a positive int; got {chunk_size!r}.")
        if self._store is not None and store is None:
            st = self._store  # rerun into the same in-memory store
        else:
            if self._store is not None:
                self._store.close()
            st = self._store = self._open(store)
        ids = st.register_cells(self._ids, [json.dumps(c) for c in self.cells])
        done, fails = st.done(), st.failures()
        todo = {}
        for i, cid in enumerate(ids):
            reps = [r for r in range(self.replications) if r not in done.get(cid, ())]
            if reps:
                todo[i] = reps
        total = sum(map(len, todo.values()))
        if total == 0:
            return self
        blob = _pickle_spec((self.generate, self.methods, self._takes_rng))
        digest = hashlib.sha256(blob).hexdigest()
        cap = self.max_failures
        bar = Progress(total, enabled=progress, desc=self.name)
        timing = {"reps": 0, "seconds": 0.0}
        self.stopped_ = []

        with get_backend(backend, n_workers=n_workers, address=address) as be:
            remaining = [total]

            def size_now(left):
                if chunk_size != "auto":
                    return max(1, min(chunk_size, left))
                if timing["reps"] == 0:
                    return 1
                per = timing["seconds"] / timing["reps"]
                size = int(target_seconds / max(per, 1e-9))
                size = min(size, math.ceil(remaining[0] / (2 * be.n_workers)))
                return max(1, min(size, left))

            def tasks():
                # round robin over the cells, one chunk each per round: an interrupted
                # study has every cell partly done rather than the last cells not at all
                pos = {i: 0 for i in todo}
                while pos:
                    for i in list(pos):
                        reps, cid = todo[i], ids[i]
                        if cap is not None and fails.get(cid, 0) >= cap:
                            self.stopped_.append(i)
                            left = len(reps) - pos.pop(i)
                            remaining[0] -= left
                            bar.skip(left)
                            continue
                        size = size_now(len(reps) - pos[i])
                        chunk = reps[pos[i]:pos[i] + size]
                        pos[i] += size
                        if pos[i] >= len(reps):
                            del pos[i]
                        budget = None if cap is None else cap - fails.get(cid, 0)
                        yield (blob, digest, cid, self.cells[i], self.keys[i],
                               self.entropy, chunk, budget)

            try:
                for _task, (cid, records, elapsed) in be.imap_unordered(run_chunk, tasks()):
                    st.write_chunk(cid, records)
                    nf = sum(r["failed"] for r in records)
                    fails[cid] = fails.get(cid, 0) + nf
                    timing["reps"] += len(records)
                    timing["seconds"] += elapsed
                    remaining[0] -= len(records)
                    bar.update(len(records))
            finally:
                bar.close()
        return self

    # -- reading -------------------------------------------------------------------------
    def results(self):
        """One row per (cell, replication, method): the factors, ``rep``, ``method``, the
        outputs as columns, ``seconds``, ``error`` (message or None) and ``n_warnings``.
        Rows follow the design's order, then the replication, then the methods' order."""
        return load_results(self.store, cell_order=self._ids, methods=list(self.methods),
                            factors=self.factors, replications=self.replications)

    def errors(self):
        """Errors and warnings recorded, one row each, with the seed record reproducing them."""
        return load_events(self.store, factors=self.factors)

    def status(self):
        """Per cell: target, finished and failed replications, and whether it stopped."""
        return store_status(self.store, replications=self.replications,
                            cell_order=self._ids)

    def summarize(self, **overrides):
        """:func:`semiparam.simulate.summarize` of the results with this study's defaults."""
        from .mcse import summarize

        kw = {**self.summary, **overrides}
        return summarize(self.results(), **kw)

    def reproduce(self, cell, rep, methods=None):
        """Rerun replication ``rep`` of ``cell`` (an index into the design or a dict) here,
        in this process; returns ``(data, {method: outputs})``.  Errors propagate."""
        i = cell if isinstance(cell, (int, np.integer)) else self._ids.index(
            cell_key({f: canonical(cell[f]) for f in self.factors}))
        c, key = self.cells[i], self.keys[i]
        rng = rng_from_record(seed_record(replication_seed(self.entropy, key, rep)))
        data = self.generate(dict(c), rng)
        outs = {}
        for name in methods or self.methods:
            kw = {}
            if self._takes_rng[name]:
                kw["rng"] = np.random.default_rng(method_seed(self.entropy, key, rep, name))
            outs[name] = self.methods[name](data, dict(c), **kw)
        return data, outs


# ---------------------------------------------------------------------------------------
# reading a store without the study object (the command line)
# ---------------------------------------------------------------------------------------
def _as_store(store):
    return store if isinstance(store, StudyStore) else StudyStore(store, create=False)


def load_results(store, *, cell_order=None, methods=None, factors=None, replications=None):
    """The results DataFrame of a store (path or :class:`StudyStore`); see
    :meth:`Study.results`.  ``replications`` keeps replications ``0 .. R-1`` only (a store
    may hold more from an earlier, larger run); default: the stored study's count."""
    import pandas as pd

    st = _as_store(store)
    meta = st.get_meta()
    methods = methods or meta.get("methods", [])
    factors = factors or meta.get("factors", [])
    nrep = replications or meta.get("replications") or float("inf")
    cells = {cid: (key, cell) for cid, key, cell in st.cells()}
    rank = ({k: i for i, k in enumerate(cell_order)} if cell_order is not None else None)
    mrank = {m: i for i, m in enumerate(methods)}
    nwarn: dict = {}
    for cid, rep, method, kind, *_ in st.event_rows():
        if kind == "warning":
            nwarn[(cid, rep, method)] = nwarn.get((cid, rep, method), 0) + 1
    recs = []
    for cid, rep, method, ok, secs, outputs in st.result_rows():
        key, cell = cells[cid]
        if (rank is not None and key not in rank) or rep >= nrep:
            continue
        out = json.loads(outputs)
        err = out.pop("error", None) if not ok else None
        recs.append(((rank[key] if rank is not None else cid, rep, mrank.get(method, 1e9)),
                     {**cell, "rep": rep, "method": method, **out, "seconds": secs,
                      "error": err, "n_warnings": nwarn.get((cid, rep, method), 0)}))
    recs.sort(key=lambda t: t[0])
    df = pd.DataFrame([r for _, r in recs])
    if df.empty:
        df = pd.DataFrame(columns=[*factors, "rep", "method", "seconds", "error",
                                   "n_warnings"])
    tail = ["seconds", "error", "n_warnings"]
    cols = [*factors, "rep", "method"]
    cols += [c for c in df.columns if c not in cols and c not in tail] + tail
    df = df[cols].reset_index(drop=True)
    df.attrs["factors"] = list(factors)
    df.attrs["methods"] = list(methods)
    return df


def load_events(store, *, factors=None):
    """Errors and warnings of a store, one row each (with the seed that reproduces them)."""
    import pandas as pd

    st = _as_store(store)
    cells = {cid: cell for cid, _, cell in st.cells()}
    rows = [{**cells[cid], "rep": rep, "method": m, "kind": kind, "category": cat,
             "message": msg, "traceback": tb, "seed": json.loads(seed) if seed else None}
            for cid, rep, m, kind, cat, msg, tb, seed in st.event_rows()]
    return pd.DataFrame(rows, columns=[*(factors or st.get_meta().get("factors", [])),
                                       "rep", "method", "kind", "category", "message",
                                       "traceback", "seed"])


def store_status(store, *, replications=None, cell_order=None):
    """Per cell: ``target``, ``done``, ``failed``, ``stopped`` (failures reached the cap)."""
    import pandas as pd

    st = _as_store(store)
    meta = st.get_meta()
    target = replications or meta.get("replications", 0)
    cap = meta.get("max_failures")
    done, fails = st.done(), st.failures()
    rank = ({k: i for i, k in enumerate(cell_order)} if cell_order is not None else None)
    rows = []
    for cid, key, cell in st.cells():
        if rank is not None and key not in rank:
            continue
        nd = sum(1 for r in done.get(cid, ()) if r < target)
        nf = int(fails.get(cid, 0) or 0)
        rows.append((rank[key] if rank is not None else cid,
                     {**cell, "target": target, "done": nd, "failed": nf,
                      "stopped": bool(cap is not None and nf >= cap and nd < target)}))
    rows.sort(key=lambda t: t[0])
    return pd.DataFrame([r for _, r in rows])
