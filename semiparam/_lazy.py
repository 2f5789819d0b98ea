"""Lazy package exports: a name is imported from its home module on first access.

``__getattr__, __dir__ = lazy_exports(__name__, {"Name": "module", ...})`` in a package's
``__init__`` keeps ``import semiparam.<package>`` cheap (PEP 562).
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, homes: dict):
    """Module-level ``__getattr__`` and ``__dir__`` serving ``homes`` (name -> submodule)."""

    def __getattr__(name):
        if name in homes:
            return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(homes)

    return __getattr__, __dir__
