"""
The fields every log record about a run carries as ``extra``, so that a
JSON formatter (python-json-logger, structlog) writes them as fields of
their own: ``eventx_signal``, ``eventx_receiver``, ``eventx_sender``,
``eventx_backend``, ``eventx_attempt``, ``eventx_dispatch_id`` and
``eventx_trace_id`` (empty when the run is not traced).
"""

from __future__ import annotations

from typing import Any

from ..core import tracing
from ..core.labels import receiver_label, sender_label, signal_label


def run_fields(delivery: Any, receiver: Any, alias: str) -> dict[str, Any]:
    """The ``extra`` of a log record about one run of ``receiver``."""
    return {
        "eventx_signal": signal_label(delivery.signal),
        "eventx_receiver": receiver_label(receiver),
        "eventx_sender": sender_label(delivery.sender),
        "eventx_backend": alias,
        "eventx_attempt": delivery.attempt,
        "eventx_dispatch_id": delivery.dispatch_id,
        "eventx_trace_id": tracing.current_trace_id() or tracing.trace_id(delivery),
    }


def dispatch_fields(delivery: Any, alias: str) -> dict[str, Any]:
    """The ``extra`` of a log record about every run of a delivery (a drop,
    a full queue): ``eventx_receiver`` lists them, comma-separated."""
    fields = run_fields(delivery, None, alias)
    fields["eventx_receiver"] = ",".join(receiver_label(r) for r in delivery.receivers)
    fields["eventx_trace_id"] = tracing.trace_id(delivery)
    return fields
