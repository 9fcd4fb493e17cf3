"""``async def`` receivers on the thread backend run on their worker's own
long-lived event loop (eventx_signals/worker_loops.py)."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from eventx_signals import AsyncSignal
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.engine import loops as worker_loops


def backend(**options):
    return ThreadBackend("loops", options)


async def report_loop(sender, **kwargs):
    loop = asyncio.get_running_loop()
    sync_thread = await sync_to_async(threading.current_thread)()
    return loop, threading.current_thread(), sync_thread


def test_one_worker_runs_every_async_receiver_on_one_loop_and_queries_on_itself():
    pool = backend(workers=1)
    try:
        signal = AsyncSignal(backend=pool)
        signal.connect(report_loop)
        runs = [future.result(10) for _ in range(20) for _, future in signal.send(None)]
        loops = {id(loop) for loop, _, _ in runs}
        loop_threads = {thread for _, thread, _ in runs}
        sync_threads = {thread for _, _, thread in runs}
        assert len(loops) == 1 and len(loop_threads) == 1
        # sync_to_async (Django's async ORM) runs on the worker itself, whose
        # connections are cared for, not on the loop's thread.
        [sync_thread] = sync_threads
        assert sync_thread.name.startswith("eventx") and "worker" in sync_thread.name
        assert sync_thread not in loop_threads
    finally:
        pool.close(timeout=10)
    [loop_thread] = loop_threads
    loop_thread.join(5)  # closing the pool ends the worker, which ends its loop
    assert not loop_thread.is_alive()
    assert runs[0][0].is_closed()


def test_the_loop_ends_when_its_worker_idles():
    pool = backend(workers=1, connection_max_idle=0.2)
    try:
        signal = AsyncSignal(backend=pool)
        signal.connect(report_loop)
        [(_, future)] = signal.send(None)
        loop, loop_thread, _ = future.result(10)
        loop_thread.join(10)
        assert not loop_thread.is_alive() and loop.is_closed()
        # The next run starts a new loop.
        [(_, future)] = signal.send(None)
        next_loop, next_thread, _ = future.result(10)
        assert next_loop is not loop and next_thread.is_alive()
    finally:
        pool.close(timeout=10)


def test_a_task_a_receiver_left_running_is_cancelled_when_the_loop_closes():
    cancelled = threading.Event()
    started = threading.Event()

    async def forever():
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    tasks = []

    async def leaves_a_task(sender, **kwargs):
        tasks.append(asyncio.get_running_loop().create_task(forever()))

    pool = backend(workers=1)
    signal = AsyncSignal(backend=pool)
    signal.connect(leaves_a_task)
    try:
        [(_, future)] = signal.send(None)
        future.result(10)
        assert started.wait(10)
        assert not cancelled.is_set()  # still running after the receiver returned
    finally:
        pool.close(timeout=10)
    assert cancelled.wait(10)


def test_an_async_receiver_blocking_its_loop_holds_up_only_its_own_worker():
    release = threading.Event()
    blocking = threading.Event()

    async def blocks_its_loop(sender, block, **kwargs):
        if block:
            blocking.set()
            release.wait(20)  # a blocking call in async code: a bug, but a common one
        return "done"

    pool = backend(workers=2)
    signal = AsyncSignal(backend=pool)
    signal.connect(blocks_its_loop)
    try:
        [(_, blocked)] = signal.send(None, block=True)
        assert blocking.wait(10)
        [(_, other)] = signal.send(None, block=False)
        assert other.result(10) == "done"  # the other worker's loop is free
        assert not blocked.done()
    finally:
        release.set()
        pool.close(timeout=10)
    assert blocked.result(10) == "done"


def test_without_asgirefs_thread_local_each_run_gets_a_loop_of_its_own(monkeypatch):
    monkeypatch.setattr(worker_loops, "ASGIREF_THREADLOCAL", None)
    pool = backend(workers=1)
    try:
        signal = AsyncSignal(backend=pool)
        signal.connect(report_loop)
        runs = [future.result(10) for _ in range(3) for _, future in signal.send(None)]
    finally:
        pool.close(timeout=10)
    assert len({id(loop) for loop, _, _ in runs}) == 3
    assert all(loop.is_closed() for loop, _, _ in runs)
    assert {thread.name for _, _, thread in runs} == {runs[0][2].name}


@pytest.mark.parametrize("error", [ValueError("boom"), asyncio.CancelledError()])
def test_a_failing_receiver_leaves_its_loop_to_the_next_one(error):
    async def fails(sender, **kwargs):
        raise error

    pool = backend(workers=1)
    try:
        signal = AsyncSignal(backend=pool)
        signal.connect(report_loop)
        [(_, before)] = signal.send(None)
        signal.disconnect(report_loop)
        signal.connect(fails)
        [(_, failed)] = signal.send(None)
        with pytest.raises(type(error)):
            failed.result(10)
        signal.disconnect(fails)
        signal.connect(report_loop)
        [(_, after)] = signal.send(None)
        assert after.result(10)[0] is before.result(10)[0]
        assert not after.result()[0].is_closed()
    finally:
        pool.close(timeout=10)
