"""Sphinx configuration of the semiparam documentation site.

Build with ``make docs`` (installs the ``docs`` extra, builds with warnings as errors,
then checks the rendered HTML with ``docs/check_html.py``).  ``SEMIPARAM_EXAMPLE_SMALL=1``
runs the gallery examples at their small sizes (the quick mode CI uses).

The API reference is generated from the public packages' ``__all__``: every public
subpackage of :mod:`semiparam` (found by walking the package, underscored names
skipped) gets a page ``api/<package>.rst`` with an ``autosummary`` table of its
``__all__``, and autosummary writes one page per name.  A name added to an ``__all__``
therefore gets its page without editing the docs.  Optional dependencies are mocked so
that packages importing them (``semiparam.torch``) document without them installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import semiparam  # noqa: E402

project = "semiparam"
author = "semiparam developers"
copyright = "semiparam developers"
release = version = semiparam.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "generated/*.examples", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.json",
                    "auto_examples/*.md5"]
templates_path = ["_templates"]

# -- API pages from __all__ (see apipages.py) ------------------------------------------
sys.path.insert(0, str(HERE))
from apipages import MOCK_IMPORTS, write_api_pages  # noqa: E402

autodoc_mock_imports = MOCK_IMPORTS
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
write_api_pages(HERE / "api")

# -- gallery -------------------------------------------------------------------------
os.environ.setdefault("MPLBACKEND", "Agg")
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"demo\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "show_memory": False,
    "doc_module": ("semiparam",),
    "backreferences_dir": "generated/backreferences",
}

# -- cross-references ----------------------------------------------------------------
nitpicky = False
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"semiparam {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False


# -- members inherited from scikit-learn and torch are documented there -----------------
def _skip_sklearn_members(app, what, name, obj, skip, options):
    """Skip members defined by scikit-learn (``get_params``, ``set_fit_request``, ...) or
    by torch (the ``nn.Module`` methods of the torch adapter's modules)."""
    func = getattr(obj, "__func__", obj)
    module = getattr(func, "__module__", None) or ""
    qualname = getattr(func, "__qualname__", "") or ""
    if module.startswith(("sklearn.", "torch.")) or qualname.startswith("RequestMethod"):
        return True
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_members)
