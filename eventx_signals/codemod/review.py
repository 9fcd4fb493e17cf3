"""
The review list: one line per signal definition or receiver that is not safe to make
asynchronous as it is, with every reason found::

    shop/signals.py:7: review: signal pre_payment: its name starts with pre_: ...; sent with view=self (this PaymentView) at shop/views.py:40, request=request at ...: ...

A reason found at several places (a signal sent with ``request=request`` from three
views) is given once, with its first place and how many more there are; reasons of one
kind (two live arguments) share their lead and their explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

from .source import Diagnostic

__all__ = ["Reason", "review_item"]


@dataclass(frozen=True)
class Reason:
    """Why something needs review: ``lead text at where why``."""

    text: str  # what was found: "request=request"
    where: str = ""  # where it was found, if not at the item itself: "shop/views.py:12"
    why: str = ""  # what it means once asynchronous, starting with its punctuation
    lead: str = ""  # what reasons of its kind start with, said once: "sent with "


def review_item(name: str, line: int, subject: str, reasons: list[Reason]) -> Diagnostic:
    """The review line of ``subject`` ("signal order_paid"), defined at ``name:line``."""
    places: dict[tuple[str, str, str], list[str]] = {}
    for reason in reasons:
        found = places.setdefault((reason.lead, reason.why, reason.text), [])
        if reason.where and reason.where not in found:
            found.append(reason.where)
    kinds: dict[tuple[str, str], list[str]] = {}  # (lead, why) -> its texts, with places
    for (lead, why, text), where in places.items():
        more = f" and {len(where) - 1} more" if len(where) > 1 else ""
        kinds.setdefault((lead, why), []).append(f"{text} at {where[0]}{more}" if where else text)
    parts = [lead + ", ".join(texts) + why for (lead, why), texts in kinds.items()]
    return name, line, 0, f"review: {subject}: {'; '.join(parts)}"
