"""A study killed with SIGKILL at random points and rerun ends with exactly the results of an
uninterrupted run: nothing lost, nothing duplicated."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from semiparam.simulate import load_results
from semiparam.simulate.storage import StudyStore

SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    from semiparam.simulate import Study

    def gen(cell, rng):
        return rng.normal(cell["mu"], 1.0, size=cell["n"])

    def slow_mean(data, cell):
        time.sleep(0.003)
        return {"est": data.mean(), "sd": data.std(ddof=1)}

    def make():
        return Study({"n": [10, 30], "mu": [0.0, 0.5]}, gen,
                     {"mean": slow_mean, "first": lambda d, c: {"x0": d[0]}}, 60, 11)

    if __name__ == "__main__":
        make().run(store=sys.argv[1], chunk_size=int(sys.argv[2]), progress=False)
        print("finished")
""")

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _done(store):
    """Replications stored so far (read while the study writes: WAL readers do not block)."""
    path = store / "study.sqlite"
    if not path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM replications").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def _strip(df):
    return df.drop(columns=["seconds"]).reset_index(drop=True)


def test_sigkill_at_random_points_then_resume(tmp_path):
    script = tmp_path / "spec.py"
    script.write_text(SCRIPT)
    store = tmp_path / "store"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rng = np.random.default_rng(0)
    kills, finished, progress = 0, False, []
    for attempt in range(12):
        proc = subprocess.Popen([sys.executable, str(script), str(store), "3"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if attempt < 4:
            # wait until this run has stored something new, then kill at a random moment
            before = progress[-1] if progress else 0
            t_end = time.time() + 60
            while time.time() < t_end and proc.poll() is None:
                if _done(store) > before:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.1))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        out, err = proc.communicate(timeout=120)
        st = StudyStore(store)
        progress.append(sum(len(v) for v in st.done().values()))
        st.close()
        if proc.returncode == 0 and b"finished" in out:
            finished = True
            break
    assert finished, err.decode()
    assert kills >= 3
    assert progress[-1] == 4 * 60
    assert any(0 < p < 4 * 60 for p in progress[:-1]), progress  # killed mid-study
    resumed = _strip(load_results(str(store)))
    # the reference: one uninterrupted run in memory
    ns = {}
    exec(compile(SCRIPT, "spec", "exec"), ns)
    ref = _strip(ns["make"]().run(progress=False).results())
    assert len(resumed) == len(ref) == 4 * 60 * 2
    assert not resumed.duplicated(["n", "mu", "rep", "method"]).any()
    assert resumed.equals(ref)
