"""
The environment of the child processes that run the benchmark's Django
project (migrate, gunicorn), and the commands run in it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTINGS_MODULE = "httpbench.settings"
WSGI_APP = "httpbench.wsgi:application"


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str = ""


#: Celery's broker in mode "celery": a Redis database of its own, emptied
#: (FLUSHDB) before and after the mode's run.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"


def child_env(
    mode: str, db: str, pg: PgServer, redis_url: str = DEFAULT_REDIS_URL
) -> dict[str, str]:
    """This process's environment plus what the settings module reads.

    PYTHONPATH is kept (after the project directory), so that
    PYTHONPATH=/some/checkout measures the eventx_signals found there rather
    than the installed one.
    """
    env = dict(os.environ)
    inherited = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), inherited) if p)
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    env["EVENTX_HTTP_BENCH_MODE"] = mode
    env["EVENTX_HTTP_BENCH_DB"] = db
    env["EVENTX_HTTP_BENCH_PGHOST"] = pg.host
    env["EVENTX_HTTP_BENCH_PGPORT"] = str(pg.port)
    env["EVENTX_HTTP_BENCH_PGUSER"] = pg.user
    env["EVENTX_HTTP_BENCH_PGPASSWORD"] = pg.password
    env["EVENTX_HTTP_BENCH_REDIS_URL"] = redis_url
    # Unbuffered, so a server log read after a crash is complete.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def migrate(env: dict[str, str], timeout_s: float = 120.0) -> None:
    """Create the tables: shop has no migrations (--run-syncdb creates its
    tables); the installed apps that have some (eventx_signals' run log,
    django_tasks_db's task rows) get them applied by the same command."""
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--run-syncdb", "--verbosity", "0"],
        cwd=HERE,
        env=env,
        check=True,
        timeout=timeout_s,
    )


def probe_versions(
    env: dict[str, str], distributions: Sequence[str] = (), timeout_s: float = 60.0
) -> dict[str, str]:
    """Versions and the eventx_signals file as the server processes see them,
    plus the versions of ``distributions`` (e.g. celery), installed or not."""
    code = (
        "import json, sys, importlib.metadata as md, django, gunicorn, psycopg, eventx_signals\n"
        "def v(name):\n"
        "    try:\n"
        "        return md.version(name)\n"
        "    except md.PackageNotFoundError:\n"
        "        return 'not installed'\n"
        "print(json.dumps({'django': django.get_version(), 'gunicorn': gunicorn.__version__, "
        "'psycopg': psycopg.__version__, 'eventx_signals': eventx_signals.__version__, "
        "'eventx_signals_file': eventx_signals.__file__, "
        "**{name: v(name) for name in sys.argv[1:]}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *distributions],
        cwd=HERE,
        env=env,
        timeout=timeout_s,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        # Typically eventx_signals (or gunicorn) cannot be imported: say so
        # before any server starts, with the child's own traceback.
        raise RuntimeError("the server environment cannot import its packages:\n" + out.stderr)
    versions: dict[str, str] = json.loads(out.stdout)
    versions.update(_git_state(Path(versions["eventx_signals_file"]).parent))
    return versions


def _git_state(package_dir: Path) -> dict[str, str]:
    """Commit of the checkout holding the package, and whether it has edits."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(package_dir), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    dirty = git("status", "--porcelain", "--", ".")
    return {
        "eventx_signals_commit": commit,
        "eventx_signals_uncommitted_changes": "yes" if dirty else "no",
    }
