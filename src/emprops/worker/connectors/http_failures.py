"""One policy that turns a failed HTTP exchange into a retryable or permanent job failure.

The remote side being down, slow, overloaded or answering nonsense is retryable: a later attempt,
maybe on another worker, can succeed, and the broker's retry budget bounds the cost. The request
being refused as invalid, unauthorized or naming something that does not exist is permanent.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from emprops.worker.connector import JobFailure, PermanentJobError, RetryableJobError

# 4xx answers that mean "not now" rather than "never".
RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
MAX_ERROR_TEXT = 500


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_CLIENT_STATUSES


def redacted_url(url: httpx.URL | str) -> str:
    """The URL without query or credentials: query strings often carry API keys."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(query=None, fragment=None, userinfo=b""))


def retry_after_s(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `Retry-After` seconds or date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def error_text(body: bytes) -> str:
    """A short human message from an error body: `{"error": "..."}`, `{"error": {"message"}}`,
    `{"detail": ...}` or the start of the text."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:MAX_ERROR_TEXT].decode("utf-8", "replace").strip()
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed.get("detail", parsed.get("message")))
        if isinstance(error, dict):
            error = error.get("message") or error.get("type") or error
        if isinstance(error, str):
            return error[:MAX_ERROR_TEXT]
        if error is not None:
            return orjson.dumps(error)[:MAX_ERROR_TEXT].decode("utf-8", "replace")
    return orjson.dumps(parsed)[:MAX_ERROR_TEXT].decode("utf-8", "replace")


def failure_for_status(
    service: str,
    response: httpx.Response,
    *,
    message: str | None = None,
    details: dict[str, Any] | None = None,
    retryable: bool | None = None,
) -> JobFailure:
    """Classify a non-success answer; the body must already be read."""
    status = response.status_code
    url = redacted_url(response.request.url)
    text = message if message is not None else error_text(response.content)
    info: dict[str, Any] = {"service": service, "status": status, "url": url}
    wait = retry_after_s(response.headers)
    if wait is not None:
        info["retry_after_s"] = wait
    info.update(details or {})
    summary = f"{service}: HTTP {status} from {response.request.method} {url}: {text}"
    if retryable is None:
        retryable = is_retryable_status(status)
    if retryable:
        info.setdefault("reason", "server_error" if status >= 500 else "throttled")
        return RetryableJobError(summary, details=info)
    info.setdefault("reason", "rejected")
    return PermanentJobError(summary, details=info)


def failure_for_transport(service: str, exc: Exception, url: httpx.URL | str) -> RetryableJobError:
    """A request that got no usable answer: refused, reset, timed out, or not HTTP at all."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        reason = "connect_timeout" if isinstance(exc, httpx.ConnectTimeout) else "timeout"
    elif isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        reason = "connect"
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
        reason = "bad_response"
    else:
        reason = "network"
    where = redacted_url(url)
    return RetryableJobError(
        f"{service}: no usable answer from {where} ({reason}: {exc!r})",
        details={"service": service, "url": where, "reason": reason},
    )


def bad_response(service: str, url: httpx.URL | str, what: str) -> RetryableJobError:
    """A 2xx answer that does not speak the protocol (a proxy page, a half-written body)."""
    where = redacted_url(url)
    return RetryableJobError(
        f"{service}: unexpected answer from {where}: {what}",
        details={"service": service, "url": where, "reason": "bad_response"},
    )


def parse_json_body(service: str, response: httpx.Response) -> Any:
    """The JSON body of a read response, or a retryable `bad_response` failure."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        snippet = response.content[:80].decode("utf-8", "replace")
        raise bad_response(service, response.request.url, f"not JSON ({snippet!r})") from None


async def read_limited(response: httpx.Response, limit: int, service: str) -> bytes:
    """Read a streamed body, refusing more than `limit` bytes (a runaway download is an error)."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PermanentJobError(
            f"{service}: {redacted_url(response.request.url)} is {declared} bytes, over the "
            f"{limit}-byte limit",
            details={"service": service, "reason": "too_large", "limit": limit},
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise PermanentJobError(
                f"{service}: {redacted_url(response.request.url)} is over the {limit}-byte limit",
                details={"service": service, "reason": "too_large", "limit": limit},
            )
        chunks.append(chunk)
    return b"".join(chunks)
