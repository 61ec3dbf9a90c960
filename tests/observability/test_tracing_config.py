"""Tracing is configured by settings, with the SDK's own OTEL_* variables honoured: off by
default, console or OTLP on request; the first configuration of a process wins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased

from emprops.core.settings import Settings
from emprops.core.tracing import (
    configure_tracing,
    current_trace_carrier,
    get_tracer,
    shutdown_tracing,
    tracer_provider,
)


@pytest.fixture(autouse=True)
def no_tracing_after() -> Iterator[None]:
    assert tracer_provider() is None
    yield
    shutdown_tracing()


def test_off_by_default() -> None:
    assert configure_tracing(Settings(), service_name="emprops-api") is None
    assert current_trace_carrier() is None
    with get_tracer().start_as_current_span("nothing") as span:
        assert not span.is_recording()


def test_console_exporter_with_our_service_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    provider = configure_tracing(
        Settings(otel_exporter="console", otel_sample_ratio=0.5), service_name="emprops-worker"
    )
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "emprops-worker"
    assert isinstance(provider.sampler, ParentBased)


def test_otel_service_name_from_the_environment_wins_over_our_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "render-farm-7")
    provider = configure_tracing(Settings(otel_exporter="console"), service_name="emprops-worker")
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "render-farm-7"


def test_our_setting_names_the_service_over_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "render-farm-7")
    settings = Settings(otel_exporter="console", otel_service_name="api-eu")
    provider = configure_tracing(settings, service_name="emprops-api")
    assert provider is not None and provider.resource.attributes["service.name"] == "api-eu"


def test_otlp_exporter_is_built_with_the_configured_endpoint() -> None:
    settings = Settings(otel_exporter="otlp", otel_endpoint="http://127.0.0.1:4318/v1/traces")
    provider = configure_tracing(settings, service_name="emprops-api")
    assert provider is not None
    processors = provider._active_span_processor._span_processors
    (processor,) = processors
    assert isinstance(processor, BatchSpanProcessor)


def test_the_first_configuration_wins() -> None:
    exporter = InMemorySpanExporter()
    first = configure_tracing(Settings(), service_name="emprops-test", exporter=exporter)
    again = configure_tracing(Settings(otel_exporter="console"), service_name="emprops-api")
    assert again is first
    with get_tracer().start_as_current_span("one"):
        carrier = current_trace_carrier()
    assert carrier is not None and carrier["traceparent"].startswith("00-")
    assert [s.name for s in exporter.get_finished_spans()] == ["one"]
