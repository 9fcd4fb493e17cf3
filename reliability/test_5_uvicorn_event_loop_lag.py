"""
Scenario 5: uvicorn (one process, asyncio loop) serving an async view that
awaits ``lag_signal.asend(...)``; the signal's receivers are slow I/O, one
``async def`` receiver awaiting asyncio.sleep(0.05) and one plain receiver
calling time.sleep(0.05), on a 16-thread backend. A task in the server's
loop wakes every 5 ms and records how late it woke (GET /lag/).

One server run, measured once per module (``lag_run``): a warm-up of 64
sends, then ROUNDS rounds, each with one phase of REQUESTS requests to
/noop/ (the same async view without the send: the lag of the server itself,
and of the machine) and one to /asend/, in alternating order, each phase
once the previous one's receivers have all run. Both tests judge /asend/
against /noop/ of the same round, and take the median over the rounds, as
benchmarks/ compares contenders: the machine this runs on is shared, and
stalls now and then for tens of milliseconds or more (one /noop/ phase
reached a max of 104 ms while the /asend/ phases of the same run stayed
under 42 ms), so an absolute bound fails on the machine rather than on
the library. A stall spoils one phase; the median of the rounds ignores it.

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
per ~600 requests, /noop/ included.

test_asend_never_waits_for_its_receivers: what the documentation promises, that
asend() returns once the work is queued: an asend() that waited for its
100 ms of receivers would hold the loop for that long on every request.

test_event_loop_lag_close_to_a_view_that_sends_nothing: the loop's p99 and
worst lateness while serving /asend/ are at most LAG_RATIO times those of
/noop/ in the same round (median over the rounds), /noop/'s counting as at
least LAG_FLOOR_MS.
"""

import os
from statistics import median

import pytest
from harness import procs
from harness.load import run_load

ROUNDS = 5
REQUESTS = 400  # per phase: 2.5 s at 160 requests/s
WARMUP = 64
PACE = 0.1  # seconds between the starts of one connection's requests
RECEIVERS_MS = 100  # the two receivers of one send, one after the other
# /asend/'s p99 and max lag may be this many times /noop/'s ...
LAG_RATIO = 3.0
# ... where /noop/'s counts as at least this much: the watcher wakes every
# 5 ms and a thread waits up to one GIL switch interval (5 ms) for the GIL,
# so below 10 ms a ratio compares noise.
LAG_FLOOR_MS = 10.0
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
    """{"noop": [...], "asend": [...]}: one phase per round each, as
    (lag, sorted request latencies in ms); "stats", "sent", "exit", "log"."""
    tmp = tmp_path_factory.mktemp("uvicorn")
    env = procs.project_env(REL_BACKEND="thread", REL_RECEIVER="none", REL_LOG_DIR=tmp)
    server = procs.Uvicorn(env, tmp / "uvicorn.log")
    run: dict = {"noop": [], "asend": []}
    with server:
        server.wait_ready()
        load_phase(server.port, "asend", WARMUP)
        sent = WARMUP
        run["stats"] = wait_for_receivers(server.port, PER_SEND * sent)
        for round_ in range(ROUNDS):
            # Alternating order, so that neither view always follows the other.
            for view in ("noop", "asend") if round_ % 2 == 0 else ("asend", "noop"):
                run[view].append(load_phase(server.port, view, REQUESTS))
                if view == "asend":
                    sent += REQUESTS
                    # The next phase starts with no receiver left running.
                    run["stats"] = wait_for_receivers(server.port, PER_SEND * sent)
        run["sent"] = sent
        run["exit"] = server.terminate(timeout=30)
        run["log"] = server.log_tail()
    return run


def per_round(run: dict, figure) -> tuple[list[float], list[float]]:
    """``figure(lag, latencies)`` of each round's /asend/ and /noop/ phase."""
    return (
        [figure(*phase) for phase in run["asend"]],
        [figure(*phase) for phase in run["noop"]],
    )


@pytest.mark.limit(150)
def test_asend_never_waits_for_its_receivers(lag_run, measured):
    stats = lag_run["stats"]
    request_p50, noop_request_p50 = per_round(lag_run, lambda lag, times: median(times))
    lag_p50, noop_lag_p50 = per_round(lag_run, lambda lag, times: lag["p50_ms"])
    measured.update(
        lag_p50_ms=[round(v, 1) for v in lag_p50],
        noop_lag_p50_ms=[round(v, 1) for v in noop_lag_p50],
        request_p50_ms=[round(v, 1) for v in request_p50],
        noop_request_p50_ms=[round(v, 1) for v in noop_request_p50],
        receiver_runs=stats["succeeded"],
    )
    assert lag_run["exit"] in (0, 128 + 15), lag_run["log"]
    assert stats["failed"] == 0 and stats["dropped"] == 0 and stats["inline"] == 0, stats
    assert stats["succeeded"] == PER_SEND * lag_run["sent"], stats  # every receiver ran
    # The watcher ran all along.
    assert all(lag["count"] >= 100 for lag, _ in lag_run["asend"] + lag_run["noop"])
    # Waiting for the receivers would add 100 ms to every request and hold
    # the loop for as long at each one: half of that over /noop/ of the same
    # round, in most rounds.
    request_excess = [a - n for a, n in zip(request_p50, noop_request_p50)]
    lag_excess = [a - n for a, n in zip(lag_p50, noop_lag_p50)]
    assert median(request_excess) < RECEIVERS_MS / 2, (request_p50, noop_request_p50)
    assert median(lag_excess) < 10, (
        [shown(lag) for lag, _ in lag_run["asend"]],
        [shown(lag) for lag, _ in lag_run["noop"]],
    )


def lag_ratio(run: dict, key: str) -> float:
    """The median over the rounds of /asend/'s lag figure ``key`` divided by
    /noop/'s, the latter counting as at least LAG_FLOOR_MS."""
    asend, noop = per_round(run, lambda lag, times: lag[key])
    return median([a / max(n, LAG_FLOOR_MS) for a, n in zip(asend, noop)])


@pytest.mark.limit(150)
def test_event_loop_lag_close_to_a_view_that_sends_nothing(lag_run, measured):
    p99_ratio, max_ratio = lag_ratio(lag_run, "p99_ms"), lag_ratio(lag_run, "max_ms")
    measured.update(p99_ratio=round(p99_ratio, 2), max_ratio=round(max_ratio, 2))
    for key in ("p99_ms", "max_ms"):
        asend, noop = per_round(lag_run, lambda lag, times, key=key: lag[key])
        measured[f"lag_{key}"] = [round(v, 1) for v in asend]
        measured[f"noop_lag_{key}"] = [round(v, 1) for v in noop]
    figures = (
        f"median of {ROUNDS} rounds, at most {LAG_RATIO}x. Per round, asend: "
        + "; ".join(shown(lag) for lag, _ in lag_run["asend"])
        + ". The same server on a view sending nothing: "
        + "; ".join(shown(lag) for lag, _ in lag_run["noop"])
    )
    # The p99 rises with a block that recurs (one wake-up in a hundred); the
    # max also with one that happens once a phase, and with any stall of the
    # machine, which the median of the rounds leaves out.
    assert p99_ratio <= LAG_RATIO, f"p99 lag {p99_ratio:.2f}x that of /noop/ ({figures})"
    assert max_ratio <= LAG_RATIO, f"max lag {max_ratio:.2f}x that of /noop/ ({figures})"
