"""The Ollama connector against a local server speaking Ollama's NDJSON protocol."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from emprops.core.errors import UnavailableError
from emprops.storage import BlobStore
from emprops.worker.connector import PermanentJobError, RetryableJobError
from emprops.worker.connectors.ollama import OllamaConnector
from tests.protocol_servers.live_server import free_port
from tests.protocol_servers.ollama_server import OllamaServer, answer_words
from tests.protocol_servers.raw_tcp import tcp_server
from tests.worker.connectors.conftest import ProgressLog, make_job
from tests.worker.connectors.test_outbound_http import listening, ok

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/zKF3xQAAAABJRU5ErkJggg=="
)


@pytest.fixture
async def connector(
    ollama: tuple[OllamaServer, str], blob_store: BlobStore
) -> AsyncIterator[OllamaConnector]:
    _, url = ollama
    connector = OllamaConnector({"base_url": url, "read_timeout_s": 5.0}, store=blob_store)
    await connector.start()
    yield connector
    await connector.close()


def _job(**payload: Any) -> Any:
    return make_job("ollama", payload)


async def test_generate_streams_tokens_with_progress(
    connector: OllamaConnector, progress: ProgressLog
) -> None:
    prompt = "a moody explorer in front of a gold backdrop"
    result = await connector.process(_job(model="llama3.2", prompt=prompt), progress)
    words = answer_words(prompt)
    assert result["data"] == "".join(words)
    assert result["mimeType"] is None
    assert result["done_reason"] == "stop"
    assert result["stats"]["eval_count"] == len(words)
    assert result["model"] == "llama3.2:latest"
    assert connector.models == ["llama3.2:latest", "tiny:latest"]
    assert progress.percents == sorted(progress.percents)
    assert len(progress.calls) >= 3 and progress.percents[-1] == 100.0


async def test_token_budget_drives_the_percentage(
    connector: OllamaConnector, progress: ProgressLog
) -> None:
    result = await connector.process(
        _job(model="tiny", prompt="one two three four five six", options={"num_predict": 4}),
        progress,
    )
    assert result["done_reason"] == "length"
    assert result["stats"]["eval_count"] == 4
    assert [round(p) for p in progress.percents[1:-1]] == [25, 50, 75, 99]


async def test_chat_with_an_image_from_the_store(
    ollama: tuple[OllamaServer, str],
    connector: OllamaConnector,
    blob_store: BlobStore,
    progress: ProgressLog,
) -> None:
    server, _ = ollama
    stored = await blob_store.put("generations/u/r/0/101/portrait.png", PNG)
    payload = {
        "model": "llama3.2",
        "system": "You write captions.",
        "messages": [{"role": "user", "content": "Caption this"}],
        "image": stored.url,  # an earlier step's `src`
    }
    job = make_job("ollama", payload, ctx={"input_roots": ["generations/u/r/"]})
    result = await connector.process(job, progress)
    assert result["data"] == "".join(answer_words("Caption this"))
    sent = server.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "You write captions."}
    assert base64.b64decode(sent["messages"][-1]["images"][0]) == PNG
    assert sent["stream"] is True


async def test_an_image_from_another_run_or_user_is_refused(
    ollama: tuple[OllamaServer, str],
    connector: OllamaConnector,
    blob_store: BlobStore,
    progress: ProgressLog,
) -> None:
    """A store file outside the job's input roots (another user's output, named by its URL) is
    never read, whether the job has roots or none at all."""
    server, _ = ollama
    stored = await blob_store.put("generations/other/run/0/1/private.png", PNG)
    payload = {"model": "llama3.2", "prompt": "Caption this", "image": stored.url}
    for ctx in ({"input_roots": ["generations/u/r/"]}, {}):
        with pytest.raises(PermanentJobError) as caught:
            await connector.process(make_job("ollama", payload, ctx=ctx), progress)
        assert caught.value.details["reason"] == "input_not_allowed"
    assert server.requests == []


async def test_an_image_url_at_loopback_is_refused_by_default(
    ollama: tuple[OllamaServer, str], connector: OllamaConnector, progress: ProgressLog
) -> None:
    """The Ollama server itself is on loopback (operator config); a payload's image URL is not."""
    server, _ = ollama
    async with listening("127.0.0.1", ok(PNG)) as target:
        payload = {"model": "llama3.2", "prompt": "Caption this", "image": f"{target.url}/a.png"}
        with pytest.raises(PermanentJobError) as caught:
            await connector.process(_job(**payload), progress)
        assert (target.connections, target.requests) == (0, [])
    assert caught.value.details["reason"] == "address_not_allowed"
    assert caught.value.details["service"] == "ollama"
    assert "127.0.0.1 is a loopback address" in caught.value.message
    assert server.requests == []


