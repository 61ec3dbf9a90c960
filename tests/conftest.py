"""Fixtures that give tests real services: Redis at 127.0.0.1:6379 (CI starts it) and, per test,
a queue of its own so tests never see each other's keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
import redis.asyncio

from emprops.queue.broker import Broker, BrokerConfig

REDIS_URL = os.environ.get("EMPROPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN = os.environ.get("EMPROPS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _delete_queue(client: redis.Redis, queue: str) -> None:
    keys = list(client.scan_iter(match=f"emp:{{{queue}}}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:12]}"
    yield name
    with redis.Redis.from_url(REDIS_URL) as client:
        _delete_queue(client, name)


@pytest.fixture
async def redis_client() -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def broker_config(queue_name: str) -> BrokerConfig:
    return BrokerConfig(queue=queue_name, lease_ms=2_000, retry_base_ms=50, retry_max_ms=1_000)


@pytest.fixture
async def broker(redis_client: redis.asyncio.Redis, broker_config: BrokerConfig) -> Broker:
    return Broker(redis_client, broker_config)


@pytest.fixture
def broker_factory_sync(queue_name: str):  # type: ignore[no-untyped-def]
    """For hypothesis tests that run their own event loop: a fresh queue on every call."""
    counter = iter(range(1_000_000))

    async def make() -> Broker:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        return Broker(client, BrokerConfig(queue=f"{queue_name}-{next(counter)}"))

    yield make
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(match=f"emp:{{{queue_name}-*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'api.sqlite'}"
        return
    name = f"emp_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            + f"/{name}"
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
