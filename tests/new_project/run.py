"""
A new user's first contact, on the oldest and the newest supported Django.

For each, in a fresh virtualenv holding only what ``pip install`` of this
checkout brings (Django, wrapt and their own dependencies: no test or
type-checking package, which could patch Django and hide a crash), it makes a
``django-admin startproject`` site with the admin on and Django's default
``BigAutoField``, adds an app with one model, and follows the install
guide (``docs/howto/install.rst``): ``eventx_signals`` in
``INSTALLED_APPS`` and one ``EVENTX_ASYNC_SIGNALS`` entry. Then:

- ``manage.py check`` says nothing but that it found no issues;
- ``manage.py migrate`` prints no "not yet reflected in a migration" line, and
  ``makemigrations --check`` finds nothing to write;
- a ``save()`` returns while its ``post_save`` receiver is still running, on a
  worker thread;
- the admin's run log list loads for a superuser and shows that run.

Run from the repository root (``.ci/run`` does)::

    python tests/new_project/run.py            # both Django releases
    python tests/new_project/run.py 5.2        # one

Pythons are found on PATH (``python3.11`` for Django 5.2, ``python3.13``
for 6.1; pyenv: ``PYENV_VERSION=3.11.7:3.13.0``). A missing one fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Django release -> (its pip requirement, the Python to run it on).
RELEASES = {
    "5.2": ("Django>=5.2,<6.0", "python3.11"),
    "6.1": ("Django>=6.1,<6.2", "python3.13"),
}

#: Packages that must not be in the virtualenv: each patches Django or stands
#: in for an optional extra, and would hide what a bare install does.
NOT_INSTALLED = ("django_stubs_ext", "django_tasks", "django_tasks_db", "celery", "pytest")

MODELS = """\
from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20)
"""

RECEIVERS = """\
import threading

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Order

#: Set by the script once save() has returned; the receiver waits for it,
#: so a save() that waited for its receiver would never return.
saved = threading.Event()
ran_on = []


@receiver(post_save, sender=Order)
def confirm_order(sender, instance, created, **kwargs):
    ran_on.append(threading.current_thread().name)
    if not saved.wait(30):
        raise RuntimeError("save() did not return while its receiver ran")
"""

APPS = """\
from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self):
        from . import receivers  # noqa: F401
"""

SETTINGS = """

# django-eventx, as docs/howto/install.rst says.
INSTALLED_APPS += ["shop", "eventx_signals"]
EVENTX_ASYNC_SIGNALS = {"django.db.models.signals.post_save": ["shop.Order"]}
EVENTX_RECORD_RUNS = True
"""

FIRST_SAVE = """\
import threading

from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import setup_test_environment

from eventx_signals.runlog import writer
from eventx_signals.testing import wait_for_runs
from shop import receivers
from shop.models import Order

Order.objects.create(number="A-1")      # returns before confirm_order ends
receivers.saved.set()
wait_for_runs(timeout=30)
assert receivers.ran_on and receivers.ran_on[0].startswith("eventx-"), receivers.ran_on
assert receivers.ran_on[0] != threading.current_thread().name
writer.flush()

setup_test_environment()                # lets the test client's host in
admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
client = Client()
client.force_login(admin)
page = client.get("/admin/eventx_signals/receiverrun/")
assert page.status_code == 200, page.status_code
assert b"shop.receivers.confirm_order" in page.content, page.content[-2000:]
print("first save and admin: ok")
"""


class Failure(Exception):
    pass


def clean_environment() -> dict[str, str]:
    """This process's environment without what would make the new site see
    this checkout or another virtualenv instead of its own install."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    return env


def run(cmd: list[str], cwd: Path) -> str:
    """Run a command; return its output (stdout and stderr), or fail with it."""
    completed = subprocess.run(
        cmd, cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=600
    )
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited with {completed.returncode}:\n{output}")
    return output


def copy_of_checkout(destination: Path) -> Path:
    """The files of this checkout that git knows or would add, copied: a
    build from the checkout itself could pick up a stale ``build/``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def check_release(release: str, workdir: Path) -> None:
    requirement, python = RELEASES[release]
    if shutil.which(python) is None:
        raise Failure(f"{python} is not on PATH; Django {release} needs it.")
    venv = workdir / "venv"
    run([python, "-m", "venv", str(venv)], workdir)
    bin_dir = venv / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q"]
    run([*pip, str(copy_of_checkout(workdir / "source")), requirement], workdir)
    found = run(
        [
            str(bin_dir / "python"),
            "-c",
            "import importlib.util as u, sys; "
            f"print(' '.join(m for m in {NOT_INSTALLED!r} if u.find_spec(m)))",
        ],
        workdir,
    ).strip()
    if found:
        raise Failure(f"the virtualenv of a bare install holds {found}.")

    site = workdir / "site"
    site.mkdir()
    run([str(bin_dir / "django-admin"), "startproject", "mysite", "."], site)
    run([str(bin_dir / "python"), "manage.py", "startapp", "shop"], site)
    (site / "shop" / "models.py").write_text(MODELS)
    (site / "shop" / "receivers.py").write_text(RECEIVERS)
    (site / "shop" / "apps.py").write_text(APPS)
    settings = site / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS)

    manage = [str(bin_dir / "python"), "manage.py"]
    version = run([*manage, "version"], site).strip()
    print(f"== Django {version} on {python}")

    output = run([*manage, "check"], site).strip()
    if output != "System check identified no issues (0 silenced).":
        raise Failure(f"manage.py check was not clean:\n{output}")
    print("check: clean")

    run([*manage, "makemigrations", "shop"], site)
    output = run([*manage, "migrate"], site)
    if "not yet reflected in a migration" in output or "ERROR" in output:
        raise Failure(f"manage.py migrate complained:\n{output}")
    print("migrate: clean")
    run([*manage, "makemigrations", "--check", "--dry-run"], site)
    print("makemigrations --check: clean")

    output = run([*manage, "shell", "-c", FIRST_SAVE], site)
    if "first save and admin: ok" not in output:
        raise Failure(f"the first save did not go as expected:\n{output}")
    print(textwrap.indent(output.strip(), "  "))


def main(releases: list[str]) -> int:
    failed = []
    for release in releases or list(RELEASES):
        if release not in RELEASES:
            print(f"Unknown Django release {release!r}; known: {', '.join(RELEASES)}.")
            return 2
        with tempfile.TemporaryDirectory(prefix=f"eventx-new-project-{release}-") as tmp:
            try:
                check_release(release, Path(tmp))
            except Failure as exc:
                print(f"FAIL (Django {release}): {exc}")
                failed.append(release)
    if failed:
        return 1
    print("A new project works on the first try on Django " + " and ".join(RELEASES) + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
