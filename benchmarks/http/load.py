"""
Closed-loop HTTP load: one thread per keep-alive http.client connection,
each sending its next request as soon as the last one is answered. A
warm-up of a few requests (not recorded) lets every connection, worker and
thread start before the clock starts.

Connections are first spread evenly over the server's worker processes.
gunicorn's gthread workers share one listening socket and a keep-alive
connection stays with the worker that accepted it; which one accepts is up
to the kernel, and an 8/0 split would leave 4 threads serving 8 clients
while the other process idles.
"""

from __future__ import annotations

import http.client
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

REQUEST_TIMEOUT_S = 30.0
WORKER_HEADER = "X-Worker-Pid"


@dataclass
class LoadResult:
    latencies_s: list[float]
    statuses: Counter[int]
    transport_errors: int  # refused, reset, timed out: no HTTP status at all
    workers: Counter[str]  # recorded responses per worker process
    elapsed_s: float  # wall time of the recorded phase
    warmup_sent: int
    deadline_hit: bool

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def failures(self) -> int:
        """Non-2xx responses plus requests that got no response."""
        bad = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return bad + self.transport_errors

    @property
    def throughput(self) -> float:
        return self.answered / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class Placement:
    connections: list[http.client.HTTPConnection]
    attempts: int  # connections opened to get there
    balanced: bool


def _send(conn: http.client.HTTPConnection, method: str, path: str) -> tuple[int, str] | None:
    """One request on a kept-alive connection: its status and the worker
    that answered, or None if no response came."""
    try:
        conn.request(method, path, body=b"")
        response = conn.getresponse()
        response.read()  # the connection can only be reused once drained
        return response.status, response.getheader(WORKER_HEADER, "?")
    except (OSError, http.client.HTTPException):
        # http.client reconnects on the next request once closed.
        conn.close()
        return None


def open_connections(
    host: str,
    port: int,
    *,
    count: int,
    processes: int,
    probe_path: str,
    balance: bool = True,
    max_attempts: int = 200,
) -> Placement:
    """Open `count` connections, at most ceil(count / processes) per server
    worker process: a connection that lands on a full worker (the probe
    answer names it) is closed and opened again, up to `max_attempts`."""
    quota = math.ceil(count / processes) if balance else count
    placed: Counter[str] = Counter()
    connections: list[http.client.HTTPConnection] = []
    attempts = 0
    while len(connections) < count and attempts < max_attempts:
        attempts += 1
        conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
        answer = _send(conn, "GET", probe_path)
        if answer is not None and answer[0] == 200 and placed[answer[1]] < quota:
            placed[answer[1]] += 1
            connections.append(conn)
        else:
            conn.close()
    balanced = len(connections) == count
    while len(connections) < count:  # balancing gave up: take what comes
        connections.append(http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S))
    return Placement(connections, attempts, balanced and balance)


class _Tickets:
    """Hands out at most `total` permissions to send, across threads."""

    def __init__(self, total: int) -> None:
        self._left = total
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


@dataclass
class _ThreadResult:
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    workers: Counter[str] = field(default_factory=Counter)
    warmup_sent: int = 0


def run_load(
    connections: list[http.client.HTTPConnection],
    method: str,
    path: str,
    *,
    requests: int,
    warmup: int,
    time_limit_s: float,
) -> LoadResult:
    """Drive the given connections, one thread each; closes them."""
    concurrency = len(connections)
    warm_tickets = _Tickets(warmup)
    tickets = _Tickets(requests)
    # All threads, and this one, meet between warm-up and the recorded phase.
    start_line = threading.Barrier(concurrency + 1)
    deadline = time.monotonic() + time_limit_s
    results = [_ThreadResult() for _ in range(concurrency)]

    def client(conn: http.client.HTTPConnection, result: _ThreadResult) -> None:
        passed_start = False
        try:
            while warm_tickets.take() and time.monotonic() < deadline:
                _send(conn, method, path)
                result.warmup_sent += 1
            try:
                start_line.wait(timeout=time_limit_s)
            except threading.BrokenBarrierError:
                return
            passed_start = True
            while tickets.take() and time.monotonic() < deadline:
                began = time.perf_counter()
                answer = _send(conn, method, path)
                elapsed = time.perf_counter() - began
                if answer is None:
                    result.transport_errors += 1
                else:
                    result.statuses[answer[0]] += 1
                    result.workers[answer[1]] += 1
                    result.latencies_s.append(elapsed)
        finally:
            conn.close()
            if not passed_start:
                # Failed before the start line: release the others at once
                # rather than let them wait for the barrier's timeout.
                start_line.abort()

    threads = [
        threading.Thread(target=client, args=(c, r), name=f"load-{i}", daemon=True)
        for i, (c, r) in enumerate(zip(connections, results))
    ]
    for thread in threads:
        thread.start()
    try:
        start_line.wait(timeout=time_limit_s)
    except threading.BrokenBarrierError:
        pass
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 5)
    elapsed = time.perf_counter() - began

    merged = LoadResult([], Counter(), 0, Counter(), elapsed, 0, time.monotonic() >= deadline)
    for r in results:
        merged.latencies_s.extend(r.latencies_s)
        merged.statuses.update(r.statuses)
        merged.transport_errors += r.transport_errors
        merged.workers.update(r.workers)
        merged.warmup_sent += r.warmup_sent
    return merged
