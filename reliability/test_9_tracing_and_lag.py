"""
Scenario 9: what OpenTelemetry shows of dispatches, with the SDK configured
as a deployment would (``relapp/telemetry.py``).

Traces: gunicorn (gthread) makes a SERVER span per request (a middleware, as
Django's instrumentation does); the view saves a Request, whose post_save
goes to the Celery backend; a prefork ``celery worker`` runs the receiver.
Both export through a ``BatchSpanProcessor`` (spans held up to 5 s) to one
JSON-lines file per process. Each request must be one trace: SERVER ->
PRODUCER ``send`` (in the gunicorn worker) -> CONSUMER ``process`` (in the
Celery child that ran the receiver), which only holds if the send's context
travels in the payload; and the spans a prefork child still holds when the
worker stops must be exported by the exit drain.

Queue lag: one gunicorn worker whose thread backend has one worker thread
and a 100 ms receiver, sent a burst of 40 requests: the receivers fall
behind. Its metrics, scraped from the Prometheus exporter while the queue
is backed up and once it has drained, must show the queue (eventx_queue_depth
> 0), one lag measurement per run, and a mean lag well above the receiver's
own mean duration from the same metrics.
"""

import json
import threading
import uuid
from collections import Counter, defaultdict

import pytest
from harness import procs, services
from harness.load import request_plan, rid_of, run_load, unexpected_answers

TRACED_REQUESTS = 20
BURST = 40
RECEIVER_SECONDS = 0.1
LAG_OVER_DURATION = 5  # the mean lag must exceed this many mean receiver durations


def count(table: str) -> int:
    return services.scalar(f"SELECT count(*) FROM {table}")


