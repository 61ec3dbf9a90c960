"""The FastAPI application: lifespan resources, error handlers, routers, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from emprops import __version__
from emprops.api.errors import error_response, install_error_handlers
from emprops.api.rate_limit import RateLimiter, RateLimitMiddleware
from emprops.api.routers import ROUTERS
from emprops.api.state import AppState
from emprops.auth.secret_key import load_secret_key
from emprops.core.redis_connection import close_endpoint, open_endpoint
from emprops.core.settings import Settings, get_settings
from emprops.core.tracing import configure_tracing
from emprops.db import create_engine, database_url, session_factory, upgrade_to_head_async
from emprops.generations import GenerationDispatcher, RunnerConfig
from emprops.generations.text_reader import blob_text_reader
from emprops.observability.endpoints import is_probe
from emprops.observability.health import ReadinessCheck
from emprops.observability.http_metrics import HttpMetrics, HttpMetricsMiddleware
from emprops.queue.broker import Broker, BrokerConfig
from emprops.storage import open_blob_store
from emprops.worker.connectors import BUILTIN_CONNECTORS
from emprops.workflows.planners import rooted_planners


class BodySizeLimit(BaseHTTPMiddleware):
    """Refuse oversized bodies before reading them (413, in the one error shape)."""

    def __init__(self, app: object, max_bytes: int) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.max_bytes = max_bytes

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return error_response(413, "too_large", f"request body over {self.max_bytes} bytes")
        return await call_next(request)


async def _chain_ready(settings: Settings) -> str:
    from emprops.chain.readiness import check_chain

    return await check_chain(settings)


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    # observability: a no-op unless EMPROPS_OTEL_EXPORTER (or a test) installed a provider
    tracer_provider = configure_tracing(settings, service_name="emprops-api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        if migrate:
            await upgrade_to_head_async(url)
        engine = create_engine(url)
        endpoint = await asyncio.to_thread(open_endpoint, settings)
        redis = endpoint.async_client()
        config = BrokerConfig.from_settings(settings, known_services=BUILTIN_CONNECTORS)
        app.state.emprops = AppState(
            settings=settings, engine=engine, sessions=session_factory(engine),
            redis_endpoint=endpoint, redis=redis, broker=Broker(redis, config),
            secret=load_secret_key(settings),
        )  # fmt: skip
        # generations: the outbox dispatcher and run supervisor run beside the API
        emprops_state: AppState = app.state.emprops
        assets_root = settings.assets_root or settings.data_dir / "assets"
        dispatcher = GenerationDispatcher(
            emprops_state.sessions, emprops_state.broker, redis,
            RunnerConfig(
                planners=rooted_planners(assets_root),
                text_reader=blob_text_reader(
                    open_blob_store(
                        settings.storage_url, data_dir=settings.data_dir, cdn_url=settings.cdn_url
                    )
                ),
            ),
        )  # fmt: skip
        app.state.generation_dispatcher = dispatcher
        await dispatcher.start()
        follower = None
        if settings.indexer_in_api:  # the indexer beside the API (development chains)
            from emprops.indexer.follower import IndexerFollower

            follower = IndexerFollower(settings, emprops_state.sessions)
            await follower.start()
        try:
            yield
        finally:
            if follower is not None:
                await follower.stop()
            await dispatcher.stop()  # generations: before Redis and the database close
            await redis.aclose()
            await asyncio.to_thread(close_endpoint, endpoint)
            await engine.dispose()

    app = FastAPI(
        title="EmProps API",
        version=__version__,
        description="Collections as generation workflows, run on a distributed queue.",
        lifespan=lifespan,
        # observability: FastAPI's own request spans, on our provider (none: tracing off)
        telemetry={
            "tracing": tracer_provider is not None,
            "tracer_provider": tracer_provider,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "exclude": is_probe,
        },
    )
    # observability: more checks for /health/ready are appended here (see observability.health)
    readiness_checks: list[ReadinessCheck] = [
        ReadinessCheck("chain", lambda: _chain_ready(settings)),
    ]
    app.state.readiness_checks = readiness_checks
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # rate limits: added last so it runs first, before any body is read or database touched
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter.from_settings(settings))
    if settings.metrics_enabled:  # observability: outermost, so refusals are counted too
        app.state.http_metrics = HttpMetrics()
        app.add_middleware(HttpMetricsMiddleware, metrics=app.state.http_metrics)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
