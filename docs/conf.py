"""Sphinx configuration of the skdistill documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    sphinx-build -W -b html docs docs/_build/html

The gallery runs every ``examples/plot_*.py`` in its ``--quick`` mode; the
full-size figures shown beside them are committed under ``examples/figures``.
"""

import os
import re
import sys

sys.path.insert(0, os.path.abspath("."))  # for gallery_argv below

import skdistill

project = "skdistill"
author = "the skdistill developers"
copyright = "2025-2026, the skdistill developers"
version = release = skdistill.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# API reference: one page per public name, generated from the numpydoc docstrings.
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False  # no intersphinx: the build must work offline
# Docstring checks that warn (and so fail the -W build) when a public docstring breaks
# them: every parameter documented, none unknown, a summary line, returns documented.
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR10", "RT01", "SS01", "GL02", "GL03"}
numpydoc_validation_exclude = {r"\.set_\w+_request$", r"\.__init__$"}

# The gallery: examples/plot_*.py, executed in their quick mode.
sphinx_gallery_conf = {
    "examples_dirs": os.path.join("..", "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|figures",
    "reset_argv": "gallery_argv.quick_argv",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skdistill {release}"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False


# Docstrings write shapes as scikit-learn's do, "ndarray of shape (n_features_in_,)".
# In reST a bare word ending in "_" is a link to a target of that name, which does not
# exist: escape the underscore of such a word before "," or ")" when it is not quoted.
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*)_(?=[,)])")


def _escape_trailing_underscores(app, what, name, obj, options, lines):
    lines[:] = [_TRAILING_UNDERSCORE.sub(r"\1\\_", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _escape_trailing_underscores, priority=100)