@pytest.mark.limit(120)
def test_a_request_and_its_celery_run_are_one_trace(
    database, broker, otel_sdk_installed, tmp_path, logdir, measured
):
    span_dir = tmp_path / "spans"
    span_dir.mkdir()
    env = procs.project_env(
        REL_BACKEND="celery",
        REL_RECEIVER="record",
        REL_RECORD_RUNS="1",
        REL_LOG_DIR=logdir,
        REL_OTEL_SPAN_DIR=span_dir,
    )
    plan = request_plan("traced", TRACED_REQUESTS, fail_every=0)
    worker = procs.CeleryWorker(
        env, tmp_path / "celery.log", f"rel-traced-{uuid.uuid4().hex[:6]}@localhost", pool="prefork"
    )
    server = procs.Gunicorn(env, tmp_path / "gunicorn.log")
    with worker, server:
        worker.wait_ready()
        server.wait_ready()
        answers = run_load(server.port, plan.paths, concurrency=4, time_limit=60)
        procs.wait_until(
            lambda: count("relapp_receiverrun") >= TRACED_REQUESTS, 60, "every receiver run"
        )
        procs.wait_until(
            lambda: count("eventx_signals_receiverrun") >= TRACED_REQUESTS, 30, "the run log rows"
        )
        # Stopped at once: what the batch processors still hold is exported
        # by the exit drain (gunicorn's workers at exit, Celery's prefork
        # children on worker_process_shutdown, as they end with os._exit()).
        assert server.terminate(timeout=120) == 0, server.log_tail()
        assert worker.terminate(timeout=60) == 0, worker.log_tail()

    wrong = unexpected_answers(answers, plan)
    assert not wrong, f"{len(wrong)} unexpected answers, e.g. {list(wrong.items())[:5]}"
    spans = procs.span_records(span_dir)
    traces: dict[str, list[dict]] = defaultdict(list)
    for span in spans:
        traces[span["trace_id"]].append(span)
    run_pids = dict(services.rows("SELECT rid, pid FROM relapp_receiverrun"))
    run_log = dict(services.rows("SELECT dispatch_id, trace_id FROM eventx_signals_receiverrun"))
    servers = {
        rid_of(span["attributes"]["url.path"]): span
        for span in spans
        if span["kind"] == "SERVER" and span["attributes"]["url.path"].startswith("/save/")
    }
    problems: list[str] = []
    whole = 0
    for answer in answers:
        rid = rid_of(answer.path)
        server_span = servers.get(rid)
        if server_span is None:
            problems.append(f"{rid}: no SERVER span")
            continue
        trace = traces[server_span["trace_id"]]
        kinds = Counter(span["kind"] for span in trace)
        if kinds != {"SERVER": 1, "PRODUCER": 1, "CONSUMER": 1}:
            problems.append(f"{rid}: its trace has {dict(kinds)}")
            continue
        [send] = [span for span in trace if span["kind"] == "PRODUCER"]
        [run] = [span for span in trace if span["kind"] == "CONSUMER"]
        dispatch_id = send["attributes"]["messaging.message.id"]
        checks = {
            "SERVER span in the worker that answered": server_span["pid"] == int(answer.worker),
            "PRODUCER child of SERVER": send["parent_span_id"] == server_span["span_id"],
            "PRODUCER in the same process": send["pid"] == server_span["pid"],
            "CONSUMER child of PRODUCER": run["parent_span_id"] == send["span_id"],
            "CONSUMER in another process": run["pid"] not in (server_span["pid"], worker.pid),
            "CONSUMER in the child that ran it": run["pid"] == run_pids.get(rid),
            "same dispatch id": run["attributes"].get("eventx.dispatch_id") == dispatch_id,
            "run log row in the trace": run_log.get(dispatch_id) == server_span["trace_id"],
        }
        failed = [what for what, ok in checks.items() if not ok]
        if failed:
            problems.append(f"{rid}: not {', '.join(failed)}")
        else:
            whole += 1
    request_traces = {servers[rid]["trace_id"] for rid in servers}
    # Everything else is a lone SERVER span of /health/ (the harness's
    # readiness checks): a CONSUMER outside its request's trace is a run
    # whose context did not travel.
    stray = [
        span
        for span in spans
        if span["trace_id"] not in request_traces
        and not (span["kind"] == "SERVER" and span["attributes"]["url.path"] == "/health/")
    ]
    consumers = [span for span in spans if span["kind"] == "CONSUMER"]
    run_in_trace = {
        rid
        for rid, span in servers.items()
        if any(s["kind"] == "CONSUMER" for s in traces[span["trace_id"]])
    }
    runs_without_span = sorted(set(run_pids) - run_in_trace)
    measured.update(
        requests=len(answers),
        whole_traces=whole,
        spans=dict(Counter(span["kind"] for span in spans)),
        stray_spans=len(stray),
        consumer_pids=len({span["pid"] for span in consumers}),
        runs=len(run_pids),
        runs_without_span=len(runs_without_span),
        run_log_rows=len(run_log),
        gunicorn_stop_s=round(server.stop_seconds, 1),
        celery_stop_s=round(worker.stop_seconds, 1),
    )
    print(f"\ntraces: {measured}")
    assert problems == [], f"{len(problems)} requests not traced whole: {problems[:5]}"
    assert whole == TRACED_REQUESTS
    assert len(run_pids) == TRACED_REQUESTS and runs_without_span == []
    assert len(consumers) == TRACED_REQUESTS, f"{len(consumers)} CONSUMER spans"
    assert stray == [], f"{len(stray)} spans outside the requests' traces: {stray[:3]}"
    warnings = [r for r in procs.log_records(logdir) if r["level"] in ("WARNING", "ERROR")]
    assert not warnings, warnings[:3]


# -- queue lag ----------------------------------------------------------------------


def scrape(port: int) -> dict[str, list[tuple[dict, float]]] | None:
    """The samples /metrics shows, by sample name; None if it does not answer."""
    from prometheus_client.parser import text_string_to_metric_families  # the test extra

    try:
        status, body, _ = procs.http_get(port, "/metrics", timeout=5)
    except OSError:
        return None
    if status != 200 or not isinstance(body, str):
        return None
    samples: dict[str, list[tuple[dict, float]]] = defaultdict(list)
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    return samples


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of the samples ``name`` that have ``labels``."""
    return sum(
        value
        for sample_labels, value in samples.get(name, ())
        if all(sample_labels.get(key) == want for key, want in labels.items())
    )


class Scraper:
    """Scrapes /metrics in a loop from a thread, keeping each scrape's queue
    depth of the default backend."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.depths: list[float] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scraper", daemon=True)

    def __enter__(self) -> "Scraper":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                samples = scrape(self.port)
                if samples is not None:
                    self.depths.append(
                        total(samples, "eventx_queue_depth", eventx_backend="default")
                    )
                self._stop.wait(0.02)
        except BaseException as exc:  # reported by the test
            self.error = exc


