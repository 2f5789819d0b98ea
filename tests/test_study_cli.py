"""The ``semiparam`` command and the two built-in studies (at toy sizes)."""

import subprocess
import sys

import numpy as np
import pytest

from semiparam.cli import main
from semiparam.simulate import binary_choice_study, policy_study

SPEC = """
import numpy as np
from semiparam.simulate import Study

def gen(cell, rng):
    return rng.normal(cell["mu"], 1.0, size=20)

def mean(d, c):
    if c["mu"] > 5:
        raise ValueError("too far")
    return {"est": d.mean(), "se": d.std(ddof=1) / np.sqrt(d.size)}

def make_study(mus=(0.0, 1.0), replications=5, seed=1):
    return Study({"mu": list(mus)}, gen, {"mean": mean, "half": lambda d, c: {"est": d[:10].mean()}},
                 replications, seed, max_failures=2,
                 summary={"estimate": "est", "se": "se", "true": "mu", "baseline": "mean"})
"""


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "spec.py"
    p.write_text(SPEC)
    return str(p)


def test_run_status_summarize_plot_errors(spec, tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["study", "run", spec, "--out", out, "--quiet", "--replications", "8"]) == 0
    assert "16 of 16 replications" in capsys.readouterr().out
    assert main(["study", "status", out]) == 0
    text = capsys.readouterr().out
    assert "16/16 replications done" in text
    assert main(["study", "summarize", out, "--measures", "bias,cover,relprec"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0] == "| mu | method | parameter | bias | cover | relprec |"
    html = tmp_path / "s.html"
    assert main(["study", "summarize", out, "--format", "html", "--output", str(html)]) == 0
    assert "<table" in html.read_text()
    for kind, extra in (("nested-loop", []), ("coverage", []), ("zip", ["--cell", "mu=1.0"])):
        png = tmp_path / f"{kind}.png"
        assert main(["study", "plot", out, "--kind", kind, "--output", str(png), *extra]) == 0
        assert png.stat().st_size > 1000
    assert main(["study", "errors", out]) == 0
    assert "no events" in capsys.readouterr().out
    # rerun with more replications resumes (only the new ones run)
    assert main(["study", "run", spec, "--out", out, "--quiet", "--replications", "10"]) == 0
    assert "20 of 20" in capsys.readouterr().out


def test_failure_cap_exit_status_and_errors(spec, tmp_path, capsys):
    out = str(tmp_path / "bad")
    code = main(["study", "run", spec, "--out", out, "--quiet", "--set", "mus=[0.0, 9.0]"])
    assert code == 1
    assert "stopped at the failure cap" in capsys.readouterr().err
    assert main(["study", "errors", out, "--tracebacks"]) == 0
    text = capsys.readouterr().out
    assert "ValueError" in text and "too far" in text and "spawn_key" in text


@pytest.mark.parametrize("argv, msg", [
    (["study", "status", "/nonexistent/place"], "No study store"),
    (["study", "run", "builtin:nope", "--out", "x"], "Unknown built-in"),
    (["study", "run", "missing.py", "--out", "x"], "No specification file"),
    (["study", "run", "builtin:policy", "--out", "x", "--set", "colour=1"], "Bad options"),
    (["study", "run", "builtin:policy", "--out", "x", "--set", "oops"], "KEY=VALUE"),
])
def test_user_errors_are_one_line(argv, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("semiparam: error:") and msg in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [[], ["study"], ["study", "run"], ["study", "plot"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2


@pytest.mark.parametrize("cmd", ["run", "status", "summarize", "plot", "errors"])
def test_help_everywhere(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main(["study", cmd, "--help"])
    assert e.value.code == 0
    assert "usage: semiparam study " + cmd in capsys.readouterr().out


def test_console_entry_point_runs():
    r = subprocess.run([sys.executable, "-m", "semiparam.cli", "--version"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("semiparam ")


def test_builtin_binary_choice_tiny():
    s = binary_choice_study(n=(300,), links=("cloglog",), designs=("non-elliptical",),
                            methods=("logit", "probit", "isotonic"), replications=3)
    r = s.run(progress=False).results()
    assert len(r) == 9 and r["error"].isna().all()
    assert {"b2", "b3", "se2", "se3", "angle", "converged"} <= set(r.columns)
    assert (r["angle"] < 45).all()
    summ = s.summarize()
    assert {"bias", "cover", "relprec", "angle_mean"} <= set(summ["measure"])
    with pytest.raises(ValueError, match="Unknown link"):
        binary_choice_study(links=("weird",))


def test_builtin_policy_tiny():
    s = policy_study(shifts=(0.0, 1.5), budgets=(0.1, 0.2), replications=2,
                     learners=("DPO", "PSPO"), data_kwargs={"n_pairs": 400, "n_test": 200})
    r = s.run(progress=False).results()
    assert set(r["method"]) == {"oracle", "DPO", "PSPO"}
    assert {"reward@0.1", "reward@0.2", "angle", "fit_seconds"} <= set(r.columns)
    # the oracle is best at every budget, and a larger budget buys more reward
    for _, g in r.groupby(["shift", "rep"]):
        g = g.set_index("method")
        assert (g.loc["oracle", "reward@0.2"] >= g["reward@0.2"] - 1e-12).all()
        assert (g["reward@0.2"] > g["reward@0.1"]).all()
    # common random numbers: every shift has the same contexts and teacher, so the
    # oracle (which does not see the labels) scores the same to the last bit
    orc = r[r["method"] == "oracle"].pivot(index="rep", columns="shift", values="reward@0.2")
    np.testing.assert_array_equal(orc[0.0].to_numpy(), orc[1.5].to_numpy())
    summ = s.summarize()
    assert {"mean", "gain"} <= set(summ["measure"])
    assert np.isfinite(summ["value"]).all()