async def test_an_image_url_in_an_allowed_network_is_read(
    ollama: tuple[OllamaServer, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    server, url = ollama
    config = {"base_url": url, "allowed_networks": ["127.0.0.1/32"]}
    connector = OllamaConnector(config, store=blob_store)
    async with listening("127.0.0.1", ok(PNG)) as target:
        payload = {"model": "llama3.2", "prompt": "Caption this", "images": [f"{target.url}/a"]}
        try:
            await connector.process(_job(**payload), progress)
        finally:
            await connector.close()
    assert [seen.target for seen in target.requests] == ["/a"]
    assert base64.b64decode(server.requests[-1]["images"][0]) == PNG


async def test_non_streaming_answer(connector: OllamaConnector, progress: ProgressLog) -> None:
    result = await connector.process(_job(model="tiny", prompt="hello", stream=False), progress)
    assert result["data"] == "".join(answer_words("hello"))
    assert result["stats"]["prompt_eval_count"] == 1


async def test_unknown_model_is_permanent(
    connector: OllamaConnector, progress: ProgressLog
) -> None:
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(_job(model="llama9", prompt="hi"), progress)
    assert caught.value.details["reason"] == "model_not_found"
    assert caught.value.details["status"] == 404
    assert 'model "llama9" not found' in caught.value.message


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("crash", "server_error"),
        ("midstream_error", "runner_error"),
        ("truncated", "truncated"),
        ("garbage", "bad_response"),
    ],
)
async def test_server_failures_are_retryable(
    fault: str,
    reason: str,
    ollama: tuple[OllamaServer, str],
    connector: OllamaConnector,
    progress: ProgressLog,
) -> None:
    server, _ = ollama
    server.fault = fault
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_job(model="tiny", prompt="a b c d e"), progress)
    assert caught.value.details["reason"] == reason


async def test_stalled_stream_hits_the_read_timeout(
    ollama: tuple[OllamaServer, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    server, url = ollama
    server.fault, server.slow_s = "slow", 2.0
    connector = OllamaConnector({"base_url": url, "read_timeout_s": 0.3}, store=blob_store)
    started = time.perf_counter()
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_job(model="tiny", prompt="a b c"), progress)
    await connector.close()
    assert caught.value.details["reason"] == "timeout"
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim


async def test_server_down_fails_fast(blob_store: BlobStore, progress: ProgressLog) -> None:
    connector = OllamaConnector({"base_url": f"http://127.0.0.1:{free_port()}"}, store=blob_store)
    started = time.perf_counter()
    with pytest.raises(UnavailableError):
        await connector.start()
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_job(model="tiny", prompt="hi"), progress)
    await connector.close()
    assert caught.value.details["reason"] == "connect"
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim


async def test_not_http_at_all_is_retryable(blob_store: BlobStore, progress: ProgressLog) -> None:
    async with tcp_server("garbage") as url:
        connector = OllamaConnector({"base_url": url}, store=blob_store)
        with pytest.raises(RetryableJobError) as caught:
            await connector.process(_job(model="tiny", prompt="hi"), progress)
        await connector.close()
    assert caught.value.details["reason"] in ("bad_response", "network")


@pytest.mark.parametrize(
    "payload",
    [
        {"model": "tiny"},
        {"model": "tiny", "prompt": "x", "messages": [{"role": "user", "content": "y"}]},
        {"prompt": "x"},
        {"model": "tiny", "prompt": "x", "image": "ftp://example/x.png"},
    ],
)
async def test_bad_payloads_are_permanent(
    payload: dict[str, Any],
    ollama: tuple[OllamaServer, str],
    connector: OllamaConnector,
    progress: ProgressLog,
) -> None:
    server, _ = ollama
    with pytest.raises(PermanentJobError):
        await connector.process(_job(**payload), progress)
    assert server.requests == []
