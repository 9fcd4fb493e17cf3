"""
Payloads that leave the process are signed, so that a worker runs only what
a process holding the site's ``SECRET_KEY`` sent: a payload forged into a
broker or a task table (one naming a superuser, say) is refused.

The signature is a keyed BLAKE2b (``hashlib.blake2b(key=...)``, the MAC the
standard library offers in place of HMAC) of the payload's canonical JSON,
with a key derived from ``SECRET_KEY`` for this use only, written in hex
(base64 would cost as much again as the hash). It is kept in the
payload itself under ``"sig"``, so that a payload stays readable in the
broker, in the task store and in a log line. Workers accept a signature made
with ``SECRET_KEY`` or any of ``SECRET_KEY_FALLBACKS``, so keys rotate the
way Django's signed values do.

Why not Django's ``Signer`` (HMAC-SHA256): on the request path, between an
ORM insert and a broker publish, OpenSSL's HMAC cost 15-20 µs per payload
where BLAKE2b costs 2-3, and a ``Signer`` also derives its key anew for every
value; together signing was a tenth of a Django Tasks hand-off
(benchmarks/backends.py). The derived keys are kept per secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from django.conf import settings

#: The key of a payload that holds its signature.
SIGNATURE = "sig"
# Keeps the keys derived here apart from any other use of SECRET_KEY.
_PERSON = b"eventx.payload"

# A payload is a tree (built by the codec, or decoded from JSON): no cycle to look for.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
)


def _canonical(payload: dict[str, Any]) -> bytes:
    if SIGNATURE in payload:
        payload = {key: value for key, value in payload.items() if key != SIGNATURE}
    return _CANONICAL.encode(payload).encode()  # ASCII: the encoder escapes the rest


@lru_cache(maxsize=16)
def _key(secret: str | bytes) -> bytes:
    """The signing key derived from ``secret`` (``SECRET_KEY`` or a fallback)."""
    if isinstance(secret, str):
        secret = secret.encode()
    return hashlib.blake2b(secret, digest_size=64, person=_PERSON).digest()


def _signature(secret: str | bytes, message: bytes) -> str:
    return hashlib.blake2b(message, key=_key(secret), digest_size=32).hexdigest()


def sign(payload: dict[str, Any]) -> dict[str, Any]:
    """Put the signature of ``payload`` into it (replacing an earlier one)
    and return it."""
    payload[SIGNATURE] = _signature(settings.SECRET_KEY, _canonical(payload))
    return payload


def signed(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``payload`` with ``changes``, signed anew (a retry's next
    attempt, say)."""
    return sign({**payload, **changes})


def has_valid_signature(payload: dict[str, Any]) -> bool:
    """Whether ``payload`` was signed with ``SECRET_KEY`` or one of
    ``SECRET_KEY_FALLBACKS`` and not changed since."""
    signature = payload.get(SIGNATURE)
    if not isinstance(signature, str) or not signature.isascii():
        return False  # compare_digest takes ASCII strings only
    try:
        message = _canonical(payload)
    except (ValueError, TypeError, RecursionError):
        return False  # RecursionError: nested deeper than JSON can write
    return any(
        hmac.compare_digest(_signature(secret, message), signature)
        for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    )
