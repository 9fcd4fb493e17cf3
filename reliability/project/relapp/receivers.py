"""Receivers, module-level so that out-of-process workers find them by name.
Which post_save receiver is connected depends on REL_RECEIVER."""

import asyncio
import os
import time

from django.conf import settings
from django.db.models.signals import post_save

from eventx_signals import current_attempt, retry

from . import flaky, preload
from .models import ReceiverRun, Request
from .signals import lag_signal


class FlakyReceiverError(ConnectionError):
    """The deliberate failure of flaky_run."""


def record_run(sender, instance, created, **kwargs):
    """An I/O-bound receiver (a sleep standing in for an e-mail), then a write."""
    if not created:
        return None
    if instance.rid.startswith("master-"):  # scenario 2: sent before fork
        preload.wait_at_gate()
    delay = settings.REL_RECEIVER_SLEEP
    if "-slow-" in instance.rid:  # the last requests of a load: a backlog at SIGTERM
        delay = settings.REL_RECEIVER_SLOW_SLEEP
    if delay:
        time.sleep(delay)
    ReceiverRun.objects.create(
        rid=instance.rid, receiver="record_run", pid=os.getpid(), attempt=current_attempt()
    )
    return instance.rid


@retry(max_attempts=flaky.MAX_ATTEMPTS, backoff=flaky.BACKOFF)
def flaky_run(sender, instance, created, **kwargs):
    """Fails 30 % of its attempts (deterministic by request id and attempt)."""
    if not created:
        return None
    attempt = current_attempt()
    if flaky.fails(instance.rid, attempt):
        raise FlakyReceiverError(f"deliberate failure of {instance.rid} #{attempt}")
    ReceiverRun.objects.create(
        rid=instance.rid, receiver="flaky_run", pid=os.getpid(), attempt=attempt
    )
    return instance.rid


def connect():
    mode = settings.REL_RECEIVER
    if mode == "record":
        post_save.connect(record_run, sender=Request, dispatch_uid="relapp.record_run")
    elif mode == "flaky":
        post_save.connect(flaky_run, sender=Request, dispatch_uid="relapp.flaky_run")
    elif mode == "closure":  # a receiver no worker process can find by name

        def record_locally(sender, instance, **kwargs):
            pass

        post_save.connect(record_locally, sender=Request, weak=False)
    lag_receivers = settings.REL_LAG_RECEIVERS
    if lag_receivers in ("both", "sync"):
        lag_signal.connect(slow_sync_receiver, dispatch_uid="relapp.slow_sync_receiver")
    if lag_receivers in ("both", "async"):
        lag_signal.connect(slow_async_receiver, dispatch_uid="relapp.slow_async_receiver")


# Scenario 5: slow I/O receivers of an AsyncSignal sent with asend().
LAG_RECEIVER_SLEEP = 0.05


async def slow_async_receiver(sender, rid, **kwargs):
    await asyncio.sleep(LAG_RECEIVER_SLEEP)
    return rid


def slow_sync_receiver(sender, rid, **kwargs):
    time.sleep(LAG_RECEIVER_SLEEP)
    return rid
