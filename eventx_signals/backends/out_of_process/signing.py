"""
Payloads that leave the process are signed, so that a worker runs only what
a process holding the site's ``SECRET_KEY`` sent: a payload forged into a
broker or a task table (one naming a superuser, say) is refused.

The signature is Django's (``django.core.signing.Signer``: HMAC-SHA256 keyed
by ``SECRET_KEY``, salted for this use) over the payload's canonical JSON,
and is kept in the payload itself under ``"sig"``, so that a payload stays
readable in the broker, in the task store and in a log line. Workers accept
a signature made with ``SECRET_KEY`` or any of ``SECRET_KEY_FALLBACKS``, so
keys rotate the way Django's do.
"""

from __future__ import annotations

import json
from typing import Any

from django.core import signing

#: The key of a payload that holds its signature.
SIGNATURE = "sig"
_SALT = "eventx_signals.payload"


def _canonical(payload: dict[str, Any]) -> str:
    unsigned = {key: value for key, value in payload.items() if key != SIGNATURE}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sign(payload: dict[str, Any]) -> dict[str, Any]:
    """Put the signature of ``payload`` into it (replacing an earlier one)
    and return it."""
    payload[SIGNATURE] = signing.Signer(salt=_SALT).signature(_canonical(payload))
    return payload


def signed(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``payload`` with ``changes``, signed anew (a retry's next
    attempt, say)."""
    return sign({**payload, **changes})


def has_valid_signature(payload: dict[str, Any]) -> bool:
    """Whether ``payload`` was signed with ``SECRET_KEY`` or one of
    ``SECRET_KEY_FALLBACKS`` and not changed since."""
    signature = payload.get(SIGNATURE)
    if not isinstance(signature, str):
        return False
    signer = signing.Signer(salt=_SALT)
    try:
        signer.unsign(f"{_canonical(payload)}{signer.sep}{signature}")
    except (signing.BadSignature, ValueError, TypeError, RecursionError):
        return False  # RecursionError: nested deeper than JSON can write
    return True
