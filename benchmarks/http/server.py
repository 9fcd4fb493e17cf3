"""
A gunicorn server for one measurement: start it, wait until it answers, stop
it with SIGTERM and wait for it to exit (django-eventx drains its queue at
exit, so the exit is part of what is measured).
"""

from __future__ import annotations

import functools
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from project import HERE, WSGI_APP

HOST = "127.0.0.1"
WORKERS = 2
THREADS = 4

# gunicorn's own lines look like "[2026-01-01 12:00:00 +0000] [123] [INFO] ...".
_GUNICORN_INFO = re.compile(r"^\[[^\]]*\] \[\d+\] \[INFO\] ")


def free_port() -> int:
    """A port nothing listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@functools.cache
def _gunicorn_has_option(option: str) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, timeout=60
    )
    return option in result.stdout


class ServerError(RuntimeError):
    pass


class GunicornServer:
    """Context manager: the server is stopped on leaving, also on error."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.stop_seconds: float | None = None
        self.returncode: int | None = None
        self.killed = False

    @property
    def pid(self) -> int | None:
        """The gunicorn master's pid (its workers are its children)."""
        return None if self._process is None else self._process.pid

    def __enter__(self) -> GunicornServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            WSGI_APP,
            "--chdir",
            str(HERE),
            "--bind",
            f"{HOST}:{self.port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
        ]
        if _gunicorn_has_option("--no-control-socket"):
            # gunicorn 24+ opens a control socket at one fixed path per user;
            # concurrent servers (other runs, other users' tests) would share it.
            command.append("--no-control-socket")
        # A session of its own: a Ctrl-C in the terminal reaches this script
        # only, which then stops the server the normal way (SIGTERM, drain).
        self._process = subprocess.Popen(
            command,
            cwd=HERE,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Poll /health/ on fresh connections until every worker has answered.

        One answer is not enough: gunicorn logs "Booting worker" before the
        worker imports Django, and a worker still importing accepts nothing,
        so the first connections would all land on the other one.
        """
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        seen: set[str] = set()
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServerError(
                    f"gunicorn exited with {self._process.returncode}:\n" + self.log_tail()
                )
            pid = self._health_pid()
            if pid is not None:
                seen.add(pid)
                if len(seen) >= WORKERS:
                    return
            time.sleep(0.05)
        raise ServerError(
            f"gunicorn not ready after {timeout_s:.0f} s ({len(seen)} of "
            f"{WORKERS} workers answered):\n" + self.log_tail()
        )

    def _health_pid(self) -> str | None:
        """The pid of the worker that answered /health/, or None."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", "/health/")
            response = conn.getresponse()
            response.read()
            return response.getheader("X-Worker-Pid") if response.status == 200 else None
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    def stop(self, timeout_s: float = 90.0) -> None:
        """SIGTERM, then wait; SIGKILL only if it does not exit in time."""
        process = self._process
        if process is None or self.returncode is not None:
            return
        started = time.monotonic()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.killed = True
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        self.stop_seconds = time.monotonic() - started
        self.returncode = process.returncode
        if self._log is not None:
            self._log.close()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def unexpected_log_lines(self) -> list[str]:
        """Everything but gunicorn's INFO lines: tracebacks, warnings, and
        django-eventx's messages (printed bare by logging's last resort)."""
        return [
            line
            for line in self.log_text().splitlines()
            if line.strip() and not _GUNICORN_INFO.match(line)
        ]
