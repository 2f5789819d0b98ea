"""Every ``python`` block of the user guide (``docs/user_guide.md``) runs, in order, in one
namespace, as a reader pasting them into a notebook would.

A block whose first line is ``# requires: Class.attribute`` needs a feature that another
part of the library provides; it is skipped (and reported) while that attribute is
missing, and runs as soon as it exists.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user_guide.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
REQUIRES = re.compile(r"#\s*requires:\s*(\w+)\.(\w+)")


def _blocks():
    return BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


def _available(cls_name: str, attr: str) -> bool:
    for pkg in ("semiparam.index", "semiparam.policy", "semiparam.links"):
        mod = importlib.import_module(pkg)
        if cls_name in getattr(mod, "__all__", ()):
            return hasattr(getattr(mod, cls_name), attr)
    return False


def test_the_guide_has_recipes():
    assert len(_blocks()) >= 8


def test_user_guide_recipes_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files the recipes write land here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the thread-settings recipe sets NUMBA_NUM_THREADS (setdefault) for a fresh process;
    # here numba is running already and refuses a new value: pin it to the running one
    # (restored after the test)
    import numba

    monkeypatch.setenv("NUMBA_NUM_THREADS", str(numba.config.NUMBA_NUM_THREADS))
    namespace: dict = {}
    skipped = []
    for i, code in enumerate(_blocks()):
        need = REQUIRES.search(code.splitlines()[0]) if code.strip() else None
        if need and not _available(*need.groups()):
            skipped.append(f"block {i}: needs {need.group(1)}.{need.group(2)}")
            continue
        try:
            exec(compile(code, f"{GUIDE.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - report which recipe broke
            raise AssertionError(f"user guide block {i} failed:\n{code}") from exc
    if skipped:
        print("skipped:", "; ".join(skipped))
