"""The OpenAI(-compatible) connector against a local server with the OpenAI REST shapes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from emprops.core.errors import UnavailableError
from emprops.storage import BlobStore
from emprops.worker.connector import PermanentJobError, RetryableJobError
from emprops.worker.connectors.openai import OpenAIConnector
from tests.protocol_servers.live_server import free_port
from tests.protocol_servers.openai_server import OpenAIServer, png_bytes, reply_words
from tests.worker.connectors.conftest import ProgressLog, make_job

CTX = {"prefix": "generations/u1/run7/3/104", "filename": "cover"}


@pytest.fixture
async def connector(
    openai_api: tuple[OpenAIServer, str], blob_store: BlobStore
) -> AsyncIterator[OpenAIConnector]:
    server, url = openai_api
    connector = OpenAIConnector({"base_url": url, "api_key": server.api_key}, store=blob_store)
    await connector.start()
    yield connector
    await connector.close()


def _chat(**payload: Any) -> Any:
    return make_job("openai", {"model": "gpt-4o-mini", **payload})


async def test_streamed_chat_with_usage_and_progress(
    openai_api: tuple[OpenAIServer, str], connector: OpenAIConnector, progress: ProgressLog
) -> None:
    server, _ = openai_api
    messages = [{"role": "user", "content": "name a colour"}]
    result = await connector.process(_chat(messages=messages), progress)
    words = reply_words(messages)
    assert result["data"] == "".join(words)
    assert result["finish_reason"] == "stop"
    assert result["usage"]["completion_tokens"] == len(words)
    assert server.requests[-1]["stream_options"] == {"include_usage": True}
    assert progress.percents == sorted(progress.percents)
    assert len(progress.calls) >= 3 and progress.percents[-1] == 100.0
    assert "gpt-image-1" in connector.models


async def test_chat_without_streaming_from_a_prompt(
    openai_api: tuple[OpenAIServer, str], connector: OpenAIConnector, progress: ProgressLog
) -> None:
    server, _ = openai_api
    result = await connector.process(
        _chat(prompt="hello there", system="Be brief.", stream=False, temperature=0.2), progress
    )
    sent = server.requests[-1]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello there"},
    ]
    assert sent["temperature"] == 0.2 and "stream_options" not in sent
    assert result["data"] == "".join(reply_words(sent["messages"]))
    assert result["usage"]["total_tokens"] > 0


async def test_server_ignoring_stream_still_works(
    openai_api: tuple[OpenAIServer, str], connector: OpenAIConnector, progress: ProgressLog
) -> None:
    server, _ = openai_api
    server.fault = "ignore_stream"
    result = await connector.process(_chat(prompt="hi"), progress)
    assert result["data"] == "".join(reply_words([{"content": "hi"}]))
    assert result["finish_reason"] == "stop"


async def test_token_budget_stops_with_length(
    connector: OpenAIConnector, progress: ProgressLog
) -> None:
    result = await connector.process(_chat(prompt="a b c d e f", max_tokens=3), progress)
    assert result["finish_reason"] == "length"
    assert [round(p) for p in progress.percents[1:-1]] == [33, 67, 99]


@pytest.mark.parametrize("response_format", ["b64_json", "url"])
async def test_images_go_to_the_store(
    response_format: str,
    openai_api: tuple[OpenAIServer, str],
    connector: OpenAIConnector,
    blob_store: BlobStore,
    progress: ProgressLog,
) -> None:
    server, _ = openai_api
    payload = {
        "operation": "images",
        "model": "dall-e-3",
        "prompt": "a lighthouse",
        "n": 2,
        "response_format": response_format,
        "size": "1024x1024",
    }
    result = await connector.process(make_job("openai", payload, ctx=CTX), progress)
    paths = [o["path"] for o in result["outputs"]]
    assert paths == ["generations/u1/run7/3/104/cover.png", "generations/u1/run7/3/104/cover_1.png"]
    assert result["src"] == blob_store.url_for(paths[0])
    assert result["mimeType"] == "image/png"
    for index, path in enumerate(paths):
        assert await blob_store.get(path) == png_bytes(index)
    assert result["revised_prompt"] == "A detailed image of a lighthouse"
    assert server.requests[-1]["size"] == "1024x1024"
    if response_format == "url":  # the signed file URL must not receive our API key
        assert server.auth_headers[-2:] == [None, None]


async def test_rate_limit_is_retryable_with_the_wait(
    openai_api: tuple[OpenAIServer, str], connector: OpenAIConnector, progress: ProgressLog
) -> None:
    server, _ = openai_api
    server.fault = "rate_limit"
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_chat(prompt="hi"), progress)
    details = caught.value.details
    assert details["status"] == 429
    assert details["retry_after_s"] == 2.0
    assert details["error_code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("fault", "retryable", "status"),
    [
        ("server_error", True, 500),
        ("overloaded", True, 503),
        ("quota", False, 429),  # insufficient_quota: waiting will not pay the bill
    ],
)
async def test_server_errors_are_classified(
    fault: str,
    retryable: bool,
    status: int,
    openai_api: tuple[OpenAIServer, str],
    connector: OpenAIConnector,
    progress: ProgressLog,
) -> None:
    server, _ = openai_api
    server.fault = fault
    with pytest.raises((RetryableJobError, PermanentJobError)) as caught:
        await connector.process(_chat(prompt="hi"), progress)
    assert caught.value.retryable is retryable
    assert caught.value.details["status"] == status


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"model": "gpt-9", "prompt": "hi"}, 404, "model_not_found"),
        ({"model": "gpt-4o-mini", "messages": []}, None, None),  # refused before sending
        ({"operation": "images", "model": "dall-e-3", "prompt": ""}, None, None),
    ],
)
async def test_bad_requests_are_permanent(
    payload: dict[str, Any],
    status: int | None,
    code: str | None,
    connector: OpenAIConnector,
    progress: ProgressLog,
) -> None:
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(make_job("openai", payload), progress)
    assert caught.value.details.get("status") == status
    assert caught.value.details.get("error_code") == code


async def test_wrong_key_is_permanent(
    openai_api: tuple[OpenAIServer, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    _, url = openai_api
    connector = OpenAIConnector(
        {"base_url": url, "api_key": "sk-wrong-0123456789"}, store=blob_store
    )
    with pytest.raises(UnavailableError):
        await connector.start()
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(_chat(prompt="hi"), progress)
    await connector.close()
    assert caught.value.details["status"] == 401
    assert caught.value.details["error_code"] == "invalid_api_key"
    assert "sk-wrong-0123456789" not in caught.value.message  # the server shows 8 chars


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("garbage", "bad_response"), ("midstream_error", "stream_error"), ("no_done", "truncated")],
)
async def test_broken_answers_are_retryable(
    fault: str,
    reason: str,
    openai_api: tuple[OpenAIServer, str],
    connector: OpenAIConnector,
    progress: ProgressLog,
) -> None:
    server, _ = openai_api
    server.fault = fault
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_chat(prompt="one two three four"), progress)
    assert caught.value.details["reason"] == reason


async def test_server_down_fails_fast(blob_store: BlobStore, progress: ProgressLog) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    connector = OpenAIConnector({"base_url": url, "api_key": "k"}, store=blob_store)
    started = time.perf_counter()
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_chat(prompt="hi"), progress)
    await connector.close()
    assert caught.value.details["reason"] == "connect"
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim
