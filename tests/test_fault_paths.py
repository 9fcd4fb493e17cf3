"""
Fault paths: each test reproduces one way work could be lost, hang or go
wrong under a fault, and checks that it does not.

Tests that touch process state (workers dying, SIGTERM, interpreter
shutdown, atexit, start-up, the process-wide counters) run a script of
tests/scripts/faults/ in a child process (see _child.py there for what they
print); the others run here.
"""

import asyncio
import concurrent.futures
import gc
import json
import logging
import math
import os
import queue
import signal as os_signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, transaction
from django.test import override_settings

import eventx_signals
from eventx_signals import (
    AsyncSignal,
    atrigger_event,
    list_registered_events,
    stats,
    trigger_event,
)
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.dispatch import sending
from eventx_signals.exceptions import EventxConfigurationError
from eventx_signals.testing import wait_for_runs
from tests.postgres import terminate_sessions
from tests.testapp.models import Order
from tests.timing import Lateness

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).parent / "scripts" / "faults"
# The children import the very eventx_signals this process imported.
PACKAGE_ROOT = Path(eventx_signals.__file__).resolve().parent.parent
THREAD_BACKEND = "eventx_signals.backends.thread.ThreadBackend"
SIGTERM_STATUS = 128 + os_signal.SIGTERM


# -- helpers -----------------------------------------------------------------


def backend_settings(**options):
    """Settings giving the default alias a ThreadBackend with ``options``."""
    return {"EVENTX_BACKENDS": {"default": {"BACKEND": THREAD_BACKEND, "OPTIONS": options}}}


def thread_backend(**options):
    """A ThreadBackend of its own."""
    return ThreadBackend("faults", options)


@contextmanager
def closing(backend):
    try:
        yield backend
    finally:
        backend.close(timeout=10)


def child_env(*extra_paths):
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    paths = [str(PACKAGE_ROOT), *map(str, extra_paths)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run_script(name, *args, python=None, env=None, timeout=20):
    return subprocess.run(
        [*(python or [sys.executable]), str(SCRIPTS / name), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env or child_env(),
    )


def findings(completed):
    """The JSON of the child's ``RESULT`` line."""
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise AssertionError(
        f"the child printed no result (exit status {completed.returncode}).\n"
        f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr[-5000:]}"
    )


@contextmanager
def started_script(name, *args):
    """A child running ``name``, killed on the way out if still running.
    Yields (process, next_line): next_line(timeout) returns the child's next
    line of stdout, or None. The child's stderr is ``process.stderr_text``
    once the block ends."""
    stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the block ends)
    process = subprocess.Popen(
        [sys.executable, str(SCRIPTS / name), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        cwd=ROOT,
        env=child_env(),
    )
    lines = queue.Queue()

    def read_lines():
        for line in process.stdout:
            lines.put(line.strip())

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()

    def next_line(timeout):
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return None

    try:
        yield process, next_line
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        reader.join(10)
        process.stdout.close()
        stderr_file.seek(0)
        process.stderr_text = stderr_file.read().decode(errors="replace")
        stderr_file.close()


def count_lines(path):
    return len(path.read_text().split()) if path.exists() else 0


def eventx_records(records, level):
    return [r for r in records if r.name == "eventx_signals" and r.levelno == level]


# -- 1. BaseException in receivers ---------------------------------------------


def test_receivers_raising_base_exceptions_do_not_kill_workers():
    completed = run_script("base_exceptions.py")
    found = findings(completed)
    kinds = ["CancelledError", "SystemExit", "KeyboardInterrupt", "GeneratorExit"]
    assert found["raised"] == [kind for kind in kinds for _ in range(4)]
    assert found["ordinary_done"] == 100
    assert found["failed_after_sync"] == 16
    # An async def receiver raising CancelledError: the same.
    assert found["async_raised"] == ["CancelledError"] * 4
    assert found["ordinary_done_after_async"] == 100
    assert found["failed_after_async"] == 20
    assert found["workers_alive"] == 4
    assert completed.returncode == 0, completed.stderr[-3000:]


# -- 2. async receivers, the ORM and broken connections (PostgreSQL) ---------------


def _backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0], threading.current_thread().name


