"""vpsorg.otel: one span per call, one child span per attempt, in both clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import vpsorg
from tests.core._harness import Harness, kind, make, sim
from vpsorg.otel import OTelHooks
from vpsorg.simulator._server import Simulator

__all__ = ["kind", "make", "sim"]

SERVER = 12345
PATH = f"/api/v1/servers/{SERVER}/"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _split(spans: tuple[ReadableSpan, ...]) -> tuple[ReadableSpan, list[ReadableSpan]]:
    calls = [s for s in spans if s.kind is SpanKind.INTERNAL]
    attempts = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert len(calls) == 1
    call = calls[0]
    assert call.context is not None
    for attempt in attempts:
        assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
    return call, sorted(attempts, key=lambda s: s.start_time or 0)


def test_a_call_is_one_span_with_one_attempt_span(
    make: Callable[..., Harness],
    sim: Simulator,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    harness = make(event_hooks=[OTelHooks(tracer_provider=provider)])
    harness.run(lambda c: c.servers.get(SERVER))
    call, attempts = _split(exporter.get_finished_spans())
    assert call.name == "GET /servers/{id}/"
    assert len(attempts) == 1
    attrs = dict(attempts[0].attributes or {})
    host, port = sim.base_url.split("//")[1].split("/")[0].split(":")
    assert attrs["http.request.method"] == "GET"
    assert attrs["url.full"] == sim.base_url + f"servers/{SERVER}/"
    assert attrs["url.template"] == "/servers/{id}/"
    assert (attrs["server.address"], attrs["server.port"]) == (host, int(port))
    assert attrs["http.response.status_code"] == 200
    assert "http.request.resend_count" not in attrs and "error.type" not in attrs
    assert dict(call.attributes or {})["vpsorg.attempts"] == 1
    assert call.status.status_code is StatusCode.UNSET
    for span in exporter.get_finished_spans():
        assert sim.token not in str(span.to_json())


def test_retries_are_visible_as_attempt_spans_and_a_retry_event(
    make: Callable[..., Harness],
    sim: Simulator,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    harness = make(event_hooks=[OTelHooks(tracer_provider=provider)])
    sim.script(path=PATH, method="GET", status=503)
    sim.script(path=PATH, method="GET", drop=True)
    harness.run(lambda c: c.servers.get(SERVER))
    call, attempts = _split(exporter.get_finished_spans())
    assert len(attempts) == 3
    first, second, third = (dict(a.attributes or {}) for a in attempts)
    assert first["http.response.status_code"] == 503 and first["error.type"] == "503"
    assert attempts[0].status.status_code is StatusCode.ERROR
    assert second["http.request.resend_count"] == 1
    assert "http.response.status_code" not in second
    assert str(second["error.type"]).endswith("Error")
    assert third["http.request.resend_count"] == 2
    assert third["http.response.status_code"] == 200
    assert [e.name for e in call.events] == ["retry", "retry"]
    assert dict(call.attributes or {})["vpsorg.attempts"] == 3


def test_a_failed_call_records_its_error(
    make: Callable[..., Harness], provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    harness = make(event_hooks=[OTelHooks(tracer_provider=provider)])
    with pytest.raises(vpsorg.NotFoundError):
        harness.run(lambda c: c.servers.get(999999))
    call, attempts = _split(exporter.get_finished_spans())
    assert call.status.status_code is StatusCode.ERROR
    assert dict(call.attributes or {})["error.type"] == "NotFoundError"
    assert [e.name for e in call.events] == ["exception"]
    assert dict(attempts[0].attributes or {})["http.response.status_code"] == 404


def test_the_call_span_is_a_child_of_the_callers_span(
    make: Callable[..., Harness], provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    harness = make(event_hooks=[OTelHooks(tracer_provider=provider)])
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("outer") as outer:
        harness.run(lambda c: c.servers.get(SERVER))
    call = next(s for s in exporter.get_finished_spans() if s.kind is SpanKind.INTERNAL)
    assert call.parent is not None
    assert call.parent.span_id == outer.get_span_context().span_id
