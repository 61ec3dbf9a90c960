"""/health (liveness, no dependencies) and /health/ready (Redis, the database and registered
checks): 200 when all answer; 503 in the one error shape naming what failed and why."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from emprops.core.settings import Settings
from emprops.observability.health import ReadinessCheck
from tests.api.conftest import Api
from tests.observability.conftest import open_api


@pytest.fixture
async def any_db_api(database_url: str, obs_settings: Settings) -> AsyncIterator[Api]:
    """The API on SQLite and on PostgreSQL."""
    async for api in open_api(obs_settings.model_copy(update={"database_url": database_url})):
        yield api


async def test_liveness_needs_nothing(obs_api: Api) -> None:
    response = await obs_api.client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_when_redis_the_database_and_registered_checks_answer(
    any_db_api: Api,
) -> None:
    calls: list[str] = []

    async def chain() -> None:
        calls.append("chain")

    any_db_api.app.state.readiness_checks[:] = [
        ReadinessCheck("chain", chain)
    ]  # in place of the real one
    response = await any_db_api.client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert [(c["name"], c["ok"], c["error"]) for c in body["checks"]] == [
        ("redis", True, None),
        ("database", True, None),
        ("chain", True, None),
    ]
    assert calls == ["chain"]


async def test_a_failing_check_makes_it_503_naming_the_check_and_why(obs_api: Api) -> None:
    async def chain() -> None:
        raise ConnectionError("rpc at http://127.0.0.1:8545 refused the connection")

    obs_api.app.state.readiness_checks[:] = [
        ReadinessCheck("chain", chain)
    ]  # in place of the real one
    response = await obs_api.client.get("/health/ready")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert error["details"]["failed"] == ["chain"]
    assert "chain: ConnectionError: rpc at http://127.0.0.1:8545 refused" in error["message"]
    checks = {c["name"]: c for c in error["details"]["checks"]}
    assert checks["redis"]["ok"] and checks["database"]["ok"]
    assert not checks["chain"]["ok"]
    assert checks["chain"]["error"].startswith("ConnectionError: rpc at")


async def test_a_check_that_hangs_fails_after_the_time_limit(obs_settings: Settings) -> None:
    async def stuck() -> None:
        await asyncio.sleep(30)

    settings = obs_settings.model_copy(update={"readiness_timeout_s": 0.2})
    async for api in open_api(settings):
        api.app.state.readiness_checks[:] = [
            ReadinessCheck("chain", stuck)
        ]  # in place of the real one
        started = asyncio.get_running_loop().time()
        response = await api.client.get("/health/ready")
        assert asyncio.get_running_loop().time() - started < 2
        assert response.status_code == 503
        (chain,) = [
            c for c in response.json()["error"]["details"]["checks"] if c["name"] == "chain"
        ]
        assert chain["error"] == "no answer within 0.2 s"


async def test_redis_out_of_reach_makes_it_503(obs_api: Api) -> None:
    """A real client to an address where no Redis listens, in place of the working one."""
    state = obs_api.state
    working = state.redis
    state.redis = redis.asyncio.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    try:
        response = await obs_api.client.get("/health/ready")
    finally:
        await state.redis.aclose()
        state.redis = working
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["details"]["failed"] == ["redis"]
    assert error["message"].startswith("not ready: redis: ConnectionError")
    assert (await obs_api.client.get("/health")).status_code == 200  # liveness does not care


async def test_the_real_chain_check_names_a_chain_that_does_not_answer(
    obs_settings: Settings,
) -> None:
    settings = obs_settings.model_copy(
        update={"chain": "anvil", "chain_rpc_url": "http://127.0.0.1:1", "chain_rpc_timeout_s": 1}
    )
    async for api in open_api(settings):
        response = await api.client.get("/health/ready")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["details"]["failed"] == ["chain"]
        assert "RPC failed" in error["message"]