async def _count_orders_and_report_connection(sender, **kwargs):
    count = await Order.objects.acount()
    pid, thread_name = await sync_to_async(_backend_pid)()
    return count, pid, thread_name


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_async_receivers_query_on_worker_connections_and_survive_their_termination():
    workers = 4
    with closing(thread_backend(workers=workers)) as backend:
        signal = AsyncSignal(backend=backend)
        signal.connect(_count_orders_and_report_connection)
        Order.objects.create(number="PG-1")

        first = [future.result(10) for _ in range(50) for _, future in signal.send(None)]
        assert {count for count, _, _ in first} == {1}
        pids = {pid for _, pid, _ in first}
        # Queries ran on the workers' own connections, kept across jobs.
        assert 1 <= len(pids) <= workers
        assert all(name.startswith("eventx") and "worker" in name for _, _, name in first)

        terminate_sessions(pids)

        futures = [future for _ in range(50) for _, future in signal.send(None)]
        done, _ = concurrent.futures.wait(futures, timeout=15)
        failures = [f.exception() for f in done if f.exception() is not None]
        assert failures == [] and len(done) == 50
        second = [future.result() for future in futures]
        assert {count for count, _, _ in second} == {1}
        assert not {pid for _, pid, _ in second} & pids


# -- 3. SIGTERM with the pool started off the main thread --------------------------


def test_sigterm_drains_a_pool_started_by_another_thread(tmp_path):
    output = tmp_path / "ran.txt"
    with started_script("sigterm_off_main.py", output, 1000) as (process, next_line):
        assert next_line(15) == "sent"
        process.send_signal(os_signal.SIGTERM)
        process.wait(20)
    assert process.returncode == SIGTERM_STATUS, process.stderr_text[-3000:]
    assert count_lines(output) == 1000


def test_sigterm_taken_by_another_thread_still_drains_and_exits(tmp_path):
    """The kernel may hand the process's SIGTERM to a thread other than the
    main one; the main thread, waiting without a timeout, is then not woken
    and Python never runs the handler. The relay hands it to the main thread."""
    output = tmp_path / "ran.txt"
    with started_script("sigterm_to_another_thread.py", output, 200) as (process, next_line):
        assert next_line(15) == "signalled"
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            pytest.fail("SIGTERM taken by another thread was never acted on")
    assert process.returncode == SIGTERM_STATUS, process.stderr_text[-3000:]
    assert count_lines(output) == 200


def test_a_second_sigterm_does_not_cut_the_drain_short(tmp_path):
    output = tmp_path / "ran.txt"
    with started_script("sigterm_off_main.py", output, 1000, "--slow") as (process, next_line):
        assert next_line(15) == "sent"
        process.send_signal(os_signal.SIGTERM)
        assert wait_for_lines(output, 1, timeout=10)  # the drain is under way
        process.send_signal(os_signal.SIGTERM)
        process.wait(60)
    assert process.returncode == SIGTERM_STATUS, process.stderr_text[-3000:]
    assert count_lines(output) == 1000
    assert "Exception ignored in atexit" not in process.stderr_text


def wait_for_lines(path, count, timeout):
    """Poll a file another process appends to (no future to await there)."""
    deadline = time.monotonic() + timeout
    while count_lines(path) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_sigterm_kills_a_process_that_never_sent_as_without_the_app():
    with started_script("sigterm_off_main.py", "--idle") as (process, next_line):
        assert next_line(15) == "ready"
        process.send_signal(os_signal.SIGTERM)
        process.wait(20)
    assert process.returncode == -os_signal.SIGTERM


# -- 4. replacing the backend while threads send ----------------------------------


