"""
The test suite and Django's own signal suites (``compat_tests/run.py``) on
every supported Python and Django pair, one virtualenv per pair::

    PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0 nox --error-on-missing-interpreters

    nox --list                           # the pairs
    nox -t django60                      # one Django on every Python it supports
    nox -t py312                         # one Python with every Django it supports
    nox -k "not (py311 and django52)"    # all but the README's pair
    nox -s "tests(python='3.12', django='6.0')" -- -x   # one pair; after --: pytest's

Only the pairs Django supports exist as sessions (Django 5.2: Python
3.10-3.13; Django 6.0 and 6.1: Python 3.12+). The commands get nox's
environment, so ``EVENTX_TEST_DATABASE_URL``, ``EVENTX_TEST_REDIS_URL`` and
``EVENTX_TEST_REQUIRE_SERVICES`` reach the tests as they are set. The
virtualenvs live in ``.venv-nox/`` (ignored by git) and are reused by the next
run; ``nox -N`` (``--no-reuse-existing-virtualenvs``) recreates them.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.envdir = ".venv-nox"

# Each supported Django release: the pip requirement that selects it, and the
# Pythons it supports.
DJANGO_RELEASES = {
    "5.2": (">=5.2,<6.0", ("3.10", "3.11", "3.12", "3.13")),
    "6.0": (">=6.0,<6.1", ("3.12", "3.13")),
    "6.1": (">=6.1,<6.2", ("3.12", "3.13")),
}
PYTHONS = ("3.10", "3.11", "3.12", "3.13")

PAIRS = [
    (python, django)
    for python in PYTHONS
    for django, (_, pythons) in DJANGO_RELEASES.items()
    if python in pythons
]


def _tag(prefix: str, version: str) -> str:
    return prefix + version.replace(".", "")


@nox.session(venv_backend="venv", reuse_venv=True)
@nox.parametrize(
    ("python", "django"),
    PAIRS,
    tags=[[_tag("py", python), _tag("django", django)] for python, django in PAIRS],
)
def tests(session: nox.Session, django: str) -> None:
    """pytest, then compat_tests/run.py, on one Python and Django pair."""
    requirement, _ = DJANGO_RELEASES[django]
    # One pip run, so the resolver keeps Django in range; --upgrade brings an
    # existing virtualenv to the release's latest patch version.
    session.install("--upgrade", "-e", ".[test]", f"Django{requirement}")
    session.run(
        "python",
        "-c",
        "import sys, django; "
        "print(f'== Python {sys.version.split()[0]}, Django {django.__version__}')",
    )
    session.run("python", "-m", "pytest", "-q", *session.posargs)
    session.run("python", "compat_tests/run.py")
