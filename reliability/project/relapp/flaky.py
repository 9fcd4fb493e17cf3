"""Which attempts of the flaky receiver fail: 30 % of them, deterministically,
by request id and attempt (the same answer in every process)."""

import hashlib

FAIL_PERCENT = 30
MAX_ATTEMPTS = 3
BACKOFF = 0.05


def fails(rid: str, attempt: int) -> bool:
    digest = hashlib.sha256(f"{rid}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < FAIL_PERCENT


def succeeding_attempt(rid: str) -> int | None:
    """The attempt that succeeds, or None when all MAX_ATTEMPTS fail."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if not fails(rid, attempt):
            return attempt
    return None


def failed_attempts(rid: str) -> int:
    """How many attempts of this request's run fail (each logged once)."""
    ok = succeeding_attempt(rid)
    return MAX_ATTEMPTS if ok is None else ok - 1
