"""
The worker processes of the out-of-process modes, started for the run of the
mode and stopped once every receipt is written:

    celery   one ``celery -A httpbench.celery_app worker --pool threads``
             (--celery-concurrency threads, 4; default log level), on the
             Redis database of the run (emptied before and after)
    tasks    --db-workers (2) ``manage.py db_worker --queue-name '*'
             --interval 0.1`` processes (django-tasks-db)

They import the same settings as gunicorn (httpbench.settings, same mode), so
shop's ready() connects the receiver in them too, and stop on SIGTERM: a
warm shutdown for Celery, "finish the current task" for db_worker.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from project import HERE

CELERY_QUEUE = "eventx-http-bench"  # the "celery" alias's queue in the settings

# Lines of a worker log that are not worth echoing: the start-up banner,
# per-task INFO lines, the shutdown notices, and Celery's warning about
# running as root (the benchmark machine's user).
_BENIGN = re.compile(
    r"shutting down gracefully|Warm shutdown|superuser privileges|"
    r"absolutely not recommended|uid=0|SecurityWarning|warnings\.warn\(|"
    r"C_FORCE_ROOT|^\s*$"
)
_WORTH_ECHOING = re.compile(r"Traceback|ERROR|CRITICAL|WARNING|Refused|Error:")


class WorkerError(RuntimeError):
    pass


def flush_redis(url: str) -> None:
    """Empty the Redis database of the "celery" mode (FLUSHDB)."""
    import redis  # celery[redis] brings it; only the celery mode needs it

    with redis.Redis.from_url(url, socket_timeout=10) as client:
        client.flushdb()


class WorkerProcesses:
    """Context manager over one or more worker processes of one kind."""

    kind = "worker"
    ready_marker = ""  # text of the log that says a process is ready

    def __init__(self, env: dict[str, str], log_stem: Path, count: int) -> None:
        self.env = env
        self.log_paths = [
            log_stem.with_name(f"{log_stem.name}-{self.kind}{i + 1}.log") for i in range(count)
        ]
        self._processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self.stop_seconds: float | None = None
        self.returncodes: list[int | None] = []
        self.killed = False

    def command(self, index: int) -> list[str]:
        raise NotImplementedError

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes]

    def __enter__(self) -> WorkerProcesses:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        for index, path in enumerate(self.log_paths):
            path.parent.mkdir(parents=True, exist_ok=True)
            log = path.open("wb")
            self._logs.append(log)
            # A session of its own, as gunicorn: Ctrl-C reaches the harness,
            # which stops the workers with SIGTERM.
            self._processes.append(
                subprocess.Popen(
                    self.command(index),
                    cwd=HERE,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(range(len(self._processes)))
        while pending:
            for index in list(pending):
                process = self._processes[index]
                if process.poll() is not None:
                    raise WorkerError(
                        f"{self.kind} {index + 1} exited with {process.returncode}:\n"
                        + self.log_tail(index)
                    )
                if self.is_ready(index):
                    pending.discard(index)
            if pending and time.monotonic() > deadline:
                raise WorkerError(
                    f"{self.kind} not ready after {timeout_s:.0f} s:\n"
                    + "\n".join(self.log_tail(i) for i in sorted(pending))
                )
            time.sleep(0.05)

    def is_ready(self, index: int) -> bool:
        return self.ready_marker in self.log_text(index)

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM to every process, then wait; SIGKILL if one does not exit."""
        if self.stop_seconds is not None or not self._processes:
            return
        started = time.monotonic()
        for process in self._processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=max(1.0, started + timeout_s - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.killed = True
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        self.stop_seconds = time.monotonic() - started
        self.returncodes = [p.returncode for p in self._processes]
        for log in self._logs:
            log.close()

    def log_text(self, index: int) -> str:
        try:
            return self.log_paths[index].read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, index: int, lines: int = 30) -> str:
        return "\n".join(self.log_text(index).splitlines()[-lines:])

    def unexpected_log_lines(self) -> list[str]:
        """Warnings, errors and tracebacks of every process's log."""
        found = []
        for index in range(len(self.log_paths)):
            lines = self.log_text(index).splitlines()
            for number, line in enumerate(lines):
                if _WORTH_ECHOING.search(line) and not _BENIGN.search(line):
                    # A traceback's last line says what it was.
                    if line.startswith("Traceback"):
                        tail = next(
                            (
                                lines[j]
                                for j in range(number + 1, len(lines))
                                if lines[j] and not lines[j].startswith(" ")
                            ),
                            "",
                        )
                        line = f"{line} ... {tail}"
                    found.append(f"[{self.kind} {index + 1}] {line.strip()}")
        return found


class CeleryWorker(WorkerProcesses):
    """``celery worker`` at its default log level (WARNING), as a project's
    README would start it; ready once it answers a ping on the broker."""

    kind = "celery"

    def __init__(
        self, env: dict[str, str], log_stem: Path, concurrency: int, broker_url: str
    ) -> None:
        super().__init__(env, log_stem, 1)
        self.concurrency = concurrency
        self.broker_url = broker_url
        self.node = f"eventx-http-bench-{os.getpid()}@localhost"

    def command(self, index: int) -> list[str]:
        return [
            *(sys.executable, "-m", "celery", "-A", "httpbench.celery_app", "worker"),
            *("--pool", "threads", "--concurrency", str(self.concurrency)),
            *("-Q", CELERY_QUEUE, "-n", self.node),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]

    def is_ready(self, index: int) -> bool:
        from celery import Celery  # only the celery mode needs it here

        app = Celery("eventx-http-bench-probe", broker=self.broker_url, set_as_current=False)
        try:
            return bool(app.control.ping([self.node], timeout=0.5))
        finally:
            app.close()


class DbWorkers(WorkerProcesses):
    kind = "db_worker"
    ready_marker = "Starting worker"

    def command(self, index: int) -> list[str]:
        return [
            *(sys.executable, "-m", "django", "db_worker", "--queue-name", "*"),
            *("--interval", "0.1", "--no-startup-delay"),
            *("--worker-id", f"eventx-http-bench-{os.getpid()}-{index + 1}"),
        ]
