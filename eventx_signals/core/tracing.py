"""
OpenTelemetry traces of dispatches and runs (the ``otel`` extra: only
``opentelemetry-api`` is needed; an SDK configured by the project makes the
spans real).

A send makes a PRODUCER span, ``send <signal>``, child of the sender's
current span; each attempt of each receiver run makes a CONSUMER span,
``process <signal>``, child of the dispatch span, current while the receiver
runs (so that what the receiver traces nests under it). The dispatch span's
context travels with the delivery: in memory on the thread backend, as W3C
``traceparent``/``tracestate`` in the payload of the out-of-process ones.

Without the API installed nothing of OpenTelemetry is imported; with it
installed and no tracer provider set (no SDK), a send pays one check of
the API's provider slot (``internals``, item 9) and makes no span.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from ..internals import TRACER_PROVIDER as _slot
from . import process
from .labels import receiver_label, sender_label, signal_label

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError:  # the otel extra is not installed
    trace = None  # type: ignore[assignment]

#: The value of ``messaging.system``: no registered value fits a signal.
SYSTEM = "django_eventx"
INSTRUMENTATION = "eventx_signals"

if trace is not None:
    _tracer = trace.get_tracer(INSTRUMENTATION)
#: ``getattr(PROVIDER_HOLDER, PROVIDER_ATTRIBUTE)`` is None while no tracer
#: provider is set: the send path reads it without a call.
PROVIDER_HOLDER, PROVIDER_ATTRIBUTE = _slot.holder, _slot.attribute


#: Whether the OpenTelemetry API is installed.
installed = trace is not None


def enabled() -> bool:
    """Whether spans are made: the API is installed and a tracer provider
    (an SDK) is set."""
    return _slot.is_set()


# -- the sender's side ------------------------------------------------------------------


@contextlib.contextmanager
def dispatching(delivery: Any, backend_alias: str) -> Iterator[None]:
    """
    The PRODUCER span of ``delivery``'s dispatch around its hand-off to the
    backend ``backend_alias``: child of the current span, its context given
    to the delivery (``delivery.trace``), status ERROR if the hand-off
    raises. The send path enters it once a tracer provider is set
    (``PROVIDER_HOLDER``).
    """
    span = _start_dispatch(delivery)
    try:
        yield
    except BaseException as exc:
        _end_dispatch(span, backend_alias, exc)
        raise
    _end_dispatch(span, backend_alias)


def _start_dispatch(delivery: Any) -> Any:
    if not _flush_registered:
        _register_flush()
    label = signal_label(delivery.signal)
    span = _tracer.start_span(
        f"send {label}",
        kind=SpanKind.PRODUCER,
        attributes={
            **_messaging_attributes("send", label, delivery),
            "messaging.batch.message_count": len(delivery.receivers),
        },
    )
    delivery.trace = trace.set_span_in_context(span)
    return span


def _messaging_attributes(operation: str, label: str, delivery: Any) -> dict[str, Any]:
    """The attributes a dispatch's span and its runs' spans share: the
    messaging conventions' own, then ours."""
    return {
        "messaging.system": SYSTEM,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": label,
        "messaging.message.id": delivery.dispatch_id,
        "eventx.sender": sender_label(delivery.sender),
        "eventx.dispatch_id": delivery.dispatch_id,
    }


def _end_dispatch(span: Any, backend_alias: str, exc: BaseException | None = None) -> None:
    """End a PRODUCER span once the hand-off is done (or failed with ``exc``)."""
    span.set_attribute("eventx.backend", backend_alias)
    if exc is not None:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    span.end()


def carrier(delivery: Any) -> dict[str, str]:
    """The W3C trace context of ``delivery``'s dispatch, for a payload
    (empty when the dispatch has no span)."""
    context = getattr(delivery, "trace", None)
    if trace is None or context is None:
        return {}
    headers: dict[str, str] = {}
    propagate.inject(headers, context=context)
    return headers


def context_from(headers: Any) -> Any:
    """The parent context a payload's trace headers name, or None."""
    if trace is None or not isinstance(headers, Mapping) or not headers:
        return None
    clean = {str(key): value for key, value in headers.items() if isinstance(value, str)}
    context = propagate.extract(clean)
    if not trace.get_current_span(context).get_span_context().is_valid:
        return None
    return context


def trace_id(delivery: Any) -> str:
    """The trace id of ``delivery``'s dispatch, as 32 hex digits ("" when it
    has none)."""
    context = getattr(delivery, "trace", None)
    if trace is None or context is None:
        return ""
    return _hex_trace_id(trace.get_current_span(context).get_span_context())


# -- the runs ---------------------------------------------------------------------------

# Runs under way in this thread, innermost last (a receiver may send with a
# receiver that runs inline, nested in its own run): (span, context, token).
_runs = threading.local()


def start_run(delivery: Any, receiver: Any, alias: str) -> None:
    """Start the CONSUMER span of one attempt of ``receiver`` and make it
    current in the delivery's context, where the receiver runs."""
    if not _slot.is_set():
        _stack().append(None)
        return
    if not _flush_registered:
        _register_flush()
    label = signal_label(delivery.signal)
    parent = delivery.trace
    if parent is None:  # no dispatch span: the sender's current context
        parent = delivery.context.run(otel_context.get_current)
    span = _tracer.start_span(
        f"process {label}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            **_messaging_attributes("process", label, delivery),
            "eventx.receiver": receiver_label(receiver),
            "eventx.backend": alias,
            "eventx.attempt": delivery.attempt,
        },
    )
    token = delivery.context.run(otel_context.attach, trace.set_span_in_context(span, parent))
    _stack().append((span, delivery.context, token))


def end_run(exc: BaseException | None = None, retry_in: float | None = None) -> None:
    """End the span of the run ``start_run()`` began last in this thread:
    status ERROR with the exception when the attempt failed."""
    stack = _stack()
    if not stack:
        return
    entry = stack.pop()
    if entry is None:
        return
    span, context, token = entry
    try:
        context.run(otel_context.detach, token)
    finally:
        if exc is not None:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            if retry_in is not None:
                span.set_attribute("eventx.retry_in", retry_in)
        span.end()


def current_trace_id() -> str:
    """The trace id of the run under way in this thread, or of the current
    span ("" for none)."""
    stack = _stack()
    for entry in reversed(stack):
        if entry is not None:
            return _hex_trace_id(entry[0].get_span_context())
    return ""


def _hex_trace_id(span_context: Any) -> str:
    return f"{span_context.trace_id:032x}" if span_context.is_valid else ""


def _stack() -> list[Any]:
    try:
        return _runs.stack  # type: ignore[no-any-return]
    except AttributeError:
        _runs.stack = []
        return _runs.stack  # type: ignore[no-any-return]


# -- exit -------------------------------------------------------------------------------


def _flush_at_exit(deadline: float) -> None:
    """Export the spans a batch processor still holds, once the exit drain
    has run the last receivers: a process that ends with ``os._exit()``
    (a Celery prefork child) skips the SDK's own flush at exit."""
    if not _slot.is_set():
        return
    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is None:
        return
    try:
        flush(max(0, int((deadline - time.monotonic()) * 1000)))
    except Exception:
        logging.getLogger("eventx_signals").warning(
            "Flushing the spans of this process at exit failed.", exc_info=True
        )


_flush_registered = False


def _register_flush() -> None:
    """Flush at exit, from the first span on: registered after the SDK's
    provider (made before it), so that it runs before the SDK shuts it down
    (atexit runs the last registered first)."""
    global _flush_registered
    if not _flush_registered:
        _flush_registered = True
        process.after_exit_drain(_flush_at_exit)