@pytest.mark.limit(120)
def test_queue_lag_from_metrics_while_receivers_fall_behind(
    database, otel_sdk_installed, tmp_path, logdir, measured
):
    metrics_port = procs.free_port()
    env = procs.project_env(
        REL_BACKEND="thread",
        REL_THREAD_OPTIONS=json.dumps({"workers": 1}),
        REL_RECEIVER="record",
        REL_RECEIVER_SLEEP=RECEIVER_SECONDS,
        REL_METRICS_PORT=metrics_port,
        REL_LOG_DIR=logdir,
    )
    plan = request_plan("lag", BURST, fail_every=0)
    server = procs.Gunicorn(env, tmp_path / "gunicorn.log", workers=1)

    def drained() -> dict | None:
        samples = scrape(metrics_port)
        succeeded = samples and total(samples, "eventx_runs_total", eventx_outcome="succeeded")
        return samples if succeeded and succeeded >= BURST else None

    with server:
        server.wait_ready()
        procs.wait_until(lambda: scrape(metrics_port), 30, "the metrics endpoint")
        with Scraper(metrics_port) as scraper:
            answers = run_load(server.port, plan.paths, concurrency=16, time_limit=60)
            after_burst = scrape(metrics_port) or {}
            procs.wait_until(lambda: count("relapp_receiverrun") >= BURST, 60, "every receiver run")
            # A run is counted once its receiver has returned, just after its row.
            final = procs.wait_until(drained, 30, f"{BURST} succeeded runs in the metrics")
        status = server.terminate(timeout=120)
    assert scraper.error is None, scraper.error

    wrong = unexpected_answers(answers, plan)
    assert not wrong, f"{len(wrong)} unexpected answers, e.g. {list(wrong.items())[:5]}"
    assert status == 0, server.log_tail()
    runs = count("relapp_receiverrun")
    labels = {"eventx_backend": "default", "eventx_receiver": "relapp.receivers.record_run"}
    lag_count = total(final, "eventx_queue_lag_seconds_count", **labels)
    lag_sum = total(final, "eventx_queue_lag_seconds_sum", **labels)
    duration_count = total(final, "eventx_run_duration_seconds_count", **labels)
    duration_sum = total(final, "eventx_run_duration_seconds_sum", **labels)
    lag_mean = lag_sum / lag_count if lag_count else 0.0
    duration_mean = duration_sum / duration_count if duration_count else 0.0
    measured.update(
        runs=runs,
        scrapes=len(scraper.depths),
        depth_max=max(scraper.depths, default=0),
        depth_after_burst=total(after_burst, "eventx_queue_depth", eventx_backend="default"),
        depth_drained=total(final, "eventx_queue_depth", eventx_backend="default"),
        lag_count=lag_count,
        lag_mean_s=round(lag_mean, 3),
        duration_mean_s=round(duration_mean, 3),
        lag_over_duration=round(lag_mean / duration_mean, 1) if duration_mean else None,
    )
    print(f"\nqueue lag: {measured}")
    assert runs == BURST
    assert max(scraper.depths, default=0) > 0, "the queue never showed in eventx_queue_depth"
    assert measured["depth_drained"] == 0
    assert lag_count == runs, f"{lag_count} lag measurements for {runs} runs"
    assert duration_count == runs
    assert duration_mean >= RECEIVER_SECONDS  # the receiver sleeps that long
    assert lag_mean > LAG_OVER_DURATION * duration_mean, (
        f"mean lag {lag_mean:.3f} s, mean run {duration_mean:.3f} s: the queue did not show"
    )
    warnings = [r for r in procs.log_records(logdir) if r["level"] in ("WARNING", "ERROR")]
    assert not warnings, warnings[:3]
