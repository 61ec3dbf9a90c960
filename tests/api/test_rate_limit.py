"""Rate limits per API key / user / IP, on in-process memory and on real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis

from emprops.api.app import create_app
from emprops.api.rate_limit import RateLimiter, caller_key, open_storage
from emprops.auth.tokens import issue_access_token
from emprops.core.errors import InvalidInputError
from emprops.core.settings import Settings
from tests.api.conftest import Api
from tests.conftest import REDIS_URL

LIMIT = 3
STORAGES = {"memory": "memory://", "redis": "async+" + REDIS_URL}

MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture(params=sorted(STORAGES))
def storage_uri(request: pytest.FixtureRequest) -> str:
    return STORAGES[request.param]


@pytest.fixture
async def limited_api(tmp_path: Path) -> AsyncIterator[MakeApi]:
    """Builds apps with a tiny limit; each gets its own queue name, hence its own Redis namespace."""
    queues: list[str] = []
    contexts = []

    async def make(storage: str, client: tuple[str, int] = ("127.0.0.1", 50000)) -> Api:
        queue = f"t-rl-{uuid.uuid4().hex[:12]}"
        queues.append(queue)
        settings = Settings(
            data_dir=tmp_path / queue,
            database_url=f"sqlite+aiosqlite:///{tmp_path / (queue + '.sqlite')}",
            redis_url=REDIS_URL,
            queue_name=queue,
            secret_key="rl-secret-" + uuid.uuid4().hex,  # type: ignore[arg-type]
            rate_limit=f"{LIMIT}/minute",
            rate_limit_storage=storage,
        )
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        contexts.append(lifespan)
        transport = httpx.ASGITransport(app=app, client=client)
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        contexts.append(http)
        return Api(app=app, client=http)

    yield make
    for context in reversed(contexts):
        await context.__aexit__(None, None, None)
    with redis.Redis.from_url(REDIS_URL) as client:
        for queue in queues:
            keys = list(client.scan_iter(match=f"emprops-rl:{queue}*", count=1000))
            if keys:
                client.delete(*keys)


def _client(api: Api, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=api.app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_over_the_limit_is_429_with_retry_after(
    limited_api: MakeApi, storage_uri: str
) -> None:
    api = await limited_api(storage_uri)
    headers = await api.new_user()
    before = time.time()
    for expected_remaining in range(LIMIT - 1, -1, -1):
        response = await api.client.get("/me", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["X-RateLimit-Limit"] == str(LIMIT)
        assert response.headers["X-RateLimit-Remaining"] == str(expected_remaining)
        assert response.headers["RateLimit-Remaining"] == str(expected_remaining)
        # the window ends 60 s after the first hit, rounded up; the first hit may come a while
        # after `before` on a loaded machine, never after this response
        assert before <= int(response.headers["X-RateLimit-Reset"]) <= time.time() + 61
    refused = await api.client.get("/me", headers=headers)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"]["code"] == "rate_limited"
    assert set(body["error"]) == {"code", "message", "details"}
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["error"]["details"]["retry_after"] == retry_after
    assert refused.headers["X-RateLimit-Limit"] == str(LIMIT)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 0 <= int(refused.headers["RateLimit-Reset"]) <= 60
    if storage_uri.startswith("async+redis"):  # the counts really live in Redis, namespaced
        with redis.Redis.from_url(REDIS_URL) as client:
            namespace = f"emprops-rl:{api.state.settings.queue_name}*"
            assert list(client.scan_iter(match=namespace, count=1000))


async def test_two_api_keys_have_separate_buckets(limited_api: MakeApi, storage_uri: str) -> None:
    api = await limited_api(storage_uri)
    first, second = await api.new_user("a"), await api.new_user("b")
    for _ in range(LIMIT):
        assert (await api.client.get("/me", headers=first)).status_code == 200
    assert (await api.client.get("/me", headers=first)).status_code == 429
    other = await api.client.get("/me", headers=second)
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == str(LIMIT - 1)


async def test_two_ips_have_separate_buckets(limited_api: MakeApi, storage_uri: str) -> None:
    api = await limited_api(storage_uri)
    async with _client(api, "10.0.0.1") as one, _client(api, "10.0.0.2") as two:
        for _ in range(LIMIT):  # unauthenticated calls count too, against the address
            response = await one.get("/me")
            assert response.status_code == 401
            assert "X-RateLimit-Remaining" in response.headers
        assert (await one.get("/me")).status_code == 429
        assert (await two.get("/me")).status_code == 401
        # the API key's bucket is not the address's: a keyed call from a throttled IP still passes
        assert (await one.get("/me", headers=await api.new_user())).status_code == 200


async def test_docs_and_schema_are_exempt(limited_api: MakeApi) -> None:
    api = await limited_api("memory://")
    for _ in range(LIMIT + 2):
        response = await api.client.get("/openapi.json")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    assert (await api.client.get("/me")).status_code == 401


async def test_bearer_jwt_is_keyed_by_user(limited_api: MakeApi) -> None:
    api = await limited_api("memory://")
    user_id = uuid.uuid4()
    secret = api.state.secret
    token_a, _ = issue_access_token(secret, user_id, timedelta(minutes=5))
    token_b, _ = issue_access_token(secret, user_id, timedelta(minutes=5))
    forged, _ = issue_access_token(
        b"another-secret-of-at-least-32-bytes!", user_id, timedelta(minutes=5)
    )

    def scope(token: str, ip: str) -> dict[str, object]:
        return {"headers": [(b"authorization", f"Bearer {token}".encode())], "client": (ip, 1)}

    assert caller_key(scope(token_a, "1.1.1.1"), secret) == f"user:{user_id}"
    assert caller_key(scope(token_b, "2.2.2.2"), secret) == f"user:{user_id}"
    assert caller_key(scope(forged, "3.3.3.3"), secret) == "ip:3.3.3.3"
    key = "emp_0123456789ab_secret_part"
    assert caller_key({"headers": [(b"x-api-key", key.encode())]}, secret) == "key:emp_0123456789ab"
    assert caller_key(
        {"headers": [(b"x-api-key", b"emp_bad")], "client": ("4.4.4.4", 1)}, secret
    ) == ("ip:4.4.4.4")
    # end to end: two different tokens of one user drain one bucket
    remaining = []
    for token in (token_a, token_b, token_a):
        response = await api.client.get("/credits", headers={"Authorization": f"Bearer {token}"})
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]


async def test_unreachable_storage_fails_open(limited_api: MakeApi) -> None:
    api = await limited_api("async+redis://127.0.0.1:1")
    response = await api.client.get("/me")
    assert response.status_code == 401  # served, just not counted
    assert "X-RateLimit-Limit" not in response.headers


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="rate_limit"):
        RateLimiter("lots", open_storage("memory://", key_prefix="x"))
    with pytest.raises(InvalidInputError, match="rate_limit_storage"):
        open_storage("memcached://127.0.0.1:11211", key_prefix="x")
