"""The study runner: seeds, results, errors and warnings, the failure cap, resume, and
bit-for-bit agreement across back-ends (serial, loky, dask LocalCluster, ray local)."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from semiparam.exceptions import ConvergenceWarning
from semiparam.simulate import Study, load_results, store_status
from semiparam.simulate.seeds import cell_key, replication_seed, rng_from_record

DESIGN = {"n": [5, 40], "mu": [0.0, 1.0]}


def gen(cell, rng):
    return rng.normal(cell["mu"], 1.0, size=cell["n"])


def mean_method(data, cell):
    return {"est": data.mean(), "se": data.std(ddof=1) / np.sqrt(data.size)}


def median_method(data, cell, rng):
    # its own stream: a jitter that must be reproducible too
    if cell["n"] == 5 and data[0] > 1.2:
        raise RuntimeError("deliberate failure")
    if data[1] > 1.0:
        warnings.warn("deliberate warning", ConvergenceWarning)
    return {"est": float(np.median(data)) + 1e-9 * rng.random(), "big": bool(data[0] > 0)}


def make(reps=6, seed=7, **kw):
    return Study(DESIGN, gen, {"mean": mean_method, "median": median_method}, reps, seed, **kw)


def _strip(df):
    return df.drop(columns=["seconds"]).reset_index(drop=True)


def test_results_layout_and_values():
    s = make().run(progress=False)
    r = s.results()
    assert len(r) == 4 * 6 * 2
    assert list(r.columns[:4]) == ["n", "mu", "rep", "method"]
    assert {"est", "se", "big", "seconds", "error", "n_warnings"} <= set(r.columns)
    assert r.attrs["factors"] == ["n", "mu"]
    # the rows are the methods applied to the data of the replication's own stream
    cell = {"n": 40, "mu": 1.0}
    data = gen(cell, np.random.default_rng(replication_seed(s.entropy, cell_key(cell), 3)))
    row = r[(r.n == 40) & (r.mu == 1.0) & (r.rep == 3) & (r.method == "mean")].iloc[0]
    assert row["est"] == data.mean()  # bit for bit
    # order: design order, then replication, then methods
    assert r["method"].tolist()[:4] == ["mean", "median", "mean", "median"]
    assert r[["n", "mu"]].drop_duplicates().values.tolist() == [[5, 0.0], [5, 1.0],
                                                                [40, 0.0], [40, 1.0]]


def test_errors_and_warnings_recorded_with_reproducing_seed():
    s = make(reps=20).run(progress=False)
    r, ev = s.results(), s.errors()
    failed = r[r["error"].notna()]
    assert len(failed) > 0 and set(failed["method"]) == {"median"}
    assert failed["est"].isna().all()
    errs = ev[ev["kind"] == "error"]
    assert len(errs) == len(failed)
    assert errs["message"].str.contains("deliberate failure").all()
    assert errs["traceback"].str.contains("RuntimeError").all()
    # the recorded seed regenerates the failing data set
    e = errs.iloc[0]
    data = gen({"n": e["n"], "mu": e["mu"]}, rng_from_record(e["seed"]))
    assert data[0] > 1.2
    warns = ev[ev["kind"] == "warning"]
    assert (warns["category"] == "ConvergenceWarning").all() and len(warns) > 0
    assert r["n_warnings"].sum() == len(warns)
    # reproduce() reruns one replication here
    d2, outs = s.reproduce({"n": int(e["n"]), "mu": float(e["mu"])}, int(e["rep"]),
                           methods=["mean"])
    np.testing.assert_array_equal(d2, data)


def test_failure_cap_stops_a_runaway_cell():
    def always_fails(data, cell):
        if cell["n"] == 5:
            raise ValueError("nope")
        return {"x": 1.0}

    s = Study(DESIGN, gen, {"m": always_fails}, 30, 1, max_failures=4)
    s.run(progress=False, chunk_size=3)
    st = s.status()
    bad = st[st["n"] == 5]
    assert (bad["failed"] == 4).all() and bad["stopped"].all()
    assert (bad["done"] == 4).all()
    good = st[st["n"] == 40]
    assert (good["done"] == 30).all() and not good["stopped"].any()
    # a rerun does not retry a stopped cell; a larger cap continues it
    s.run(progress=False)
    assert (s.status()[lambda d: d["n"] == 5]["done"] == 4).all()


def test_resume_and_extension_keep_streams(tmp_path):
    full = _strip(make(reps=8).run(progress=False).results())
    path = tmp_path / "store"
    make(reps=3).run(store=path, progress=False)
    part = make(reps=8).run(store=path, progress=False)  # resumes: 5 more per cell
    assert _strip(part.results()).equals(full)
    # adding a cell leaves the others' numbers alone
    s3 = Study({"n": [5, 40, 80], "mu": [0.0, 1.0]}, gen,
               {"mean": mean_method, "median": median_method}, 8, 7)
    r3 = _strip(s3.run(store=path, progress=False).results())
    old = r3[r3["n"] != 80].reset_index(drop=True)
    assert old.equals(full)
    st = store_status(str(path))
    assert st["done"].sum() == 6 * 8
    assert _strip(load_results(str(path))).shape == r3.shape
    # a smaller study on the same store reads only its own replications 0 .. R-1
    small = make(reps=5).run(store=path, progress=False)
    assert _strip(small.results()).equals(
        full[full["rep"] < 5].reset_index(drop=True))
    assert (small.status()["done"] == 5).all()


def test_store_identity_checks(tmp_path):
    make(reps=2).run(store=tmp_path, progress=False)
    with pytest.raises(ValueError, match="seed"):
        make(reps=2, seed=8).run(store=tmp_path, progress=False)
    other = Study(DESIGN, gen, {"mean": mean_method}, 2, 7)
    with pytest.raises(ValueError, match="methods"):
        other.run(store=tmp_path, progress=False)
    # seed=None adopts the stored seed
    s = Study(DESIGN, gen, {"mean": mean_method, "median": median_method}, 2)
    s.run(store=tmp_path, progress=False)
    assert s.entropy == 7


def test_common_random_numbers():
    s = Study({"shift": [0.0, 1.0], "k": [1, 2]}, lambda c, rng: rng.random(3),
              {"m": lambda d, c: {"u": d[0]}}, 3, 0, common_random_numbers=("shift",))
    r = s.run(progress=False).results()
    a = r[r["shift"] == 0.0]["u"].to_numpy()
    b = r[r["shift"] == 1.0]["u"].to_numpy()
    np.testing.assert_array_equal(a, b)  # same streams across shifts
    assert not np.array_equal(r[r.k == 1]["u"].to_numpy(), r[r.k == 2]["u"].to_numpy())


@pytest.mark.parametrize("bad, match", [
    (dict(design={"n": 5}), "list of levels"),
    (dict(design={"n": []}), "no levels"),
    (dict(design={"n": [1, 1]}), "duplicated"),
    (dict(design={"n": [float("nan")]}), "cannot be nan"),
    (dict(design={"n": [object()]}), "numbers, strings"),
    (dict(replications=0), "replications"),
    (dict(methods={}), "non-empty"),
    (dict(methods={"m": 3}), "neither callable"),
    (dict(seed=-1), "seed"),
    (dict(max_failures=0), "max_failures"),
    (dict(common_random_numbers=("zz",)), "unknown factors"),
])
def test_bad_input(bad, match):
    kw = dict(design=DESIGN, generate=gen, methods={"m": mean_method}, replications=2, seed=0)
    kw.update(bad)
    with pytest.raises((ValueError, TypeError), match=match):
        Study(**kw)


def test_bad_run_options_and_outputs():
    s = make(reps=1)
    with pytest.raises(ValueError, match="Unknown backend"):
        s.run("spark", progress=False)
    with pytest.raises(ValueError, match="chunk_size"):
        s.run(chunk_size=0, progress=False)
    with pytest.raises(RuntimeError, match="not been run"):
        make().results()
    s2 = Study({"a": [1]}, lambda c, rng: 1.0,
               {"vec": lambda d, c: {"x": np.arange(3)}, "notdict": lambda d, c: 3.0}, 1, 0)
    r = s2.run(progress=False).results()
    assert r["error"].str.contains("non-scalar").iloc[0]
    assert r["error"].str.contains("dict of scalars").iloc[1]


def test_estimator_methods_are_wrapped():
    from semiparam.index import LogitIndexClassifier
    from semiparam.simulate import make_single_index

    def g(cell, rng):
        X, y = make_single_index(cell["n"], [1.0, -0.5], link="logistic", random_state=rng)
        return {"X": X, "y": y, "coef": np.array([1.0, -0.5])}

    s = Study({"n": [400]}, g, {"logit": LogitIndexClassifier()}, 3, 0).run(progress=False)
    r = s.results()
    assert {"b1", "b2", "se1", "se2", "converged", "angle"} <= set(r.columns)
    assert (r["angle"] < 20).all() and r["converged"].all()


def test_progress_text_bar(capsys):
    from semiparam.simulate.progress import Progress

    p = Progress(10, desc="x", min_interval=0.0)
    p._bar = None  # the text fallback (used when tqdm is absent)
    for _ in range(10):
        p.update(1)
    p.close()
    err = capsys.readouterr().err
    assert "10/10" in err and "100.0%" in err
    q = Progress(10, desc="y", min_interval=0.0)
    q._bar = None
    q.update(4)
    q.skip(6)  # a stopped cell: the bar still ends at 100%
    q.close()
    assert "4/4" in capsys.readouterr().err


BACKENDS = ["loky", "dask", pytest.param("ray", marks=pytest.mark.ray)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_identical_bit_for_bit(backend, tmp_path):
    if backend == "dask":
        pytest.importorskip("distributed")
    if backend == "ray":
        pytest.importorskip("ray")
    ref = _strip(make(reps=10).run(progress=False).results())
    par = make(reps=10).run(backend, n_workers=2, store=tmp_path, progress=False)
    got = _strip(par.results())
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    # event records (errors, warnings, seeds) agree too
    a = make(reps=10).run(progress=False).errors().drop(columns="traceback")
    b = par.errors().drop(columns="traceback")
    key = ["n", "mu", "rep", "method", "kind", "message"]
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    assert a.drop(columns="seed").equals(b.drop(columns="seed"))
    assert [json.dumps(x) for x in a["seed"]] == [json.dumps(x) for x in b["seed"]]


def test_chunking_does_not_change_results():
    a = _strip(make(reps=9).run(progress=False, chunk_size=1).results())
    b = _strip(make(reps=9).run(progress=False, chunk_size=4).results())
    assert a.equals(b)


def test_design_as_dataframe_and_records():
    df = pd.DataFrame({"n": [5, 40], "mu": [1.0, 0.0]})
    a = Study(df, gen, {"mean": mean_method}, 2, 3).run(progress=False).results()
    b = Study([{"n": 5, "mu": 1.0}, {"n": 40, "mu": 0.0}], gen, {"mean": mean_method}, 2, 3)
    b = b.run(progress=False).results()
    assert _strip(a).equals(_strip(b))
    assert a[["n", "mu"]].drop_duplicates().values.tolist() == [[5, 1.0], [40, 0.0]]
    # the same cell in a grid design draws the same numbers (content, not position)
    c = make(reps=2, seed=3).run(progress=False).results()
    sel = c[(c.n == 5) & (c.mu == 1.0) & (c.method == "mean")]["est"].to_numpy()
    np.testing.assert_array_equal(a[a.n == 5]["est"].to_numpy(), sel)


def test_worker_entry_point_imports_stay_light():
    """A worker imports semiparam.simulate.study; that must not pull in scipy or the
    estimators (worker start-up is part of every parallel run's overhead)."""
    import subprocess
    import sys

    code = ("import sys, semiparam.simulate.study; "
            "print(sorted(m for m in ('scipy', 'sklearn', 'semiparam.index', 'pandas') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
