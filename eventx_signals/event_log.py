"""
The event log (EVENTX_RECORD_EVENTS): one ``ReceiverRun`` row per receiver
attempt, on every backend.

Recording never touches the database in the receiver's thread: a finished
attempt is appended to an in-memory buffer, and one writer thread per process
inserts the buffer in batches, on its own connection, so that a row is never
written inside the caller's (or the receiver's) transaction and a slow or
broken database never slows or breaks a receiver. What cannot be written is
dropped, counted and logged (rate-limited); the buffer is bounded.
"""

from __future__ import annotations

import collections
import datetime
import logging
import os
import socket
import threading
import time
import traceback
from typing import Any

from django.core.signals import setting_changed

from . import process
from .labels import receiver_label, sender_label, signal_label

logger = logging.getLogger("eventx_signals")

#: Attempts waiting to be written; beyond this the oldest are dropped.
BUFFER_LIMIT = 10_000
#: Rows per INSERT, and the longest a row waits before its batch is written.
BATCH_SIZE = 500
FLUSH_INTERVAL = 0.5
#: Text kept of an error message, a traceback and the keyword arguments.
MESSAGE_LIMIT = 2_000
TRACEBACK_LIMIT = 20_000
KWARGS_LIMIT = 2_000

#: Seconds the writer keeps its database connection without rows to write.
CONNECTION_MAX_IDLE = 60.0
#: How often the writer deletes rows older than the retention, in seconds.
PRUNE_INTERVAL = 3600.0
DEFAULT_RETENTION_DAYS = 14

#: Whether attempts are recorded; read by every receiver run (see refresh()).
enabled = False
_record_kwargs = False


def refresh() -> None:
    """Read EVENTX_RECORD_EVENTS and EVENTX_RECORD_KWARGS again (at start-up
    and when a setting changes)."""
    global enabled, _record_kwargs
    from django.conf import settings

    enabled = getattr(settings, "EVENTX_RECORD_EVENTS", False) is True
    _record_kwargs = getattr(settings, "EVENTX_RECORD_KWARGS", False) is True


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("EVENTX_RECORD_EVENTS", "EVENTX_RECORD_KWARGS"):
        refresh()


setting_changed.connect(_on_setting_changed, dispatch_uid="eventx_signals.event_log.refresh")


