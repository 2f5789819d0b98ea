"""Run every gallery example (``examples/plot_*.py``) at small n.

Each example shrinks itself when ``SEMIPARAM_EXAMPLE_SMALL=1`` and draws with the Agg
backend; it runs in a fresh interpreter inside a temporary directory (so anything it
writes lands there).  An example that saves its figure to ``SEMIPARAM_EXAMPLE_OUTPUT``
(it mentions the variable) must actually write the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))
TIMEOUT = 240  # seconds per example at small n, generous for a loaded machine


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_at_small_n(script, tmp_path):
    figure = tmp_path / f"{script.stem}.png"
    env = dict(os.environ, SEMIPARAM_EXAMPLE_SMALL="1", MPLBACKEND="Agg",
               SEMIPARAM_EXAMPLE_OUTPUT=str(figure))
    root = str(script.parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode == 0 and proc.stdout.startswith("SKIP:"):
        pytest.skip(proc.stdout.strip())  # an optional extra (e.g. llm) is not installed
    assert proc.returncode == 0, (
        f"{script.name} failed:\n--- stdout ---\n{proc.stdout[-3000:]}\n"
        f"--- stderr ---\n{proc.stderr[-3000:]}")
    if "SEMIPARAM_EXAMPLE_OUTPUT" in script.read_text():
        assert figure.is_file() and figure.stat().st_size > 0, (
            f"{script.name} mentions SEMIPARAM_EXAMPLE_OUTPUT but wrote no figure")


def test_there_are_examples():
    assert EXAMPLES, "no examples/plot_*.py found"
