"""
Closed-loop HTTP load: one thread per keep-alive connection,
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

import math
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

REQUEST_TIMEOUT_S = 30.0
WORKER_HEADER = "X-Worker-Pid"
WORKER_HEADER_BYTES = WORKER_HEADER.lower().encode("ascii")


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
    connections: list[KeepAliveConnection]
    attempts: int  # connections opened to get there
    balanced: bool


class KeepAliveConnection:
    """One keep-alive HTTP/1.1 connection over a plain socket.

    The client shares the machine's 2 CPUs with the server under test, so it
    does as little as it can: the request bytes are built once, and of the
    response it reads only the status line, Content-Length and the worker
    header. Measured against a local server answering gunicorn's headers:
    60-80 µs of CPU per request, where http.client, which parses every
    header with the email package, took 190-210 µs."""

    def __init__(self, host: str, port: int, timeout: float = REQUEST_TIMEOUT_S) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = b""

    def send(self, request: bytes) -> tuple[int, str] | None:
        """Send ``request`` (see `request_bytes`); the response's status and
        the worker that answered, or None if no complete response came."""
        try:
            if self._sock is None:
                self._sock = socket.create_connection((self.host, self.port), self.timeout)
                self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock.sendall(request)
            head = self._read_until(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length, worker, keep_alive = 0, "?", True
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == WORKER_HEADER_BYTES:
                    worker = value.strip().decode("ascii")
                elif name == b"connection" and value.strip().lower() == b"close":
                    keep_alive = False
            self._read_exactly(length)  # the connection can only be reused once drained
            if not keep_alive:
                self.close()
            return status, worker
        except (OSError, ValueError, IndexError):
            # Reconnects on the next request once closed.
            self.close()
            return None

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            self._fill()
        head, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _fill(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        self._buffer += chunk


def request_bytes(method: str, path: str, host: str, port: int) -> bytes:
    """An HTTP/1.1 request with an empty body, as sent on every request."""
    return (f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 0\r\n\r\n").encode(
        "ascii"
    )


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
    connections: list[KeepAliveConnection] = []
    attempts = 0
    while len(connections) < count and attempts < max_attempts:
        attempts += 1
        conn = KeepAliveConnection(host, port)
        answer = conn.send(request_bytes("GET", probe_path, host, port))
        if answer is not None and answer[0] == 200 and placed[answer[1]] < quota:
            placed[answer[1]] += 1
            connections.append(conn)
        else:
            conn.close()
    balanced = len(connections) == count
    while len(connections) < count:  # balancing gave up: take what comes
        connections.append(KeepAliveConnection(host, port))
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
    connections: list[KeepAliveConnection],
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

    def client(conn: KeepAliveConnection, result: _ThreadResult) -> None:
        request = request_bytes(method, path, conn.host, conn.port)
        passed_start = False
        try:
            while warm_tickets.take() and time.monotonic() < deadline:
                conn.send(request)
                result.warmup_sent += 1
            try:
                start_line.wait(timeout=time_limit_s)
            except threading.BrokenBarrierError:
                return
            passed_start = True
            while tickets.take() and time.monotonic() < deadline:
                began = time.perf_counter()
                answer = conn.send(request)
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
