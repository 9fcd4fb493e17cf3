"""A closed-loop HTTP load: ``concurrency`` threads, each with its own
keep-alive ``http.client`` connection (reopened when the server closes it),
sending the next request of a shared list as soon as the last is answered."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass

REQUEST_TIMEOUT = 30.0


@dataclass
class Answer:
    path: str
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    seconds: float
    worker: str | None


def run_load(
    port: int,
    paths: list[str],
    *,
    concurrency: int,
    time_limit: float,
    method: str = "POST",
    host: str = "127.0.0.1",
    pace: float = 0.0,
) -> list[Answer]:
    """Send every path once; return the answers in the order of ``paths``.
    With ``pace``, each client starts a request at most every ``pace``
    seconds (an open-ish load at concurrency / pace requests per second),
    the clients' starts spread evenly over ``pace`` rather than in step,
    so that requests arrive one every pace / concurrency seconds, as
    independent users' do, not in bursts of ``concurrency`` at once."""
    answers: list[Answer | None] = [None] * len(paths)
    next_index = iter(range(len(paths)))
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit

    def take() -> int | None:
        with lock:
            return next(next_index, None)

    first_start = time.monotonic()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
        try:
            next_start = first_start + n * pace / concurrency
            while time.monotonic() < deadline:
                if pace:
                    time.sleep(max(0.0, next_start - time.monotonic()))
                    next_start += pace
                index = take()
                if index is None:
                    return
                path = paths[index]
                began = time.perf_counter()
                try:
                    conn.request(method, path, body=b"")
                    response = conn.getresponse()
                    response.read()
                    answers[index] = Answer(
                        path, response.status, time.perf_counter() - began,
                        response.getheader("X-Worker-Pid"),
                    )  # fmt: skip
                except (OSError, http.client.HTTPException):
                    conn.close()  # reopened by the next request
                    answers[index] = Answer(path, None, time.perf_counter() - began, None)
        finally:
            conn.close()

    threads = [
        threading.Thread(target=client, args=(n,), name=f"load-{n}", daemon=True)
        for n in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT + 5)
    missing = sum(1 for a in answers if a is None)
    if missing:
        raise AssertionError(f"{missing} of {len(paths)} requests not sent within {time_limit} s")
    return answers  # type: ignore[return-value]


class BackgroundLoad:
    """run_load() in a thread, for tests that act on workers meanwhile."""

    def __init__(self, port: int, paths: list[str], **kwargs: object) -> None:
        self.result: list[Answer] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(port, paths), kwargs=kwargs, daemon=True
        )

    def _run(self, port: int, paths: list[str], **kwargs: object) -> None:
        try:
            self.result = run_load(port, paths, **kwargs)  # type: ignore[arg-type]
        except BaseException as exc:
            self.error = exc

    def start(self) -> BackgroundLoad:
        self._thread.start()
        return self

    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self, timeout: float) -> list[Answer]:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the load did not finish within {timeout} s")
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


@dataclass
class Plan:
    """The requests of a load: paths in order, and the request ids that must
    commit (``good``) or roll back (``bad``)."""

    paths: list[str]
    good: set[str]
    bad: set[str]


def request_plan(prefix: str, count: int, *, fail_every: int = 10, slow_tail: int = 0) -> Plan:
    """``count`` requests: every ``fail_every``-th to /fail/ (rolled back),
    the others to /save/; the last ``slow_tail`` get "-slow-" ids, whose
    receiver is slow (a backlog when the load ends)."""
    paths, good, bad = [], set(), set()
    for n in range(count):
        slow = "-slow" if n >= count - slow_tail else ""
        rid = f"{prefix}{slow}-{n:05d}"
        if fail_every and n % fail_every == fail_every - 1:
            paths.append(f"/fail/{rid}/")
            bad.add(rid)
        else:
            paths.append(f"/save/{rid}/")
            good.add(rid)
    return Plan(paths, good, bad)


def rid_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def unexpected_answers(answers: list[Answer], plan: Plan) -> dict[str, int | None]:
    """Answers other than 201 for /save/ and 500 for /fail/."""
    return {
        rid_of(a.path): a.status
        for a in answers
        if a.status != (201 if rid_of(a.path) in plan.good else 500)
    }
