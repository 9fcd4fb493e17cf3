"""Run receivers inline, at dispatch time (debugging, tests)."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from ..delivery import Delivery
from ..stats import counters
from .base import BaseBackend


class ImmediateBackend(BaseBackend):
    """
    Runs every receiver in the caller's thread before ``send()`` returns.

    Futures, logging and counters behave as with the background backends;
    the caller's database connections are left alone, so a dispatch inside
    an open transaction sees (and stays inside) that transaction. It takes
    no options.
    """

    def submit(self, delivery: Delivery) -> None:
        counters.accepted.add(len(delivery))
        delivery.run(alias=self.alias)

    async def asubmit(self, delivery: Delivery) -> None:
        counters.accepted.add(len(delivery))
        # Sync receivers may use the ORM, which refuses to run inside an
        # event loop: run the delivery in Django's thread for sync code.
        await sync_to_async(delivery.run)(alias=self.alias)


#: Runs keep_inline receivers, and every receiver under eager().
inline_backend = ImmediateBackend("inline")
