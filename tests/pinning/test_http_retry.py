"""Retry policy: Retry-After (seconds and HTTP dates), bounded exponential backoff, which
statuses are retried, and the error each failure becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.pinning import (
    PinningAuthError,
    PinningRateLimited,
    PinningRejected,
    PinningUnavailable,
    RetryPolicy,
    retry_after_seconds,
    send_with_retry,
)
from tests.protocol_servers.pinning_servers import PinataServer


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=30)
    seconds = retry_after_seconds(format_datetime(later, usegmt=True))
    assert seconds is not None and 25 <= seconds <= 30
    past = datetime.now(UTC) - timedelta(seconds=30)
    assert retry_after_seconds(format_datetime(past, usegmt=True)) == 0.0


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0, max_value=5))
def test_backoff_is_bounded_and_grows(attempt: int, base: float) -> None:
    policy = RetryPolicy(base_s=base, max_s=10)
    delay = policy.backoff(attempt)
    ceiling = min(10, base * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling + 1e-9


async def _send(
    server: PinataServer, url: str, policy: RetryPolicy, token: str = "pinata-jwt"
) -> tuple[httpx.Response | Exception, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        try:
            response: httpx.Response | Exception = await send_with_retry(
                client, lambda: client.build_request("GET", f"{url}/data/pinList"),
                "list pins", policy, sleep=sleep,
            )  # fmt: skip
        except Exception as exc:
            response = exc
    return response, waits


async def test_429_waits_what_retry_after_says(pinata: tuple[PinataServer, str]) -> None:
    server, url = pinata
    server.retry_after = "2"
    server.inject("429", "429")
    response, waits = await _send(server, url, RetryPolicy(attempts=5))
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert waits == [2.0, 2.0]


async def test_5xx_backs_off_then_gives_up(pinata: tuple[PinataServer, str]) -> None:
    server, url = pinata
    server.inject("503", "500", "503")
    policy = RetryPolicy(attempts=3, base_s=1, max_s=1.5)
    error, waits = await _send(server, url, policy)
    assert isinstance(error, PinningUnavailable)
    assert "list pins: failed after 3 attempts: HTTP 503: try later" in error.message
    assert len(waits) == 2 and all(0.5 <= w <= 1.5 for w in waits)


async def test_auth_and_client_errors_are_not_retried(pinata: tuple[PinataServer, str]) -> None:
    server, url = pinata
    error, waits = await _send(server, url, RetryPolicy(), token="nope")
    assert isinstance(error, PinningAuthError) and waits == []
    async with httpx.AsyncClient(headers={"Authorization": "Bearer pinata-jwt"}) as client:
        with pytest.raises(PinningRejected, match="HTTP 404"):
            await send_with_retry(
                client, lambda: client.build_request("GET", f"{url}/nowhere"), "x", RetryPolicy()
            )


async def test_too_long_retry_after_fails_at_once(pinata: tuple[PinataServer, str]) -> None:
    server, url = pinata
    server.retry_after = "900"
    server.inject("429")
    error, waits = await _send(server, url, RetryPolicy(max_retry_after_s=60))
    assert isinstance(error, PinningRateLimited) and waits == []
    assert "Retry-After asks for 900 s" in error.message
