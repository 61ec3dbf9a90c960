"""Sending a request to a pinning service with bounded retries: HTTP 429 waits what Retry-After
says (seconds or an HTTP date), 5xx and transport errors back off exponentially with jitter.
Requests are rebuilt for every attempt, because a streamed upload body can be read only once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field

from emprops.pinning.errors import (
    PinningAuthError,
    PinningRateLimited,
    PinningRejected,
    PinningUnavailable,
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=6, ge=1, le=50, description="Tries in all, the first included.")
    base_s: float = Field(default=0.5, ge=0)
    max_s: float = Field(default=30.0, ge=0)
    max_retry_after_s: float = Field(
        default=300.0, ge=0, description="A longer Retry-After fails now instead of waiting."
    )

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based): exponential, half of it jittered."""
        delay: float = min(self.max_s, self.base_s * 2.0 ** (attempt - 1))
        jitter: float = random.uniform(0, delay / 2)
        return delay / 2 + jitter


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def response_message(response: httpx.Response) -> str:
    """The error text a service put in its body (PSA `error.reason/details`, Kubo `Message`,
    Pinata `error`), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            parts = [str(error[k]) for k in ("reason", "details", "message") if error.get(k)]
            if parts:
                return ": ".join(parts)
        if isinstance(error, str):
            return error
        for key in ("Message", "message", "detail"):
            if body.get(key):
                return str(body[key])
    return str(body)[:300]


async def send_with_retry(
    client: httpx.AsyncClient,
    build: Callable[[], httpx.Request],
    what: str,
    policy: RetryPolicy,
    *,
    retry_statuses: frozenset[int] = RETRY_STATUSES,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> httpx.Response:
    """The first non-retryable response; raises our errors for failures. `what` names the
    operation and the file or folder ("upload images/ to pinata https://...")."""
    last = ""
    for attempt in range(1, policy.attempts + 1):
        request = build()
        try:
            response = await client.send(request)
            await response.aread()
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if attempt < policy.attempts:
                await sleep(policy.backoff(attempt))
                continue
            raise PinningUnavailable(
                f"{what}: failed after {attempt} attempts: {last}",
                details={"attempts": attempt},
            ) from exc
        status = response.status_code
        if status < 400:
            return response
        message = response_message(response)
        if status in (401, 403):
            raise PinningAuthError(
                f"{what}: HTTP {status} {message} (check the token)", details={"status": status}
            )
        if status not in retry_statuses:
            raise PinningRejected(f"{what}: HTTP {status}: {message}", details={"status": status})
        last = f"HTTP {status}: {message}"
        if attempt == policy.attempts:
            break
        delay = policy.backoff(attempt)
        if status == 429:
            asked = retry_after_seconds(response.headers.get("retry-after"))
            if asked is not None:
                if asked > policy.max_retry_after_s:
                    raise PinningRateLimited(
                        f"{what}: rate limited, and Retry-After asks for {asked:.0f} s "
                        f"(more than {policy.max_retry_after_s:.0f} s); run again later",
                        details={"retry_after_s": asked},
                    )
                delay = asked
        await sleep(delay)
    if last.startswith("HTTP 429"):
        raise PinningRateLimited(
            f"{what}: still rate limited after {policy.attempts} attempts ({last}); run again "
            "later, or lower --concurrency",
            details={"attempts": policy.attempts},
        )
    raise PinningUnavailable(
        f"{what}: failed after {policy.attempts} attempts: {last}",
        details={"attempts": policy.attempts},
    )
