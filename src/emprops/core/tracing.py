"""OpenTelemetry tracing, off unless configured: with no provider every helper here returns at
once, so a process that traces nothing pays nothing.

The provider is ours, not the OpenTelemetry global: tests can install an in-memory exporter and
remove it again, and nothing else in the process starts tracing behind our back. A trace crosses
the queue as W3C trace context (`traceparent`) in the job's `trace` field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer

from emprops.core.errors import InvalidInputError
from emprops.core.settings import Settings

if TYPE_CHECKING:  # the SDK is imported only when tracing is turned on
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler

INSTRUMENTATION_NAME = "emprops"
_NOOP_TRACER = trace.NoOpTracer()
_provider: TracerProvider | None = None


def configure_tracing(
    settings: Settings, *, service_name: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Install this process's tracer provider from `settings` (or around `exporter`, sent each
    span as it ends: what tests use). The first configuration wins; later calls return it."""
    global _provider
    if _provider is not None:
        return _provider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is not None:
        processor: SimpleSpanProcessor | BatchSpanProcessor = SimpleSpanProcessor(exporter)
    else:
        configured = _exporter_from_settings(settings)
        if configured is None:
            return None
        processor = BatchSpanProcessor(configured)
    provider = TracerProvider(
        resource=_resource(settings, service_name), sampler=_sampler(settings)
    )
    provider.add_span_processor(processor)
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    """Send what is buffered and turn tracing off (process exit, end of a test)."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        provider.shutdown()


def tracer_provider() -> TracerProvider | None:
    return _provider


def tracing_enabled() -> bool:
    return _provider is not None


def get_tracer(name: str = INSTRUMENTATION_NAME) -> Tracer:
    return _provider.get_tracer(name) if _provider is not None else _NOOP_TRACER


def start_span(
    name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None
) -> AbstractContextManager[Span | None]:
    """A child of the current span, made current; with tracing off, nothing at all (the current
    context, e.g. a remote parent kept for log lines, stays as it is)."""
    if _provider is None:
        return nullcontext()
    return _provider.get_tracer(INSTRUMENTATION_NAME).start_as_current_span(
        name, kind=kind, attributes=dict(attributes or {})
    )


def _exporter_from_settings(settings: Settings) -> SpanExporter | None:
    if settings.otel_exporter == "none":
        return None
    if settings.otel_exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:  # pragma: no cover - a dependency of the package
        raise InvalidInputError(
            "otel_exporter=otlp needs opentelemetry-exporter-otlp-proto-http installed",
            details={"field": "otel_exporter"},
        ) from None
    # Without an endpoint the exporter reads OTEL_EXPORTER_OTLP_* itself.
    exporter: SpanExporter = OTLPSpanExporter(endpoint=settings.otel_endpoint)
    return exporter


def _resource(settings: Settings, service_name: str) -> Resource:
    # Resource.create() applies OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; our default name
    # only fills in when neither named the service.
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    resource = Resource.create()
    if settings.otel_service_name:
        return resource.merge(Resource({SERVICE_NAME: settings.otel_service_name}))
    current = str(resource.attributes.get(SERVICE_NAME, ""))
    if not current or current.startswith("unknown_service"):
        return resource.merge(Resource({SERVICE_NAME: service_name}))
    return resource


def _sampler(settings: Settings) -> Sampler | None:
    # None lets the SDK read OTEL_TRACES_SAMPLER (default: parent-based, always on).
    if settings.otel_sample_ratio is None:
        return None
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    return ParentBased(TraceIdRatioBased(settings.otel_sample_ratio))


# --- crossing process boundaries ------------------------------------------------------------


def current_trace_carrier() -> dict[str, str] | None:
    """The current span as W3C headers (`traceparent`, `tracestate`), to store with work that
    another process picks up; None when tracing is off or no span is current."""
    if _provider is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


def context_from_carrier(carrier: Mapping[str, str] | None) -> Context | None:
    """The remote parent a carrier names, or None when it names none."""
    if not carrier:
        return None
    context = propagate.extract(dict(carrier))
    return context if trace.get_current_span(context).get_span_context().is_valid else None


@contextmanager
def span_from_carrier(
    name: str,
    carrier: Mapping[str, str] | None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span | None]:
    """A span continuing the trace in `carrier` (under the current span when it names none).

    With tracing off the remote context is still made current, so log lines in this process
    carry the trace id of the request that caused them; yields None then.
    """
    parent = context_from_carrier(carrier)
    if _provider is None:
        if parent is None:
            yield None
            return
        token = otel_context.attach(parent)
        try:
            yield None
        finally:
            otel_context.detach(token)
        return
    tracer = _provider.get_tracer(INSTRUMENTATION_NAME)
    with tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=dict(attributes or {})
    ) as span:
        yield span
