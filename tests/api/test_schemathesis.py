"""Property-based checks of every route against the app's own OpenAPI schema (schemathesis).

SQLite only, to keep the run bounded; the database-specific behaviour is covered by the other API
tests on both engines. Schemathesis drives the app in-process on its own event-loop thread and runs
the lifespan there, so the test user is seeded beforehand on a separate loop (the `api` fixture's
async resources cannot cross loops).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from emprops.api.app import create_app
from emprops.auth.repository import AuthRepository
from emprops.auth.schemas import ApiKeyCreate
from emprops.auth.secret_key import load_secret_key
from emprops.auth.service import AuthService
from emprops.core.settings import Settings
from emprops.db import create_engine, database_url, session_factory, upgrade_to_head_async
from tests.conftest import REDIS_URL

MAX_EXAMPLES = 20


async def _seed_user(settings: Settings) -> dict[str, str]:
    url = database_url(settings)
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            service = AuthService(AuthRepository(session), load_secret_key(settings), settings)
            user = await service.create_user("fuzzer", is_admin=False)
            key = await service.create_api_key(
                user,
                ApiKeyCreate(name="fuzz", scopes=["read", "write"]),  # type: ignore[arg-type]
            )
            await session.commit()
    finally:
        await engine.dispose()
    return {"X-API-Key": key.token}


@pytest.fixture(scope="module")
def fuzz_target(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[OpenApiSchema, dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    queue = f"t-fuzz-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=tmp / "data",
        database_url=f"sqlite+aiosqlite:///{tmp / 'api.sqlite'}",
        redis_url=REDIS_URL,
        queue_name=queue,
        secret_key="fuzz-secret-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        rate_limit="100000/minute",
    )
    headers = asyncio.run(_seed_user(settings))
    app = create_app(settings, migrate=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema, headers
    shutdown_lifespans()
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(match=f"*{queue}*", count=1000))
        if keys:
            client.delete(*keys)


# Operations left out of the fuzz run, each with the reason (none so far).
EXCLUDED: dict[str, str] = {}


def test_every_route_conforms(fuzz_target: tuple[OpenApiSchema, dict[str, str]]) -> None:
    """Each operation gets its own bounded hypothesis run; failures are gathered, then reported."""
    schema, auth_headers = fuzz_target
    failures: dict[str, str] = {}
    statuses: dict[int, int] = {}
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                headers=auth_headers,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=10,
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        ran += 1
        try:
            check()
        except Exception as exc:  # gathered so one run reports every failing operation
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
    print("schemathesis statuses:", dict(sorted(statuses.items())))
    # authenticated: most calls must reach a handler, not bounce off auth or the limiter
    assert statuses.get(401, 0) + statuses.get(429, 0) < sum(statuses.values()) / 2, statuses
    assert ran >= 40, f"only {ran} operations found in the schema"
    assert not failures, "\n\n".join(f"{label}:\n{why}" for label, why in failures.items())