def test_replacing_the_backend_while_threads_send_runs_every_send_once():
    # In a child: a miscounted run (see the next test) would leave this
    # process's counters, and so wait_for_runs(), off for good.
    completed = run_script("replace_backend.py", 1000, 300)
    found = findings(completed)
    assert found["senders_alive"] == 0
    assert found["sent"] == 8000
    assert found["sent_during_toggles"] > 0  # the replacements did overlap sends
    assert found["not_done"] == 0
    assert found["cancelled"] == 0
    assert found["keys_run"] == 8000
    assert found["runs_per_key"] == [1]


def test_a_sender_waiting_for_room_when_the_backend_is_replaced_goes_to_the_replacement(
    caplog,
):
    # One worker held busy, a full queue: a sender waits for room. Replacing
    # the backend closes the old pool; the waiting sender must hand its
    # delivery to the new pool at once, not run it itself after a false
    # "full for 60 seconds", nor wait out those 60 seconds first (the
    # deadline below is half of them, far beyond any stall of the machine).
    release, busy = threading.Event(), threading.Event()
    ran_on = []

    def hold(sender, **kwargs):
        busy.set()
        release.wait(120)

    def record(sender, **kwargs):
        ran_on.append(threading.current_thread())

    held, waiting = AsyncSignal(), AsyncSignal()
    held.connect(hold, weak=False)
    waiting.connect(record, weak=False)
    options = {"workers": 1, "queue_size": 1, "block_timeout": 60, "max_extra_workers": 0}
    sent, started = threading.Event(), threading.Event()
    try:
        with caplog.at_level(logging.WARNING, logger="eventx_signals"):
            with override_settings(**backend_settings(**options)):
                held.send(sender=None)
                assert busy.wait(5)
                held.send(sender=None)  # fills the queue

                def sender():
                    started.set()
                    waiting.send(sender=None)
                    sent.set()

                thread = threading.Thread(target=sender)
                thread.start()
                assert started.wait(5)
                assert not sent.wait(0.3)  # waiting for room
            # The setting changed back: a new pool replaced the waiting one.
            assert sent.wait(30)
            thread.join(5)
            release.set()
            wait_for_runs(10)
    finally:
        release.set()
    assert len(ran_on) == 1
    assert ran_on[0] is not thread
    assert ran_on[0].name.startswith("eventx-default-worker-")
    assert not any("full queue" in r.getMessage() for r in caplog.records)


def test_a_delivery_handed_on_to_the_replacement_backend_is_counted_once():
    completed = run_script("handed_on_delivery.py")
    if "RESULT " not in completed.stdout or completed.returncode != 0:
        pytest.fail(f"the child failed:\n{completed.stderr[-3000:]}")
    found = findings(completed)
    if not found["hook_ran"]:
        pytest.fail("the reproduction no longer reaches the race (WorkerPool._start changed?)")
    assert found["value"] == "ran"
    assert found["stats"]["dispatched"] == 1
    assert found["stats"]["pending"] == 0
    assert found["wait_for_runs"] == "returned"
    assert "not finished" not in completed.stderr


# -- 5. nested sends from receivers into a full queue -------------------------------

TREE_SIZE = 200


