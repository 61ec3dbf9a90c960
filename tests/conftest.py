"""Fixtures that give tests real services: Redis and PostgreSQL (the machine's when they answer, as
on CI, else private ones this session starts: see tests/services.py) and, per test, a queue of its
own so tests never see each other's keys."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis
import redis.asyncio

from emprops.db.migrate import upgrade_to_head
from emprops.queue.broker import Broker, BrokerConfig
from tests.services import REDIS_URL_ENV, services

# Decided when this module is imported, before any other conftest or test module imports it
# (many do, as a constant; pytest imports the conftests beside its arguments before
# pytest_configure, so deciding there left those on the default while the rest used the
# private server).
REDIS_URL = services.redis_url()


def pytest_configure(config: pytest.Config) -> None:
    if services.private_redis:
        os.environ[REDIS_URL_ENV] = REDIS_URL  # subprocesses that read it see the same server


def pytest_unconfigure(config: pytest.Config) -> None:
    if services.private_redis:
        os.environ.pop(REDIS_URL_ENV, None)
    services.stop()


def pytest_report_header(config: pytest.Config) -> str:
    redis_kind = "private, stopped at the end" if services.private_redis else "given"
    return f"emprops services: Redis {REDIS_URL} [{redis_kind}]; PostgreSQL decided on first use"


@pytest.fixture(scope="session")
def pg_admin() -> str:
    """The admin DSN of the PostgreSQL the tests create their databases on (started if need be)."""
    return services.pg_admin()


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


def _asyncpg_url(pg_admin: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the admin DSN's server. Text, not a rendered URL:
    a unix-socket DSN's "?host=/dir" (the private server's) stays unescaped, since alembic's
    config reads "%" as interpolation."""
    server, sep, query = pg_admin.partition("?")
    return (
        server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        + f"/{name}{sep}{query}"
    )


def _off_loop(function: Callable[..., Any], *args: Any) -> Any:
    """Run blocking set-up (alembic, its own event loop) on a thread: session fixtures are first
    asked for from inside a test's running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once a session; each test gets a copy (migrating a fresh
    file per test cost about half a second each)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _off_loop(upgrade_to_head, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_pg_template(pg_admin: str) -> Iterator[str]:
    """A PostgreSQL database migrated to head once a session: each test's database is a copy
    (CREATE DATABASE ... TEMPLATE)."""
    name = f"emp_tmpl_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        admin = await asyncpg.connect(pg_admin)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    _off_loop(asyncio.run, run(f'CREATE DATABASE "{name}"'))
    try:
        _off_loop(upgrade_to_head, _asyncpg_url(pg_admin, name))
        yield name
    finally:
        _off_loop(asyncio.run, run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _database(
    request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool
) -> AsyncIterator[str]:
    path = tmp_path / "api.sqlite"
    if request.param == "sqlite":
        if migrated:
            template: Path = request.getfixturevalue("migrated_sqlite")
            shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    pg_admin: str = request.getfixturevalue("pg_admin")
    copy_of = f' TEMPLATE "{request.getfixturevalue("migrated_pg_template")}"' if migrated else ""
    name = f"emp_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin)
    await admin.execute(f'CREATE DATABASE "{name}"{copy_of}')
    try:
        yield _asyncpg_url(pg_admin, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of the test's own, already migrated to head (a copy of the session's)."""
    async for url in _database(request, tmp_path, migrated=True):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of the test's own with nothing in it: for the migrations themselves."""
    async for url in _database(request, tmp_path, migrated=False):
        yield url
