"""Run receivers inline, at dispatch time (debugging, tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from ..core.counters import counters
from ..engine.run import run
from .base import BaseBackend

if TYPE_CHECKING:
    from ..engine.delivery import Delivery


class ImmediateBackend(BaseBackend):
    """
    Runs every receiver inline: in the caller's thread, before ``send()``
    returns.

    Futures, logging and counters behave as with the background backends;
    the caller's database connections are left alone, so a dispatch inside
    an open transaction sees (and stays inside) that transaction. It takes
    no options.
    """

    def submit(self, delivery: Delivery) -> None:
        counters.dispatched.add(len(delivery.receivers))
        counters.record_inline(self.alias, delivery.receivers)
        run(delivery, alias=self.alias)

    async def asubmit(self, delivery: Delivery) -> None:
        # Sync receivers may use the ORM, which refuses to run inside an
        # event loop: run the delivery in Django's thread for sync code.
        await sync_to_async(self.submit)(delivery)


#: Runs keep_inline receivers, and every receiver under eager().
inline_backend = ImmediateBackend("inline")