@pytest.mark.parametrize("style", ["async asend", "sync send"])
def test_nested_sends_into_a_full_queue_never_wait_for_the_block_timeout(style):
    block_timeout = 5
    with closing(thread_backend(workers=2, queue_size=2, block_timeout=block_timeout)) as backend:
        root = AsyncSignal(backend=backend)
        child = AsyncSignal(backend=backend)
        lock = threading.Lock()
        ran, send_durations = [], []
        all_ran = threading.Event()

        def record(n):
            with lock:
                ran.append(n)
                if len(ran) == TREE_SIZE:
                    all_ran.set()

        def children(n):
            return [c for c in (2 * n + 1, 2 * n + 2) if c < TREE_SIZE]

        async def async_node(sender, n, **kwargs):
            await asyncio.sleep(0.002)
            record(n)
            for c in children(n):
                started = time.monotonic()
                await child.asend(sender=None, n=c)
                send_durations.append(time.monotonic() - started)

        def sync_node(sender, n, **kwargs):
            time.sleep(0.002)
            record(n)
            for c in children(n):
                started = time.monotonic()
                child.send(sender=None, n=c)
                send_durations.append(time.monotonic() - started)

        node = async_node if style == "async asend" else sync_node
        root.connect(node)
        child.connect(node)
        with Lateness() as lateness:
            root.send(sender=None, n=0)
            # The tree takes a fraction of a second; a nested send that waited
            # for the block timeout would make it take minutes.
            assert all_ran.wait(10), f"{len(ran)} of {TREE_SIZE} ran within 10 seconds"
        assert sorted(ran) == list(range(TREE_SIZE))
        # However late this process woke meanwhile, plus half the timeout.
        assert max(send_durations) < block_timeout / 2 + lateness.worst


# -- 6. non-finite timeouts ------------------------------------------------------------


@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_non_finite_block_timeout_is_refused_when_the_backend_is_made(value):
    with pytest.raises(EventxConfigurationError, match="block_timeout"):
        thread_backend(block_timeout=value)
    signal = AsyncSignal()
    signal.connect(lambda sender, **kwargs: None, weak=False)
    with (
        override_settings(**backend_settings(block_timeout=value)),
        pytest.raises(EventxConfigurationError, match="block_timeout"),
    ):
        signal.send(sender=None)


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_non_finite_shutdown_timeout_still_drains_at_exit(tmp_path, value):
    output = tmp_path / "ran.txt"
    completed = run_script("shutdown_timeout.py", output, 200, value)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.split() == ["sent"]
    assert count_lines(output) == 200
    assert "Traceback" not in completed.stderr
    assert "not finished" not in completed.stderr


# -- 7. a first send during interpreter shutdown ---------------------------------------

PYENV_VERSIONS = "3.11.7:3.12.1:3.13.0"


