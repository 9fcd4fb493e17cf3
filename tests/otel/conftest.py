"""The OpenTelemetry SDK, configured for this whole test session (a global
tracer provider can be set once per process): spans kept in memory, metrics
read on demand."""

import pytest

from tests.otel_spans import configure, span_record

EXPORTER, METRIC_READER = configure()


@pytest.fixture
def spans():
    """The spans finished during the test, as plain records (call it)."""
    EXPORTER.clear()
    return lambda: [span_record(span) for span in EXPORTER.get_finished_spans()]


@pytest.fixture
def tracer():
    from opentelemetry import trace

    return trace.get_tracer("tests")


def metric_points(name):
    """The data points of metric ``name``, as (attributes, point) pairs."""
    data = METRIC_READER.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found += [(dict(p.attributes), p) for p in metric.data.data_points]
    return found
