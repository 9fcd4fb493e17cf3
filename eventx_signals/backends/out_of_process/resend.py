"""
``manage.py eventx resend``: receiver runs of the out-of-process backends
sent again from the payloads their ERROR log lines hold (a hand-off that
failed, a payload a worker refused).

Every payload is checked as a worker will check it before any is sent (its
JSON strict, its signature, its signal and receiver known here), so that a
bad line sends nothing; a run found twice (a payload refused twice is logged
twice) is sent once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...exceptions import InvalidBackend
from ..handler import backends
from . import OutOfProcessBackend, payloads, signing


def _no_constant(name: str) -> Any:
    # NaN and Infinity: Python's JSON reads them, no task store takes them.
    raise ValueError(f"{name} is not JSON")


def payload_from_text(text: str) -> dict[str, Any]:
    """The payload in ``text``: a JSON object, or a log line holding one
    after ``Payload: `` (``payloads.payload_for_log``). Raises ValueError
    saying what is wrong."""
    prefix = payloads.LOGGED_PAYLOAD_PREFIX
    text = text.strip()
    candidates = [text]
    start = text.find(prefix)
    while start >= 0:  # the message before it may hold the prefix too
        candidates.append(text[start + len(prefix) :])
        start = text.find(prefix, start + 1)
    for candidate in candidates:
        try:
            payload = json.loads(candidate, parse_constant=_no_constant)
        except ValueError:
            continue
        if isinstance(payload, dict):
            return payload
    raise ValueError(
        f"it is neither a JSON object nor a log line holding one after {prefix.strip()!r} "
        "(NaN and Infinity are not JSON)"
    )


def backend_to_resend(payload: dict[str, Any]) -> OutOfProcessBackend:
    """
    The backend that takes a payload again: the one of the alias it names.
    Raises ValueError if the payload names no alias of an out-of-process
    backend.
    """
    alias = payload.get("backend")
    if not isinstance(alias, str) or not alias:
        raise ValueError("the payload names no backend alias (its 'backend' key)")
    try:
        backend = backends[alias]
    except InvalidBackend as exc:
        raise ValueError(str(exc).rstrip(".")) from exc
    if not isinstance(backend, OutOfProcessBackend):
        raise ValueError(
            f"the backend alias {alias!r} ({type(backend).__name__}) runs receivers in "
            "this process; only payloads of the django_tasks and celery backends are "
            "sent again"
        )
    return backend


def check_as_a_worker_will(payload: dict[str, Any]) -> None:
    """Refuse (ValueError) what a worker with this process's code would
    refuse: an unsigned or altered payload, an unknown signal or receiver,
    values it cannot decode."""
    try:
        payloads.decode_payload(payload)
    except payloads.RefusedPayload as exc:
        raise ValueError(f"a worker would refuse it: {str(exc).rstrip('.')}") from None


def run_key(payload: dict[str, Any]) -> object:
    """What tells one receiver run's attempt from another: its dispatch,
    receiver and attempt (or its whole text, for a payload without a
    dispatch id)."""
    dispatch = payload.get("dispatch")
    if isinstance(dispatch, str):
        return (dispatch, payload.get("receiver"), payload.get("attempt"))
    return payload.get(signing.SIGNATURE) or json.dumps(payload, sort_keys=True)


@dataclass
class Resend:
    """The runs to send again, checked, without repeats."""

    runs: list[tuple[int, dict[str, Any], OutOfProcessBackend]] = field(default_factory=list)
    #: Numbers of the lines that repeated an earlier one, with that one's.
    repeats: list[tuple[int, int]] = field(default_factory=list)


def plan(texts: list[str]) -> Resend:
    """Check every line; raise ValueError naming the first bad one (by its
    number, from 1) before anything is sent."""
    resend = Resend()
    first_seen: dict[object, int] = {}
    for number, text in enumerate(texts, 1):
        try:
            payload = payload_from_text(text)
            backend = backend_to_resend(payload)
            check_as_a_worker_will(payload)
        except ValueError as exc:
            raise ValueError(f"Payload {number}: {exc}.") from exc
        key = run_key(payload)
        if key in first_seen:
            resend.repeats.append((number, first_seen[key]))
            continue
        first_seen[key] = number
        resend.runs.append((number, payload, backend))
    return resend