class Writer:
    """The buffer of finished attempts and the thread that writes it."""

    def __init__(self) -> None:
        self._reset()
        self._exit_hook = False

    def _reset(self) -> None:
        self.buffer: collections.deque[dict[str, Any]] = collections.deque()
        self.dropped = 0
        self.written = 0
        self._wake = threading.Event()
        self._idle = threading.Condition(threading.Lock())
        self._writing = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._last_warning = float("-inf")  # the first warning is always logged
        # Events set by the writer once it has closed its connection.
        self._close_requests: list[threading.Event] = []

    def add(self, row: dict[str, Any]) -> None:
        if len(self.buffer) >= BUFFER_LIMIT:
            self.buffer.popleft()
            self.dropped += 1
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
                process.after_exit_drain(self.flush_until)
            thread = threading.Thread(target=self._serve, name="eventx-event-log", daemon=True)
            with process.process_signals_blocked():
                thread.start()
            self._thread = thread

    def _serve(self) -> None:
        from .backends import worker_connections

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
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_INTERVAL
                self._prune()
                connected = True
            if self._close_requests:  # last, so that nothing reopens it
                worker_connections.close_all()
                connected = False
                while self._close_requests:
                    self._close_requests.pop().set()
            elif connected and time.monotonic() - last_write > CONNECTION_MAX_IDLE:
                # Like a worker thread: keep the connection while there is
                # work (one per batch would cost a session every half
                # second under Django's default CONN_MAX_AGE = 0).
                worker_connections.close_all()
                connected = False

    def _prune(self) -> None:
        from .backends import worker_connections

        try:
            worker_connections.before_job()
            prune(retention_days())
        except Exception as exc:
            logger.warning("Could not prune the event log (%s: %s).", type(exc).__name__, exc)
        finally:
            worker_connections.after_job()

    def write_pending(self) -> int:
        """Write what is buffered, in batches; return how many rows. In the
        writer thread the connection stays open (checked before, cared for
        after, as a worker thread's) until the writer has been idle a while;
        elsewhere (exit, a writer that is gone) this thread's is used."""
        from .backends import worker_connections

        in_writer = threading.current_thread() is self._thread
        written = 0
        with self._idle:
            self._writing = True
        try:
            if in_writer:
                worker_connections.before_job()
            while self.buffer:
                batch: list[dict[str, Any]] = []
                while self.buffer and len(batch) < BATCH_SIZE:
                    batch.append(self.buffer.popleft())
                written += self._write(batch)
        finally:
            if in_writer:
                worker_connections.after_job()
            with self._idle:
                self._writing = False
                self._idle.notify_all()
        return written

    def _write(self, batch: list[dict[str, Any]]) -> int:
        from .models import ReceiverRun

        try:
            ReceiverRun.objects.bulk_create([ReceiverRun(**row) for row in batch])
        except Exception as exc:  # a database away, a missing table: never the receiver's problem
            self.dropped += len(batch)
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                logger.warning(
                    "Could not write %d receiver runs to the event log (%s: %s); "
                    "%d dropped so far. Is 'migrate' done for eventx_signals?",
                    len(batch),
                    type(exc).__name__,
                    exc,
                    self.dropped,
                )
            return 0
        self.written += len(batch)
        return len(batch)

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
        is gone (never inside the caller's transaction otherwise)."""
        thread = self._thread
        with self._idle:
            while (self.buffer or self._writing) and time.monotonic() < deadline:
                if thread is None or not thread.is_alive():
                    break
                self._wake.set()
                self._idle.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        if self.buffer and (thread is None or not thread.is_alive()):
            self.write_pending()


writer = Writer()
process.reset_after_fork(writer._reset)
_process_name = f"{socket.gethostname()}:{os.getpid()}"


def _new_process_name() -> None:
    global _process_name
    _process_name = f"{socket.gethostname()}:{os.getpid()}"


process.reset_after_fork(_new_process_name)


def record(
    delivery: Any,
    receiver: Any,
    alias: str,
    status: str,
    started: float,
    duration: float,
    exc: BaseException | None,
) -> None:
    """Buffer one finished attempt (``started``: a ``time.time()`` value,
    ``duration`` in seconds); called by ``Delivery`` when ``enabled``."""
    try:
        row = {
            "event": signal_label(delivery.signal)[:255],
            "sender": sender_label(delivery.sender)[:255],
            "receiver": receiver_label(getattr(receiver, "eventx_listener", receiver))[:255],
            "backend": alias[:100],
            "status": status,
            "attempt": delivery.attempt,
            "queued_at": _datetime(delivery.queued_at),
            "started_at": _datetime(started),
            "finished_at": _datetime(started + duration),
            "duration_ms": duration * 1000,
            "process": _process_name,
        }
        if exc is not None:
            row["error_type"] = f"{type(exc).__module__}.{type(exc).__qualname__}"[:255]
            row["error_message"] = str(exc)[:MESSAGE_LIMIT]
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            row["traceback"] = text[-TRACEBACK_LIMIT:]
        if _record_kwargs:
            row["kwargs"] = repr(delivery.kwargs)[:KWARGS_LIMIT]
        writer.add(row)
    except Exception:  # recording must never break a receiver run
        logger.exception("Could not record a receiver run in the event log.")


def _datetime(timestamp: float | None) -> datetime.datetime | None:
    from django.conf import settings

    if timestamp is None:
        return None
    if not settings.USE_TZ:
        return datetime.datetime.fromtimestamp(timestamp)
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)


def retention_days() -> float:
    """EVENTX_RECORD_RETENTION_DAYS (the default for a bad value, which the
    checks report)."""
    from django.conf import settings

    value = getattr(settings, "EVENTX_RECORD_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return DEFAULT_RETENTION_DAYS
    return float(value)


def prune(older_than_days: float) -> int:
    """Delete runs that finished more than ``older_than_days`` days ago."""
    from django.utils import timezone

    from .models import ReceiverRun

    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    deleted, _ = ReceiverRun.objects.filter(finished_at__lt=cutoff).delete()
    return int(deleted)
