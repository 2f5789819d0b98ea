"""The public API of semiparam, as the documentation sees it.

Used by ``conf.py`` (to write the API reference's source pages before Sphinx reads them)
and by ``check_html.py`` (to check that every public name has a rendered page).  The API
is read from the code: every public module directly under :mod:`semiparam` (no leading
underscore) and the names in its ``__all__`` (a module without ``__all__``: the public
names it defines itself).  Optional dependencies are mocked, so modules that import them
(``semiparam.torch``) are listed without them installed.
"""

from __future__ import annotations

import importlib
import inspect
import importlib.util
import pkgutil
from pathlib import Path

from sphinx.ext.autodoc.mock import mock

#: optional dependencies some modules import; mocked while the API is read and documented
#: optional dependencies mocked for autodoc, only where they are not installed (a mock of
#: an installed torch would also replace it for the gallery examples that run it)
MOCK_IMPORTS = [m for m in ["torch", "transformers", "trl", "datasets", "dask", "distributed",
                            "ray", "accelerate", "peft"]
                if importlib.util.find_spec(m) is None]


def public_packages() -> list[str]:
    """Public modules directly under :mod:`semiparam`, sorted."""
    import semiparam

    return sorted(f"semiparam.{info.name}" for info in pkgutil.iter_modules(semiparam.__path__)
                  if not info.name.startswith("_"))


def public_names(modname: str) -> list[str]:
    """The public names of a module: its ``__all__`` without submodules."""
    with mock(MOCK_IMPORTS):
        mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, obj in vars(mod).items()
                 if not n.startswith("_") and getattr(obj, "__module__", None) == modname]
    return [n for n in names if not inspect.ismodule(getattr(mod, n, None))]


def api_sources() -> dict[str, str]:
    """reStructuredText of ``api/index.rst`` and of one ``api/<package>.rst`` per package."""
    packages = public_packages()
    pages = {"index.rst": "\n".join([
        "API reference",
        "=============",
        "",
        "One page per public name, generated from each package's ``__all__``.",
        "",
        ".. toctree::",
        "   :maxdepth: 2",
        "",
        *[f"   {p}" for p in packages],
        "",
    ])}
    for pkg in packages:
        title = f"``{pkg}``"
        pages[f"{pkg}.rst"] = "\n".join([
            title,
            "=" * len(title),
            "",
            f".. automodule:: {pkg}",
            "   :no-members:",
            "",
            f".. currentmodule:: {pkg}",
            "",
            ".. autosummary::",
            "   :toctree: ../generated",
            "   :nosignatures:",
            "",
            *[f"   {n}" for n in public_names(pkg)],
            "",
        ])
    return pages


def write_api_pages(out: Path) -> None:
    """Write :func:`api_sources` into ``out`` (unchanged files are left alone)."""
    out.mkdir(exist_ok=True)
    pages = api_sources()
    for stale in out.glob("*.rst"):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        path = out / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
