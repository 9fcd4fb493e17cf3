"""
The OpenTelemetry SDK of mode "async+trace", set up in each gunicorn worker
by ``wsgi.py``: a tracer provider whose batch span processor hands finished
spans to an exporter that appends them, one JSON object per line, to
``spans-<pid>.jsonl`` in EVENTX_HTTP_BENCH_SPAN_DIR; and a middleware that
makes a SERVER span around each request, as Django's OpenTelemetry
instrumentation does (parent from the request's ``traceparent`` header, if
any; named after the method and the route).

django-eventx flushes the batch processor at its exit drain, so the files
are complete once gunicorn's workers have exited.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult


def span_record(span: ReadableSpan) -> dict[str, object]:
    """What the benchmark counts of a finished span."""
    context = span.get_span_context()
    attributes = span.attributes or {}
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}" if context else "",
        "span_id": f"{context.span_id:016x}" if context else "",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "method": attributes.get("http.request.method"),
        "path": attributes.get("url.path"),
    }


class JsonLinesExporter(SpanExporter):
    """Appends each batch of finished spans to one file, a JSON line each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_record(span)) + "\n" for span in spans)
        with self._lock, self.path.open("a") as file:
            file.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def configure(span_dir: str) -> None:
    """Set the global tracer provider of this process (a gunicorn worker)."""
    directory = Path(span_dir)
    directory.mkdir(parents=True, exist_ok=True)
    provider = TracerProvider()
    exporter = JsonLinesExporter(directory / f"spans-{os.getpid()}.jsonl")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


class ServerSpanMiddleware:
    """A SERVER span around the rest of the request, current while the view
    runs: a ``post_save`` sent by the view makes its dispatch span a child."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.tracer = trace.get_tracer("httpbench")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parent = propagate.extract(request.headers)
        with self.tracer.start_as_current_span(
            request.method or "HTTP",
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": request.method or "", "url.path": request.path},
        ) as span:
            response = self.get_response(request)
            match = request.resolver_match
            if match is not None and match.route:
                span.update_name(f"{request.method} {match.route}")
                span.set_attribute("http.route", match.route)
            span.set_attribute("http.response.status_code", response.status_code)
            return response
