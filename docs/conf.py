"""Sphinx configuration (``pip install -e .[docs]`` then ``sphinx-build docs docs/_build``)."""

project = "semiparam"
author = "semiparam developers"
release = "0.1.0"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
}
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
