"""The hand-off to a Celery broker has a deadline: a broker that accepts
connections but never answers neither blocks send() past handoff_timeout nor
stalls an ASGI process's thread-sensitive executor, and the run it did not
take is dropped with its payload logged, or run here, as the alias says."""

import asyncio
import logging
import socket
import threading
import time
from contextlib import contextmanager

import pytest
from asgiref.sync import sync_to_async
from celery import Celery

from eventx_signals import AsyncSignal, stats
from eventx_signals.backends.celery import CeleryBackend
from eventx_signals.backends.out_of_process.handoff import HandoffTimeout
from eventx_signals.backends.out_of_process.resend import payload_from_text
from tests.testapp.models import Order


class SilentBroker:
    """Accepts connections on loopback, reads what comes, answers nothing."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self):
        self.server.close()
        for connection in self.accepted:
            connection.close()


#: A Celery app whose broker is the silent one, while a test runs.
silent_app = None
#: Sent to a CeleryBackend on that app (the tests set its backend).
order_paid_silently = AsyncSignal()
ran_here = []


def record_payment(sender, order, **kwargs):
    ran_here.append((order.number, threading.current_thread().name))
    return f"recorded {order.number}"


order_paid_silently.connect(record_payment)


@pytest.fixture
def silent_broker():
    global silent_app
    broker = SilentBroker()
    silent_app = Celery("silent", broker=f"redis://127.0.0.1:{broker.port}/0", set_as_current=False)
    silent_app.conf.update(task_serializer="json", accept_content=["json"])
    ran_here.clear()
    yield broker
    broker.close()
    silent_app = None


@contextmanager
def silent_backend(**options):
    """order_paid_silently on a CeleryBackend of the silent broker."""
    backend = CeleryBackend("silent", {"app": "tests.test_handoff_deadline.silent_app", **options})
    order_paid_silently.backend = backend
    try:
        yield backend
    finally:
        order_paid_silently.backend = None
        backend.close()


def test_a_broker_that_never_answers_delays_a_send_only_up_to_the_timeout(silent_broker, caplog):
    caplog.set_level(logging.ERROR, "eventx_signals")
    before = stats()["dropped"]
    with silent_backend(handoff_timeout=0.5):
        started = time.monotonic()
        [(_, future)] = order_paid_silently.send(sender=Order, order=Order(number="H-1"))
        first = time.monotonic() - started
        assert isinstance(future.exception(0), HandoffTimeout)
        # Every hand-off thread now waits on the broker: later sends fail at
        # once instead of each waiting out the timeout again.
        for number in range(2, 6):
            order_paid_silently.send(sender=Order, order=Order(number=f"H-{number}"))
        started = time.monotonic()
        [(_, future)] = order_paid_silently.send(sender=Order, order=Order(number="H-6"))
        at_once = time.monotonic() - started
        assert isinstance(future.exception(0), HandoffTimeout)
        assert "all 4 hand-off threads" in str(future.exception())
    assert silent_broker.accepted  # it did connect
    assert first >= 0.5  # it waited for the broker, up to the timeout
    assert at_once < first  # and then no more
    assert stats()["dropped"] - before == 6
    lines = [r.getMessage() for r in caplog.records if "Could not hand" in r.getMessage()]
    assert len(lines) == 6
    assert payload_from_text(lines[0])["kwargs"]["order"]["fields"]["number"] == "H-1"
    assert ran_here == []


def test_when_the_broker_fails_the_run_can_run_here_instead(silent_broker, caplog):
    ran_here.clear()
    before = stats()["fallback"]
    caplog.set_level(logging.WARNING, "eventx_signals")
    with silent_backend(handoff_timeout=0.3, when_handoff_fails="thread"):
        [(_, future)] = order_paid_silently.send(sender=Order, order=Order(number="H-7"))
        assert future.result(10) == "recorded H-7"  # the receiver's value: it ran here
    assert ran_here[0][0] == "H-7" and ran_here[0][1].startswith("eventx-silent-worker-")
    assert stats()["fallback"] - before == 1
    assert any("when_handoff_fails='thread'" in r.getMessage() for r in caplog.records)


def test_asend_never_holds_the_thread_sensitive_executor(silent_broker):
    """Django's async ORM runs in the one thread-sensitive executor: while a
    hand-off waits on the broker, an ORM call must not wait behind it."""
    finished = []

    async def scenario():
        send = asyncio.ensure_future(
            order_paid_silently.asend(sender=Order, order=Order(number="H-8"))
        )
        await asyncio.sleep(0)  # the send is under way

        def orm_like_call():
            return "done"

        assert await sync_to_async(orm_like_call)() == "done"
        finished.append("thread-sensitive call")
        [(_, future)] = await send
        finished.append("asend")
        return future

    with silent_backend(handoff_timeout=1.0):
        future = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert finished == ["thread-sensitive call", "asend"]
    assert isinstance(future.exception(0), HandoffTimeout)


def test_a_bad_timeout_is_refused():
    assert CeleryBackend.option_errors({"handoff_timeout": 0}) == [
        "Option 'handoff_timeout' must be a finite number of seconds > 0, not 0."
    ]
    assert "when_handoff_fails" in CeleryBackend.option_errors({"when_handoff_fails": "retry"})[0]
