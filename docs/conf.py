"""Sphinx configuration of the django-eventx documentation.

Build it from the repository root (the ``docs`` extra installs Sphinx)::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent / "_ext")]

# autodoc imports the package, and the management command's parser is built
# by Django: a minimal project, with nothing of it on disk.
settings.configure(
    SECRET_KEY="docs",
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "eventx_signals",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
)
django.setup()

import eventx_signals  # noqa: E402  (after django.setup())

project = "django-eventx"
author = "The django-eventx authors"
copyright = "2026, The django-eventx authors"
release = eventx_signals.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinxarg.ext",
]
templates_path: list[str] = []
exclude_patterns = ["_build"]
root_doc = "index"

# Every reference into this project must resolve; names of Django, Python and
# the other libraries are not linked (no inventories are fetched).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!eventx_signals\b).*"),
    # The type variables of decorators (``F``): not documented.
    (r"py:class", r"eventx_signals\.[\w.]+\.[A-Z]"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}

html_theme = "furo"
html_title = f"django-eventx {release}"
html_static_path: list[str] = []
# Straight quotes and ellipses only: ``--days`` in a help text stays two dashes.
smartquotes_action = "qe"

# Links out of the site are not checked (CI has no network); links between
# its pages, and anchors, are.
linkcheck_ignore = [
    r"https?://",
    # Not a link: the codemod's help shows its review lines, "file:line: ...".
    r"^file:line$",
]
linkcheck_anchors = True


def setup(app: object) -> None:
    # ``.. setting::`` and ``:setting:``, as in Django's own documentation.
    app.add_crossref_type("setting", "setting", indextemplate="pair: %s; setting")  # type: ignore[attr-defined]
