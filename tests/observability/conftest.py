"""The API on SQLite and real Redis (as tests/api does), with tracing into memory when a test
asks for `spans`; the API is created after tracing is installed, as a process would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from emprops.api.app import create_app
from emprops.core.settings import Settings
from emprops.core.tracing import configure_tracing, shutdown_tracing, tracer_provider
from tests.api.conftest import Api
from tests.conftest import REDIS_URL


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    assert tracer_provider() is None, "a previous test left tracing on"
    exporter = InMemorySpanExporter()
    configure_tracing(Settings(), service_name="emprops-test", exporter=exporter)
    yield exporter
    shutdown_tracing()


@pytest.fixture
def obs_settings(queue_name: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'api.sqlite'}",
        redis_url=REDIS_URL,
        queue_name=queue_name,
        secret_key="test-secret-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        rate_limit="10000/minute",
        retry_base_s=0.05,
        heartbeat_s=0.5,
    )


async def open_api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(app=app, client=client)


@pytest.fixture
async def obs_api(obs_settings: Settings) -> AsyncIterator[Api]:
    async for api in open_api(obs_settings):
        yield api


@pytest.fixture
async def traced_api(spans: InMemorySpanExporter, obs_settings: Settings) -> AsyncIterator[Api]:
    async for api in open_api(obs_settings):
        yield api
