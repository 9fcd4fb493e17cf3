"""The processes a test starts: each in its own session (process group), all
registered so that a test that overruns its time limit, or fails, leaves
nothing running (see conftest.py)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import services

RELIABILITY = Path(__file__).resolve().parent.parent
PROJECT = RELIABILITY / "project"
REPO = RELIABILITY.parent
HOST = "127.0.0.1"
PYTHON = sys.executable


class Registry:
    """Every process started by the suite, killed (whole group) on cleanup."""

    def __init__(self) -> None:
        self._processes: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def add(self, process: subprocess.Popen) -> subprocess.Popen:
        with self._lock:
            self._processes.append(process)
        return process

    def kill_all(self) -> int:
        with self._lock:
            processes, self._processes = self._processes, []
        killed = 0
        for process in processes:
            if process.poll() is None:
                killed += 1
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        return killed


registry = Registry()


def project_env(**overrides: object) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="relproj.settings",
        PYTHONPATH=os.pathsep.join(
            p for p in (str(PROJECT), str(REPO), os.environ.get("PYTHONPATH", "")) if p
        ),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        REL_DB_NAME=services.DB_NAME,
        REL_PG_HOST=services.PG_HOST,
        REL_PG_PORT=str(services.PG_PORT),
        REL_PG_USER=services.PG_USER,
        REL_PG_PASSWORD=services.PG_PASSWORD,
        REL_REDIS_URL=services.REDIS_URL,
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def manage(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=PROJECT,
        env=env or project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def http_get(port: int, path: str, timeout: float = 10) -> tuple[int, dict | str, str | None]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode()
        try:
            parsed: dict | str = json.loads(body)
        except ValueError:
            parsed = body
        return response.status, parsed, response.getheader("X-Worker-Pid")
    finally:
        conn.close()


class Service:
    """A long-running child process with a log file; stopped on leaving."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.stop_seconds: float | None = None

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = registry.add(
                subprocess.Popen(
                    self.command,
                    cwd=PROJECT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM to the main process, wait; SIGKILL to the group if it
        does not exit in time. Returns the exit status."""
        process = self.process
        assert process is not None
        started = time.monotonic()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
                raise AssertionError(
                    f"{self.command[:4]} did not exit within {timeout} s of SIGTERM:\n{self.log_tail()}"
                ) from None
        self.stop_seconds = time.monotonic() - started
        return process.returncode

    def kill(self) -> None:
        """SIGKILL to the whole process group (the worker and its children)."""
        process = self.process
        assert process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)


class Gunicorn(Service):
    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        worker_class: str = "gthread",
        workers: int = 2,
        threads: int = 4,
        preload: bool = False,
        graceful_timeout: int = 90,  # above EVENTX_SHUTDOWN_TIMEOUT
    ) -> None:
        self.port = free_port()
        self.workers = workers
        command = [
            PYTHON, "-m", "gunicorn", "relproj.wsgi:application",
            "--bind", f"{HOST}:{self.port}",
            "--worker-class", worker_class,
            "--workers", str(workers),
            "--graceful-timeout", str(graceful_timeout),
            "--timeout", "60",
            "--no-control-socket",
        ]  # fmt: skip
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        if preload:
            command.append("--preload")
        super().__init__(command, env, log_path)

    def wait_ready(self, timeout: float = 60) -> set[str]:
        """Until every worker has answered /health/ (on fresh connections)."""
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while len(seen) < self.workers:
            if not self.alive():
                raise AssertionError(f"gunicorn exited:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"gunicorn not ready in {timeout} s:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _, pid = http_get(self.port, "/health/", timeout=2)
                if status == 200 and pid:
                    seen.add(pid)
                    continue
            time.sleep(0.05)
        return seen


class Uvicorn(Service):
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        command = [
            PYTHON, "-m", "uvicorn", "relproj.asgi:application",
            "--host", HOST, "--port", str(self.port),
            "--workers", "1", "--no-access-log", "--lifespan", "off",
            "--loop", "asyncio", "--http", "h11",
        ]  # fmt: skip
        super().__init__(command, env, log_path)

    def wait_ready(self, timeout: float = 60) -> None:
        def answers() -> bool:
            if not self.alive():
                raise AssertionError(f"uvicorn exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                return http_get(self.port, "/health/", timeout=2)[0] == 200
            return False

        wait_until(answers, timeout, "uvicorn to answer")


class DbWorker(Service):
    """A db_worker whose database sessions are named after its worker id."""

    def __init__(self, env: dict[str, str], log_path: Path, worker_id: str) -> None:
        self.worker_id = worker_id
        env = {**env, "REL_APP_NAME": worker_id}
        command = [
            PYTHON, "manage.py", "db_worker", "--queue-name", "events", "--interval", "0.05",
            "--no-startup-delay", "--no-reload", "--worker-id", worker_id,
        ]  # fmt: skip
        super().__init__(command, env, log_path)


class CeleryWorker(Service):
    QUEUE = "rel-events"

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        name: str,
        concurrency: int = 2,
        *,
        pool: str = "threads",
        max_tasks_per_child: int | None = None,
    ) -> None:
        self.name = name
        command = [
            PYTHON, "-m", "celery", "-A", "relproj.celery_app", "worker",
            "--pool", pool, "--concurrency", str(concurrency),
            "-Q", self.QUEUE, "-n", name, "-l", "info",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if max_tasks_per_child is not None:
            command += ["--max-tasks-per-child", str(max_tasks_per_child)]
        super().__init__(command, env, log_path)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker logs that it is ready to consume."""
        wait_until(
            lambda: (
                (not self.alive() and _raise(f"celery worker exited:\n{self.log_tail()}"))
                or " ready." in self.log()
            ),
            timeout,
            "the celery worker to be ready",
            interval=0.1,
        )


def _raise(message: str) -> bool:
    raise AssertionError(message)


def log_records(directory: Path) -> list[dict]:
    """The records relapp.logsink wrote (one JSON object per line)."""
    records = []
    for path in sorted(directory.glob("log-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def span_records(directory: Path) -> list[dict]:
    """The spans relapp.telemetry exported (one JSON object per line, with
    the pid of the process that made it)."""
    spans = []
    for path in sorted(directory.glob("spans-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                spans.append(json.loads(line))
    return spans
