"""Run receivers inline, at dispatch time (debugging, tests)."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from ..dispatch import Dispatch
from ..stats import counters
from .base import BaseBackend


class ImmediateBackend(BaseBackend):
    """
    Runs every receiver in the caller's thread before ``send()`` returns.

    Futures, logging and counters behave as with the background backends;
    the caller's database connections are left alone, so a dispatch inside
    an open transaction sees (and stays inside) that transaction. It takes
    no options and ignores EVENTX_BACKEND_OPTIONS.
    """

    ignores_options = True

    def submit(self, dispatch: Dispatch) -> None:
        counters.accepted(len(dispatch))
        dispatch.run()

    async def asubmit(self, dispatch: Dispatch) -> None:
        counters.accepted(len(dispatch))
        # Sync receivers may use the ORM, which refuses to run inside an
        # event loop: run the dispatch in Django's thread for sync code.
        await sync_to_async(dispatch.run)()