def _interpreter(variant):
    """(command, env) running ``variant`` with this process's packages, or
    None if that Python is not installed."""
    if variant == "this Python":
        return [sys.executable], child_env()
    if sys.version_info[:2] == tuple(map(int, variant[len("python") :].split("."))):
        return None  # "this Python" covers it
    import asgiref
    import django
    import wrapt

    # Pure-Python packages of this environment (wrapt falls back to its
    # pure-Python implementation on another Python).
    site_packages = {Path(m.__file__).resolve().parent.parent for m in (django, asgiref, wrapt)}
    env = child_env(*sorted(site_packages))
    env["PYENV_VERSION"] = PYENV_VERSIONS
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no .pyc of another Python behind
    try:
        probe = subprocess.run(
            [variant, "-c", "import django, asgiref, wrapt"],
            env=env,
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return ([variant], env) if probe.returncode == 0 else None


@pytest.mark.parametrize("mode", ["first", "after-other-send"])
@pytest.mark.parametrize("variant", ["this Python", "python3.12", "python3.13"])
def test_send_during_interpreter_shutdown_runs_inline_with_a_warning(
    tmp_path, request, variant, mode
):
    interpreter = _interpreter(variant)
    if interpreter is None:
        pytest.skip(f"{variant} is not installed (or is this Python)")
    command, env = interpreter
    output = tmp_path / "ran.txt"
    completed = run_script("first_send_at_exit.py", output, mode, python=command, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.split() == ["sent"]
    ran = [line.split() for line in output.read_text().splitlines()] if output.exists() else []
    assert sorted(int(n) for n, _ in ran) == list(range(50))
    assert {thread for _, thread in ran} == {"MainThread"}  # inline, in the sender
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("WARNING ")]
    assert any("__main__.exit_signal" in line and "sending thread" in line for line in warnings), (
        completed.stderr[-3000:]
    )


# -- 8. a send with autocommit turned off by hand -----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_send_with_autocommit_off_runs_receivers_in_the_callers_transaction(caplog):
    sending.log_manual_transaction.forget()  # logged once per process: an earlier test may have
    signal = AsyncSignal()
    seen = []

    def read_then_write(sender, number, **kwargs):
        seen.append((threading.current_thread(), Order.objects.filter(number=number).exists()))
        Order.objects.create(number=f"{number}-r")

    signal.connect(read_then_write)
    transaction.set_autocommit(False)
    try:
        with caplog.at_level(logging.WARNING, logger="eventx_signals"):
            Order.objects.create(number="M-1")
            [(_, first)] = signal.send(sender=Order, number="M-1")
            assert first.done(), "the receiver did not run in the caller"
            Order.objects.create(number="M-2")
            [(_, second)] = signal.send(sender=Order, number="M-2")
            assert second.done()
            inside = set(Order.objects.values_list("number", flat=True))
            transaction.rollback()
    finally:
        if not transaction.get_autocommit():
            transaction.rollback()
            transaction.set_autocommit(True)
    wait_for_runs(10)
    assert first.result(0) is None and second.result(0) is None
    assert seen == [(threading.main_thread(), True), (threading.main_thread(), True)]
    assert inside == {"M-1", "M-1-r", "M-2", "M-2-r"}
    assert not Order.objects.exists()  # the receivers' writes were rolled back too
    warnings = eventx_records(caplog.records, logging.WARNING)
    assert len(warnings) == 1
    assert "set_autocommit(False)" in warnings[0].getMessage()


# -- 9. hung receivers --------------------------------------------------------------------


def test_hung_receivers_neither_stall_senders_nor_the_queue():
    # The settings: every other option is the default.
    block_timeout = 1
    backend = thread_backend(workers=2, queue_size=10, block_timeout=block_timeout)
    release = threading.Event()
    # Bounds the test even if the pool misbehaves (a hung receiver run in the
    # sender would wait for this); far beyond the deadline below, so that a
    # queue stalled until then fails it.
    safety = threading.Timer(60, release.set)
    hung = AsyncSignal(backend=backend)
    ordinary = AsyncSignal(backend=backend)

    def hang(sender, **kwargs):
        release.wait(120)

    def echo(sender, n, **kwargs):
        return n

    hung.connect(hang)
    ordinary.connect(echo)
    durations = []
    safety.start()
    try:
        with Lateness() as lateness:
            for _ in range(20):
                started = time.monotonic()
                hung.send(sender=None)
                durations.append(time.monotonic() - started)
            first_ordinary = time.monotonic()
            futures = []
            for n in range(20):
                started = time.monotonic()
                futures += [future for _, future in ordinary.send(sender=None, n=n)]
                durations.append(time.monotonic() - started)
        # Senders wait half the block timeout each for an extra worker: the
        # ordinary runs are done 5-6 s after the first is sent.
        remaining = max(0.0, first_ordinary + 30 - time.monotonic())
        _, not_done = concurrent.futures.wait(futures, timeout=remaining)
        # No send waits longer than the block timeout, as this process could
        # keep it meanwhile (plus a fifth).
        assert max(durations) <= 1.2 * (block_timeout + lateness.worst), [
            round(d, 2) for d in durations
        ]
        assert not not_done, f"{len(not_done)} ordinary runs not done 30 s after the first send"
        assert [future.result() for future in futures] == list(range(20))
    finally:
        release.set()
        safety.cancel()
        backend.close(timeout=10)


stuck_signal = AsyncSignal()


def receiver_that_hangs(sender, release, **kwargs):
    release.wait(30)


def test_a_stuck_receiver_is_reported_with_its_stack():
    release = threading.Event()
    reported = threading.Event()
    errors = []

    class Catch(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())
                reported.set()

    handler = Catch()
    logger = logging.getLogger("eventx_signals")
    logger.addHandler(handler)
    stuck_signal.connect(receiver_that_hangs)
    try:
        with override_settings(**backend_settings(workers=1, stuck_after=0.5)):
            stuck_signal.send(sender=None, release=release)
            assert reported.wait(10), "no ERROR was logged for the stuck receiver"
            release.set()
            wait_for_runs(10)
    finally:
        release.set()
        stuck_signal.disconnect(receiver_that_hangs)
        logger.removeHandler(handler)
    [message] = errors
    assert "tests.test_fault_paths.stuck_signal" in message
    assert "receiver_that_hangs" in message  # a line of the receiver's stack
    assert "release.wait(30)" in message


# -- 10. bursts into a full queue: counted, logged sparingly ---------------------------------

burst_signal = AsyncSignal()


@pytest.mark.parametrize("policy", ["inline", "drop"])
def test_a_burst_into_a_full_queue_is_counted_and_logged_sparingly(caplog, policy):
    threads = []

    def slowish(sender, **kwargs):
        time.sleep(0.0005)
        threads.append(threading.current_thread())

    burst_signal.connect(slowish)
    before = stats()
    try:
        with (
            override_settings(**backend_settings(workers=1, queue_size=10, when_full=policy)),
            caplog.at_level(logging.WARNING, logger="eventx_signals"),
        ):
            futures = [f for _ in range(1000) for _, f in burst_signal.send(sender=None)]
            wait_for_runs(30)
    finally:
        burst_signal.disconnect(slowish)
    after = stats()
    in_sender = sum(1 for thread in threads if thread is threading.current_thread())
    if policy == "inline":
        inline = after["inline"] - before["inline"]
        assert 0 < inline == in_sender
        assert all(f.done() and not f.cancelled() for f in futures)
        lines = eventx_records(caplog.records, logging.WARNING)
    else:
        cancelled = sum(1 for f in futures if f.cancelled())
        assert 0 < cancelled == after["dropped"] - before["dropped"]
        assert in_sender == 0
        assert len(threads) == 1000 - cancelled
        lines = eventx_records(caplog.records, logging.ERROR)
    assert 1 <= len(lines) <= 3
    for record in lines:
        message = record.getMessage()
        assert "tests.test_fault_paths.burst_signal" in message
        assert "object at 0x" not in message


# -- 11. a bad EVENTX_ASYNC_SIGNALS ---------------------------------------------------------


def test_a_signal_object_in_async_signals_is_reported_not_fatal():
    completed = run_script("bad_async_signals.py", "object-in-list")
    found = findings(completed)
    assert found["setup"] == "ok"
    assert "eventx_signals.E007" in found["check_output"]


@pytest.mark.parametrize("form", ["bare", "senders-key"])
def test_a_bad_async_signals_entry_does_not_stop_the_valid_one(form):
    completed = run_script("bad_async_signals.py", "dict-with-bad-entry", form)
    found = findings(completed)
    assert found["setup"] == "ok"
    # The valid entry (post_delete) is patched: its receiver ran on a worker.
    assert found["ran_in"].startswith("eventx") and "worker" in found["ran_in"]
    assert "django.db.models.signals.pre_delete" in found["check_output"]
    assert "post_delete" not in found["check_output"]


# -- 12. events nobody listens to ------------------------------------------------------------


def test_triggering_unheard_events_keeps_no_signal_alive():
    from eventx_signals.core.registry import registry

    gc.collect()
    events_before = len(registry.events)
    signals_before = len(registry.async_signals)
    names = [f"fault-paths-unheard-{n}" for n in range(20_000)]
    for n, name in enumerate(names):
        assert trigger_event(name, n=n) == []

    async def atrigger_some():
        return [await atrigger_event(name, n=n) for n, name in enumerate(names[:1000])]

    assert async_to_sync(atrigger_some)() == [[]] * 1000
    gc.collect()
    assert not set(names) & set(list_registered_events())
    assert len(registry.events) == events_before
    assert len(registry.async_signals) <= signals_before
