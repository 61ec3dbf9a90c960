"""HTTP metrics as a pure ASGI middleware: requests by route and status, latency, and the open
SSE streams and WebSocket connections.

Pure ASGI (no BaseHTTPMiddleware) so streaming responses pass through untouched. Routes are
labelled by their template (`/jobs/{job_id}`), never the raw path, so label values stay few;
requests that match no route (404s, refusals before routing) share the label `unmatched`.
An SSE stream's duration is how long a client listened, not latency: it is counted, and shown in
the SSE gauge while open, but kept out of the latency histogram.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HttpMetrics:
    """The API process's own metrics, in a registry of its own (one per app)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "emprops_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "emprops_http_request_duration_seconds",
            "Time to answer an HTTP request (SSE streams excluded), by method and route.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.sse = Gauge(
            "emprops_sse_connections",
            "Server-sent event streams open now, by route.",
            ["route"],
            registry=self.registry,
        )
        self.websockets = Gauge(
            "emprops_websocket_connections",
            "WebSocket connections open now (accepted and not yet closed), by route.",
            ["route"],
            registry=self.registry,
        )


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _is_event_stream(message: Message) -> bool:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower() == b"text/event-stream"
    return False


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        status = 500  # an app that raises before answering has failed the request
        streaming_route: str | None = None

        async def observe(message: Message) -> None:
            nonlocal status, streaming_route
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if _is_event_stream(message):
                    streaming_route = route_template(scope)
                    self.metrics.sse.labels(streaming_route).inc()
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = route_template(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            if streaming_route is not None:
                self.metrics.sse.labels(streaming_route).dec()
            else:
                self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted_route: str | None = None

        async def observe(message: Message) -> None:
            nonlocal accepted_route
            if message["type"] == "websocket.accept" and accepted_route is None:
                accepted_route = route_template(scope)
                self.metrics.websockets.labels(accepted_route).inc()
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            if accepted_route is not None:
                self.metrics.websockets.labels(accepted_route).dec()
