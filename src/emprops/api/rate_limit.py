"""Per-caller rate limits as a pure ASGI middleware on `limits.aio`.

A middleware (not a dependency) so every route is covered, unauthenticated ones included, and a
flood is refused before any database work. The caller is identified from headers alone: the API
key's public prefix, else the user id in a bearer JWT (verified with the app secret), else the
client IP. `limits.aio` keeps Redis I/O on the event loop without blocking it (slowapi does not).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import ConfigurationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emprops.auth.errors import UnauthorizedError
from emprops.auth.tokens import API_KEY_PREFIX, api_key_prefix, decode_access_token
from emprops.core.errors import ErrorCode, InvalidInputError
from emprops.core.settings import Settings

log = structlog.get_logger(__name__)

EXEMPT_PATHS = frozenset(
    {"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
    | {"/health", "/health/ready", "/metrics"}  # probes and scrapers, from a few addresses
)


def open_storage(uri: str, *, key_prefix: str) -> Storage:
    """Async storage from a URI: `memory://` (per process) or `async+redis://` (shared)."""
    scheme = uri.split("://", 1)[0].removeprefix("async+")
    if scheme == "memory":
        return MemoryStorage()
    if scheme in ("redis", "rediss", "redis+unix"):
        async_uri = uri if uri.startswith("async+") else "async+" + uri
        # redis-py is installed already; limits would otherwise want coredis.
        return RedisStorage(async_uri, implementation="redispy", key_prefix=key_prefix)
    raise InvalidInputError(
        f"rate_limit_storage: unsupported URI scheme {scheme!r} (use memory:// or async+redis://)"
    )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the window frees up


class RateLimiter:
    """One limit (e.g. `120/minute`) applied to each caller key separately."""

    def __init__(self, limit: str, storage: Storage) -> None:
        try:
            self.item: RateLimitItem = parse(limit)
        except (ValueError, ConfigurationError):
            raise InvalidInputError(
                f"rate_limit: {limit!r} is not a limit like '120/minute'"
            ) from None
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        # Namespaced by queue name so deployments (and tests) sharing one Redis do not collide.
        prefix = f"emprops-rl:{settings.queue_name}"
        return cls(
            settings.rate_limit, open_storage(settings.rate_limit_storage, key_prefix=prefix)
        )

    async def hit(self, key: str) -> Decision:
        allowed = await self.strategy.hit(self.item, key)
        stats = await self.strategy.get_window_stats(self.item, key)
        return Decision(allowed, self.item.amount, max(0, stats.remaining), stats.reset_time)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def caller_key(scope: Scope, secret: bytes | None) -> str:
    """`key:<prefix>`, `user:<id>` or `ip:<addr>`: cheap, no database, never raises."""
    authorization = _header(scope, b"authorization") or ""
    scheme, _, bearer = authorization.partition(" ")
    token = _header(scope, b"x-api-key") or (bearer.strip() if scheme.lower() == "bearer" else "")
    if token.startswith(API_KEY_PREFIX):
        prefix = api_key_prefix(token)
        if prefix is not None:
            return f"key:{prefix}"
    elif token and secret is not None:
        try:
            return f"user:{decode_access_token(secret, token)}"
        except UnauthorizedError:
            pass  # an invalid token counts against the address it came from
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


def _app_secret(scope: Scope) -> bytes | None:
    # The secret is loaded in the lifespan; before it runs there is no JWT to trust.
    state = getattr(getattr(scope.get("app"), "state", None), "emprops", None)
    secret = getattr(state, "secret", None)
    return secret if isinstance(secret, bytes) else None


def limit_headers(decision: Decision, now: float) -> list[tuple[bytes, bytes]]:
    """`X-RateLimit-*` (reset as epoch seconds) and the RFC draft `RateLimit-*` (reset as delta)."""
    delta = max(0, math.ceil(decision.reset_at - now))
    pairs = {
        "x-ratelimit-limit": decision.limit,
        "x-ratelimit-remaining": decision.remaining,
        "x-ratelimit-reset": math.ceil(decision.reset_at),
        "ratelimit-limit": decision.limit,
        "ratelimit-remaining": decision.remaining,
        "ratelimit-reset": delta,
    }
    return [(k.encode(), str(v).encode()) for k, v in pairs.items()]


class RateLimitMiddleware:
    """Counts every HTTP request against its caller's bucket; 429 in the one error shape."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        secret: Callable[[Scope], bytes | None] = _app_secret,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        key = caller_key(scope, self.secret(scope))
        try:
            decision = await self.limiter.hit(key)
        except Exception as exc:  # storage down: serve unlimited rather than fail every request
            log.warning("rate limit storage unavailable", error=str(exc))
            await self.app(scope, receive, send)
            return
        now = time.time()
        headers = limit_headers(decision, now)
        if not decision.allowed:
            await self._refuse(send, decision, headers, now)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(
        self, send: Send, decision: Decision, headers: list[tuple[bytes, bytes]], now: float
    ) -> None:
        retry_after = max(1, math.ceil(decision.reset_at - now))
        body: dict[str, Any] = {
            "error": {
                "code": str(ErrorCode.RATE_LIMITED),
                "message": f"rate limit of {self.limiter.item} exceeded; retry in {retry_after}s",
                "details": {"limit": decision.limit, "retry_after": retry_after},
            }
        }
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
