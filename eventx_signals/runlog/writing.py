"""
The buffer of run log rows and the one thread per process that writes it,
in batches, on its own database connection. A row the database refuses is
dropped alone, never its batch; a database that cannot take any row (away,
or not migrated) costs one INSERT per batch, as before.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

from django.db import DataError, IntegrityError

from ..core import connections, process
from .drops import NOT_WRITTEN_AT_EXIT, OVERFLOW, REFUSED, WRITE_FAILED, drops
from .pruning import prune, retention_days

logger = logging.getLogger("eventx_signals")

#: Attempts waiting to be written; beyond this the oldest are dropped.
BUFFER_LIMIT = 10_000
#: Rows per INSERT, and the longest a row waits before its batch is written.
BATCH_SIZE = 500
FLUSH_INTERVAL = 0.5
#: Failed INSERTs one batch may cost while the rows the database refuses
#: are looked for (the rows are halved each time: about 2 x log2(BATCH_SIZE)
#: per refused row); past it, the rest of the batch is dropped.
MAX_FAILED_INSERTS = 40

#: Seconds the writer keeps its database connection without rows to write.
CONNECTION_MAX_IDLE = 60.0
#: How often the writer deletes rows older than the retention, in seconds.
PRUNE_INTERVAL = 3600.0


class Writer:
    """The buffer of finished attempts and the thread that writes it."""

    def __init__(self) -> None:
        self._reset()
        self._exit_hook = False

    def _reset(self) -> None:
        self.buffer: collections.deque[dict[str, Any]] = collections.deque()
        self.written = 0
        self._wake = threading.Event()
        self._idle = threading.Condition(threading.Lock())
        self._writing = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Events set by the writer once it has closed its connection.
        self._close_requests: list[threading.Event] = []

    def add(self, row: dict[str, Any]) -> None:
        if len(self.buffer) >= BUFFER_LIMIT:
            try:
                self.buffer.popleft()
            except IndexError:  # the writer took the rows meanwhile
                pass
            else:
                drops.add(
                    OVERFLOW,
                    1,
                    f"{BUFFER_LIMIT:,} rows; receivers finished faster than the database "
                    "took their rows",
                )
        self.buffer.append(row)
        if self._thread is None:
            self._start()
        if len(self.buffer) >= BATCH_SIZE:
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None or process.is_exiting():
                return
            if not self._exit_hook:
                self._exit_hook = True
                process.after_exit_drain(self._flush_at_exit)
            thread = threading.Thread(target=self._serve, name="eventx-run-log", daemon=True)
            with process.process_signals_blocked():
                thread.start()
            self._thread = thread

    def _serve(self) -> None:

        # The first pass prunes. (Not "0.0 as the last prune": the monotonic
        # clock may start near 0 at boot, and would skip the first hour; for
        # the same reason no write yet is "never", not 0.0.)
        next_prune = time.monotonic()
        last_write = float("-inf")
        connected = False
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            if self.buffer:
                self.write_pending()
                last_write = time.monotonic()
                connected = True
            drops.report()
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_INTERVAL
                self._prune()
                connected = True
            if self._close_requests:  # last, so that nothing reopens it
                connections.close_all()
                connected = False
                while self._close_requests:
                    self._close_requests.pop().set()
            elif connected and time.monotonic() - last_write > CONNECTION_MAX_IDLE:
                # Like a worker thread: keep the connection while there is
                # work (one per batch would cost a session every half
                # second under Django's default CONN_MAX_AGE = 0).
                connections.close_all()
                connected = False

    def _prune(self) -> None:

        try:
            connections.before_job()
            prune(retention_days())
        except Exception as exc:
            logger.warning("Could not prune the run log (%s: %s).", type(exc).__name__, exc)
        finally:
            connections.after_job()

    def write_pending(self) -> int:
        """Write what is buffered, in batches; return how many rows. In the
        writer thread the connection stays open (checked before, cared for
        after, as a worker thread's) until the writer has been idle a while;
        elsewhere (exit, a writer that is gone) this thread's is used."""

        in_writer = threading.current_thread() is self._thread
        written = 0
        with self._idle:
            self._writing = True
        try:
            if in_writer:
                connections.before_job()
            while self.buffer:
                batch: list[dict[str, Any]] = []
                while self.buffer and len(batch) < BATCH_SIZE:
                    batch.append(self.buffer.popleft())
                written += self._write(batch)
        finally:
            if in_writer:
                connections.after_job()
            with self._idle:
                self._writing = False
                self._idle.notify_all()
        return written

    def _write(self, batch: list[dict[str, Any]]) -> int:
        """
        Insert ``batch``; return how many rows were written. If the database
        refuses it for what a row holds, insert each half of it again, and
        so on, so that only the rows refused are dropped. If it fails for
        any other reason (the database away, the table missing), every row
        would fail alike: drop what is left of the batch at once.
        """
        written = failed_inserts = 0
        parts = [batch]
        while parts:
            rows = parts.pop()
            try:
                _insert(rows)
            except Exception as exc:  # never the receiver's problem
                failed_inserts += 1
                cause = f"{type(exc).__name__}: {exc}"
                left = len(rows) + sum(len(part) for part in parts)
                if not _refused_for_what_it_holds(exc):
                    drops.add(WRITE_FAILED, left, cause)
                    break
                if failed_inserts >= MAX_FAILED_INSERTS:
                    drops.add(REFUSED, left, f"{failed_inserts} INSERTs of one batch: {cause}")
                    break
                if len(rows) == 1:
                    drops.add(REFUSED, 1, f"a run of {rows[0]['receiver']}: {cause}")
                else:
                    half = len(rows) // 2
                    parts += [rows[half:], rows[:half]]  # the first half next
            else:
                written += len(rows)
        self.written += written
        return written

    def close_connection(self, timeout: float = 10.0) -> bool:
        """Write what is buffered, then have the writer close its database
        connection (it opens a new one for the next rows). Return whether
        that happened within ``timeout`` seconds."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return True
        closed = threading.Event()
        self._close_requests.append(closed)
        self._wake.set()
        return closed.wait(timeout)

    def flush(self, timeout: float = 10.0) -> None:
        """Write everything recorded so far before returning (tests, exit)."""
        self.flush_until(time.monotonic() + timeout)

    def flush_until(self, deadline: float) -> None:
        """Have the writer write everything buffered, waiting until
        ``deadline``; write what is left in this thread only if the writer
        is gone (never inside the caller's transaction otherwise). Then log
        every drop not logged yet."""
        thread = self._thread
        with self._idle:
            while (self.buffer or self._writing) and time.monotonic() < deadline:
                if thread is None or not thread.is_alive():
                    break
                self._wake.set()
                self._idle.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        if self.buffer and (thread is None or not thread.is_alive()):
            self.write_pending()
        drops.report(everything=True)

    def _flush_at_exit(self, deadline: float) -> None:
        self.flush_until(deadline)
        # What is still buffered dies with the process: count it and say so.
        left = len(self.buffer)
        self.buffer.clear()
        drops.add(NOT_WRITTEN_AT_EXIT, left, "the writer was still busy at EVENTX_SHUTDOWN_TIMEOUT")
        drops.report(everything=True)


def _insert(rows: list[dict[str, Any]]) -> None:
    from .model import ReceiverRun  # the app registry must be ready

    ReceiverRun.objects.bulk_create([ReceiverRun(**row) for row in rows])


def _refused_for_what_it_holds(exc: Exception) -> bool:
    """Whether the database refused rows for what they hold (a value out of
    range, a constraint, text it cannot store), rather than failing for
    every row alike (a connection lost, the table missing)."""
    return isinstance(exc, (DataError, IntegrityError, ValueError, TypeError))
