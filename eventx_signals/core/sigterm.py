"""
SIGTERM as a normal exit, so that the exit drain runs.

Python runs a signal handler in the main thread only, when that thread next
runs Python code. The kernel, though, hands a signal sent to the process to
any thread that does not block it: the main thread when it can take it,
another thread otherwise (an ending one, a request thread of a threaded
server). Python's C-level handler then only notes the signal; a main thread
blocked in a wait without a timeout (``Event.wait()``, ``join()``, a
server's accept loop) is never woken, so the handler never runs and the
process lives on, where without a handler it would have died at once.
Worker threads block those signals; other threads cannot be made to.

So, where it can, the handler comes with a relay: the C-level handler also
writes the signal's number to a pipe (``signal.set_wakeup_fd()``, from
whichever thread took it), and a thread of ours reading that pipe sends
SIGTERM to the main thread itself (``signal.pthread_kill()``) if the handler
has not run shortly after. A wait of the main thread is interrupted by a
signal sent to that thread, and the handler runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading

from . import process

logger = logging.getLogger("eventx_signals")

#: How long the relay waits for the handler to run before it sends the
#: signal to the main thread itself, in seconds.
RELAY_AFTER = 0.05

# Set once the handler has run: a repeated SIGTERM (or the relay's) is then
# ignored, while the exit drain runs, bounded by EVENTX_SHUTDOWN_TIMEOUT.
_handled = threading.Event()


def _exit_or_die(signum: int, frame: object) -> None:
    if _handled.is_set():
        logger.info(
            "SIGTERM again while exiting: ignored; the exit drain ends within "
            "EVENTX_SHUTDOWN_TIMEOUT (SIGKILL stops the process at once)."
        )
        return
    _handled.set()
    if process.has_drainables():
        # Work may be queued: leave through SystemExit, so that atexit runs
        # the drain (the default action would end the process at once).
        raise SystemExit(128 + signum)
    # Nothing of ours to finish: die exactly as without django-eventx.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def exit_normally_on_sigterm() -> None:
    """
    Make SIGTERM a normal exit (SystemExit in the main thread) while work may
    be queued, so that the exit drain runs. Only where nobody handles
    SIGTERM yet: servers that do (gunicorn, uWSGI) drain through their own
    shutdown. Python lets only the main thread set a handler, so this is
    called from ``AppConfig.ready()`` (which runs there, before any request
    thread can send) and again on the first send.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(ValueError, OSError, AttributeError):
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _exit_or_die)
            _relay.start()


class _Relay:
    """The pipe the C-level handler writes to, and the thread reading it."""

    def __init__(self) -> None:
        self.fds: tuple[int, int] | None = None

    def start(self) -> None:
        """Own the wakeup fd and start the relay thread, unless something
        else (an asyncio loop with signal handlers) already owns it, or this
        platform cannot send a signal to one thread. Main thread only."""
        if self.fds is not None or not hasattr(signal, "pthread_kill"):
            return
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        if previous != -1:  # not ours to take
            signal.set_wakeup_fd(previous)
            os.close(read_end)
            os.close(write_end)
            return
        self.fds = (read_end, write_end)
        thread = threading.Thread(
            target=self._serve,
            args=(read_end, threading.main_thread()),
            name="eventx-signal-relay",
            daemon=True,
        )
        with process.process_signals_blocked():
            thread.start()

    def _serve(self, read_end: int, main: threading.Thread) -> None:
        while True:
            try:
                numbers = os.read(read_end, 64)
            except OSError:
                return
            if not numbers:
                return
            if signal.SIGTERM not in numbers or _handled.wait(RELAY_AFTER):
                continue
            # The handler did not run: the signal went to a thread other than
            # the main one, which waits on. Hand it to the main thread.
            if signal.getsignal(signal.SIGTERM) is _exit_or_die and main.ident is not None:
                with contextlib.suppress(OSError, ValueError):
                    signal.pthread_kill(main.ident, signal.SIGTERM)

    def forget_after_fork(self) -> None:
        """A forked child has no relay thread, and must not write to the
        parent's pipe: give the wakeup fd up (``fork()`` returns in the
        child's main thread)."""
        _handled.clear()
        if self.fds is None:
            return
        with contextlib.suppress(ValueError, OSError):
            signal.set_wakeup_fd(-1)  # as in a fresh process
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = None


_relay = _Relay()
process.reset_after_fork(_relay.forget_after_fork)
