"""The OpenTelemetry SDK as the tests configure it: spans kept in memory, and
in worker processes written to a file the test reads (EVENTX_TEST_SPAN_FILE),
one JSON object per line."""

import json
import threading

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def span_record(span):
    """What the tests look at of a finished span, as plain values."""
    context = span.get_span_context()
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes),
        "events": [event.name for event in span.events],
    }


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span to a file, one JSON line each."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def export(self, spans):
        lines = "".join(json.dumps(span_record(span)) + "\n" for span in spans)
        with self.lock, open(self.path, "a") as file:
            file.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


def read_span_file(path):
    with open(path) as file:
        return [json.loads(line) for line in file if line.strip()]


def configure(span_file=None):
    """Set the global tracer and meter providers (once per process): spans
    to memory (and to ``span_file``), metrics to an in-memory reader."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    if span_file:
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(span_file)))
    trace.set_tracer_provider(provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return memory, reader
