"""
The notes that close a run: the review list (one line per signal definition or receiver
that needs review, ``review``) and the counts of what was converted, proposed and left
for review, with the flags that change that (``--all``, ``--all-senders``).
"""

from __future__ import annotations

from .receivers import SENDER_NOT_KNOWN, Receiver
from .review import review_item
from .signal_review import Definition
from .source import Diagnostic

__all__ = ["review_list", "summary"]


def review_list(
    definitions: list[Definition], receivers: list[Receiver], *, all_senders: bool
) -> list[Diagnostic]:
    """One review line per signal definition or receiver that needs review."""
    items = [
        review_item(d.src.name, d.call.lineno, f"signal {d.name}", d.reasons)
        for d in definitions
        if d.reasons
    ]
    for r in receivers:
        reasons = [*r.reasons, *([SENDER_NOT_KNOWN] if r.any_sender and not all_senders else [])]
        if reasons:
            subject = f"receiver {r.handler} of {r.signal.rpartition('.')[2]}"
            items.append(review_item(r.name, r.line, subject, reasons))
    return items


def summary(
    definitions: list[Definition],
    receivers: list[Receiver],
    *,
    include_review: bool,
    all_senders: bool,
) -> list[str]:
    """How many definitions and receivers were converted, proposed or left for review."""
    lines = []
    review = sum(1 for d in definitions if d.reasons)
    if definitions and include_review:
        lines.append(
            f"Signal() definitions: {len(definitions)} converted (--all), {review} of them "
            "listed for review."
        )
    elif definitions:
        lines.append(
            f"Signal() definitions: {len(definitions) - review} safe to make async, converted"
            + (
                f"; {review} listed for review, left as they are (convert them once reviewed, "
                "or pass --all)."
                if review
                else "."
            )
        )
    if not receivers:
        return lines
    for_what = [r for r in receivers if r.reasons and not include_review]
    for_sender = [r for r in receivers if r.any_sender and not all_senders]
    left_out = len({id(r) for r in for_what + for_sender})
    reviewed = sum(1 for r in receivers if r.reasons or (r.any_sender and not all_senders))
    line = f"Receivers of built-in model signals: {len(receivers) - left_out} in the suggestion"
    if left_out:
        flags = [
            *(["--all to include those that need review for what they do"] if for_what else []),
            *(["--all-senders to include those whose sender is not known"] if for_sender else []),
        ]
        line += f", {left_out} listed for review and left out of it (pass {' and '.join(flags)})"
    if reviewed > left_out:
        line += f", {reviewed - left_out} in it listed for review"
    lines.append(line + ".")
    return lines
