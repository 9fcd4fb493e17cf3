import asyncio
import gc
import os
import statistics
import time

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

import eventx_signals

from .models import Request
from .signals import lag_signal

PID = str(os.getpid())


class DeliberateFailure(Exception):
    """Raised after saving, inside transaction.atomic(): the save rolls back."""


def _tagged(response):
    response["X-Worker-Pid"] = str(os.getpid())
    return response


@csrf_exempt
def save(request, rid):
    Request.objects.create(rid=rid)
    return _tagged(JsonResponse({"rid": rid}, status=201))


@csrf_exempt
def fail(request, rid):
    with transaction.atomic():
        Request.objects.create(rid=rid)  # its post_save dispatch waits for the commit
        raise DeliberateFailure(rid)


def health(request):
    return _tagged(HttpResponse("ok", content_type="text/plain"))


def stats(request):
    return _tagged(JsonResponse(eventx_signals.stats()))


# -- scenario 5: an async view on uvicorn, and the event loop's lag --------------

LAG_INTERVAL = 0.005
_lag = {"task": None, "samples": [], "gc": []}
_gc_started = {}


def _gc_callback(phase, info, perf_counter=time.perf_counter):
    """Durations of the garbage collector's passes, for /lag/ (registered by
    the first async request, so only in the ASGI server)."""
    if phase == "start":
        _gc_started["t"] = perf_counter()
    elif "t" in _gc_started:
        _lag["gc"].append((info["generation"], perf_counter() - _gc_started.pop("t")))


async def _watch_loop():
    """Schedule itself every 5 ms and record how late each wake-up is."""
    loop = asyncio.get_running_loop()
    samples = _lag["samples"]
    while True:
        expected = loop.time() + LAG_INTERVAL
        await asyncio.sleep(LAG_INTERVAL)
        samples.append(max(0.0, loop.time() - expected))


def _ensure_watcher():
    if _gc_callback not in gc.callbacks:
        gc.callbacks.append(_gc_callback)
    task = _lag["task"]
    if task is None or task.done():
        _lag["task"] = asyncio.get_running_loop().create_task(_watch_loop())


async def asend(request, rid):
    _ensure_watcher()
    responses = await lag_signal.asend(sender=None, rid=rid)
    return JsonResponse({"rid": rid, "receivers": len(responses)})


async def noop(request, rid):
    """The same request without the send: the server's own lag."""
    _ensure_watcher()
    return JsonResponse({"rid": rid, "receivers": 0})


async def lag(request):
    _ensure_watcher()
    samples = sorted(_lag["samples"])
    if not samples:
        return JsonResponse({"count": 0})
    passes = _lag["gc"]
    return JsonResponse(
        {
            "gc_passes": len(passes),
            "gc_max_ms": max((d for _, d in passes), default=0.0) * 1000,
            "gc_gen2_passes": sum(1 for g, _ in passes if g == 2),
            "count": len(samples),
            "p50_ms": statistics.median(samples) * 1000,
            "p99_ms": samples[int(0.99 * (len(samples) - 1))] * 1000,
            "max_ms": samples[-1] * 1000,
        }
    )


async def lag_reset(request):
    _ensure_watcher()
    _lag["samples"].clear()
    _lag["gc"].clear()
    return JsonResponse({"reset": True})


async def astats(request):
    return JsonResponse(eventx_signals.stats())
