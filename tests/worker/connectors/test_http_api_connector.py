"""The `http` connector (fetch_api workflows): one call, or submit-then-poll with jq conditions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from emprops.storage import BlobStore
from emprops.worker.connector import PermanentJobError, RetryableJobError
from emprops.worker.connectors.http_api import HttpApiConnector
from tests.protocol_servers.job_api_server import JobApiServer, png
from tests.protocol_servers.live_server import free_port
from tests.protocol_servers.raw_tcp import tcp_server
from tests.worker.connectors.conftest import ProgressLog, make_job

CTX = {"prefix": "generations/u1/run7/0/100", "filename": "render"}
# The stand-in APIs listen on loopback, which workers refuse unless their config allows it.
LOOPBACK = {"allowed_networks": ["127.0.0.1/32"]}


@pytest.fixture
async def connector(blob_store: BlobStore) -> AsyncIterator[HttpApiConnector]:
    connector = HttpApiConnector(
        {
            "secrets": {"job_api": "key-42"},
            "request_timeout_s": 5.0,
            "jq_timeout_s": 1.0,
            **LOOPBACK,
        },
        store=blob_store,
    )
    yield connector
    await connector.close()


def _submit_and_poll(url: str, prompt: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "vars": {"prompt": prompt, "steps": 20},
        "request": {
            "method": "POST",
            "url": f"{url}/v1/jobs",
            "headers": {"X-Api-Key": "{{ $secrets.job_api }}"},
            "body": {
                "prompt": "{{ .prompt }}",
                "steps": "{{ .steps }}",
                "tag": "job {{ $job.id }}",
            },
        },
        "poll": {
            "request": {"url": f"{url}/v1/jobs/{{{{ $submit.id }}}}"},
            "done": '.status == "succeeded"',
            "failed": '.status == "failed"',
            "error": ".error",
            "progress": ".progress * 100",
            "interval_s": 0.02,
            "timeout_s": 10,
        },
        "output": ".result.url",
        "output_type": "file",
    }
    payload.update(overrides)
    return payload


async def test_single_call_picks_the_output_with_jq(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    _, url = job_api
    payload = {
        "vars": {"count": 3, "colour": "gold leaf"},
        "request": {
            "url": f"{url}/palette",
            "query": {"count": "{{ .count }}", "base": "{{ .colour }}"},
        },
        "output": "{colors: .colors, first: .colors[0]}",
    }
    result = await connector.process(make_job("http", payload), progress)
    assert result["data"] == {
        "colors": ["gold leaf-0", "gold leaf-1", "gold leaf-2"],
        "first": "gold leaf-0",
    }
    assert result["mimeType"] is None
    assert result["http"] == {"status": 200, "polls": 0}
    assert progress.percents[0] == 0.0 and progress.percents[-1] == 100.0


async def test_submit_then_poll_stores_the_file(
    job_api: tuple[JobApiServer, str],
    connector: HttpApiConnector,
    blob_store: BlobStore,
    progress: ProgressLog,
) -> None:
    server, url = job_api
    job = make_job("http", _submit_and_poll(url, "a red square"), ctx=CTX, id="gen-5")
    result = await connector.process(job, progress)

    assert server.submissions == [{"prompt": "a red square", "steps": 20, "tag": "job gen-5"}]
    assert server.seen_headers[0]["x-api-key"] == "key-42"  # from the worker's secrets
    assert result["http"]["polls"] == 2
    path = "generations/u1/run7/0/100/render.png"
    assert result["src"] == blob_store.url_for(path)
    assert result["mimeType"] == "image/png"
    assert await blob_store.get(path) == png((200, 40, 40))
    assert 50.0 in progress.percents  # the API's own progress (0.5 → 50 %)
    assert progress.percents == sorted(progress.percents)


async def test_remote_failure_condition_is_permanent(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    _, url = job_api
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(make_job("http", _submit_and_poll(url, "please fail")), progress)
    assert "NSFW filter tripped" in caught.value.message
    assert caught.value.details["reason"] == "remote_failed"


async def test_flaky_polls_are_ridden_out_without_resubmitting(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    server, url = job_api
    server.flaky_polls = 2
    result = await connector.process(make_job("http", _submit_and_poll(url, "ok")), progress)
    assert len(server.submissions) == 1
    assert result["http"]["polls"] == 4


async def test_too_many_failed_polls_are_retryable(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    server, url = job_api
    server.flaky_polls = 10
    payload = _submit_and_poll(url, "ok")
    payload["poll"]["max_errors"] = 2
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(make_job("http", payload), progress)
    assert caught.value.details["status"] == 503
    assert server.polls == 3


async def test_poll_timeout_is_retryable_and_bounded(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    _, url = job_api
    payload = _submit_and_poll(url, "never finishes")
    payload["poll"].update({"timeout_s": 0.5, "interval_s": 0.05, "max_interval_s": 0.1})
    started = time.perf_counter()
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(make_job("http", payload), progress)
    assert caught.value.details["reason"] == "poll_timeout"
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim


async def test_bytes_response_is_stored(
    job_api: tuple[JobApiServer, str],
    connector: HttpApiConnector,
    blob_store: BlobStore,
    progress: ProgressLog,
) -> None:
    _, url = job_api
    payload = {"request": {"url": f"{url}/raw.png", "expect": "bytes"}, "output_type": "file"}
    result = await connector.process(make_job("http", payload, ctx=CTX), progress)
    assert await blob_store.get(result["outputs"][0]["path"]) == png((10, 200, 10))


@pytest.mark.parametrize(
    ("request_spec", "status", "retryable"),
    [
        ({"method": "POST", "url": "/v1/jobs", "body": {"prompt": "x"}}, 401, False),  # no key
        ({"url": "/v1/jobs/nope"}, 404, False),
    ],
)
async def test_client_errors_are_permanent(
    request_spec: dict[str, Any],
    status: int,
    retryable: bool,
    job_api: tuple[JobApiServer, str],
    connector: HttpApiConnector,
    progress: ProgressLog,
) -> None:
    _, url = job_api
    request_spec = {**request_spec, "url": url + request_spec["url"]}
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(make_job("http", {"request": request_spec}), progress)
    assert caught.value.details["status"] == status


async def test_garbage_instead_of_json_is_retryable(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    server, url = job_api
    server.fault = "garbage"
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(
            make_job("http", {"request": {"url": f"{url}/palette?count=2"}}), progress
        )
    assert caught.value.details["reason"] == "bad_response"


async def test_server_down_and_silent_servers_fail_fast(
    connector: HttpApiConnector, progress: ProgressLog, blob_store: BlobStore
) -> None:
    started = time.perf_counter()
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(
            make_job("http", {"request": {"url": f"http://127.0.0.1:{free_port()}/x"}}), progress
        )
    assert caught.value.details["reason"] == "connect"
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim
    impatient = HttpApiConnector({"request_timeout_s": 0.3, **LOOPBACK}, store=blob_store)
    async with tcp_server("silent") as url:
        with pytest.raises(RetryableJobError) as caught:
            await impatient.process(make_job("http", {"request": {"url": f"{url}/x"}}), progress)
    await impatient.close()
    assert caught.value.details["reason"] == "timeout"


async def test_runaway_jq_is_stopped_and_permanent(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    _, url = job_api
    payload = {"request": {"url": f"{url}/palette?count=1"}, "output": "last(range(1e12))"}
    started = time.perf_counter()
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(make_job("http", payload), progress)
    assert "longer than" in caught.value.message
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim


@pytest.mark.parametrize(
    "payload",
    [
        {"request": {"url": "file:///etc/passwd"}},
        {"request": {"url": "https://api.example/x", "headers": {"A": "{{ env.HOME }}"}}},
        {"request": {"url": "https://api.example/x"}, "output": "$ENV"},
        {"request": {"url": "https://api.example/x", "expect": "bytes"}},
        {"request": {"url": "https://api.example/x"}, "poll": {"done": ".ok"}},
    ],
)
async def test_bad_payloads_fail_permanently(
    payload: dict[str, Any], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    with pytest.raises(PermanentJobError):
        await connector.process(make_job("http", payload), progress)


async def test_hosts_outside_the_allow_list_are_refused(
    job_api: tuple[JobApiServer, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    _, url = job_api
    connector = HttpApiConnector({"allowed_hosts": ["*.example.com"]}, store=blob_store)
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(make_job("http", {"request": {"url": f"{url}/palette"}}), progress)
    await connector.close()
    assert caught.value.details["reason"] == "host_not_allowed"


async def test_secrets_are_only_available_in_headers(
    job_api: tuple[JobApiServer, str], connector: HttpApiConnector, progress: ProgressLog
) -> None:
    _, url = job_api
    payload = {
        "request": {"url": f"{url}/palette?count=1", "query": {"k": "{{ $secrets.job_api }}"}}
    }
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(make_job("http", payload), progress)
    assert "secrets" in caught.value.message
