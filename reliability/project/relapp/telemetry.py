"""OpenTelemetry as a deployment would set it up (scenario 9), only when the
test asks for it:

- ``REL_OTEL_SPAN_DIR``: a tracer provider with a ``BatchSpanProcessor``
  (the SDK's defaults: spans held up to 5 s, so that the ones a process
  ends with are exported by the exit flush), writing every span as one JSON
  line to ``spans-<pid>.jsonl`` in that directory, one file per process;
  and ``ServerSpanMiddleware``, a SERVER span per request, as Django's
  OpenTelemetry instrumentation makes.
- ``REL_METRICS_PORT``: a meter provider with the Prometheus exporter,
  served on that port (``GET /metrics``) by prometheus_client.

Configured from ``RelappConfig.ready()``: once per process, in each
gunicorn worker and in the Celery main process (whose prefork children
inherit the provider; the batch processor restarts its thread after fork).
Imported only when one of the variables is set: the other scenarios run
without OpenTelemetry's SDK.
"""

from __future__ import annotations

import json
import os
import threading

from opentelemetry import metrics, propagate, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind
from prometheus_client import start_http_server


def configure_from_env() -> None:
    span_dir = os.environ.get("REL_OTEL_SPAN_DIR")
    if span_dir:
        configure_tracing(span_dir)
    port = os.environ.get("REL_METRICS_PORT")
    if port:
        serve_metrics(int(port))


def configure_tracing(directory: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "relproj"}))
    provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(directory)))
    trace.set_tracer_provider(provider)


def serve_metrics(port: int) -> None:
    start_http_server(port, addr="127.0.0.1")
    metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))


class JsonLinesSpanExporter(SpanExporter):
    """Appends each exported span to ``<directory>/spans-<pid>.jsonl``: the
    pid is the exporting process's, which is the one that made the span
    (a batch processor exports from a thread of its own process, and forgets
    what it held when the process forks)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.lock = threading.Lock()

    def export(self, spans):
        pid = os.getpid()
        lines = "".join(json.dumps(_record(span, pid)) + "\n" for span in spans)
        with self.lock, open(os.path.join(self.directory, f"spans-{pid}.jsonl"), "a") as file:
            file.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def _record(span, pid: int) -> dict:
    context = span.get_span_context()
    return {
        "pid": pid,
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "attributes": dict(span.attributes or {}),
    }


class ServerSpanMiddleware:
    """A SERVER span around each request, current while the view runs, named
    ``<method> <route>`` once the URL is resolved; the parent is taken from
    the request's ``traceparent`` header when it has one."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.tracer = trace.get_tracer("relapp.telemetry")

    def __call__(self, request):
        parent = propagate.extract(dict(request.headers))
        with self.tracer.start_as_current_span(
            request.method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "url.path": request.path},
        ) as span:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            if match is not None and match.route:
                span.update_name(f"{request.method} {match.route}")
                span.set_attribute("http.route", match.route)
            span.set_attribute("http.response.status_code", response.status_code)
            return response
