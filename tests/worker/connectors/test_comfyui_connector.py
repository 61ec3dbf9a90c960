"""The ComfyUI connector against a server replaying recordings of a real ComfyUI 0.3.64."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from emprops.core.errors import InvalidInputError, UnavailableError
from emprops.storage import BlobStore
from emprops.worker.connector import PermanentJobError, RetryableJobError
from emprops.worker.connectors.comfyui import ComfyUIConnector
from tests.protocol_servers.comfyui_replay import (
    ComfyUIReplay,
    PrimitiveString,
    basic_graph,
    recorded_history,
    recordings,
    sampler_graph,
    text_graph,
)
from tests.protocol_servers.live_server import free_port
from tests.protocol_servers.raw_tcp import tcp_server
from tests.worker.connectors.conftest import ProgressLog, make_job
from tests.worker.connectors.test_outbound_http import listening, ok

FAST = {"connect_timeout_s": 1.0, "request_timeout_s": 5.0, "idle_check_s": 2.0}
# Input URLs may reach loopback (where the replay serves) only where the config allows it.
LOOPBACK = {"allowed_networks": ["127.0.0.1/32"]}
CTX = {
    "prefix": "generations/u1/run7/0/101",
    "filename": "txt2img-flux.png",
    "input_roots": ["generations/u1/run7/"],
}


@pytest.fixture
async def connector(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore
) -> AsyncIterator[ComfyUIConnector]:
    _, url = comfy
    connector = ComfyUIConnector({"base_url": url, **FAST}, store=blob_store)
    await connector.start()
    yield connector
    await connector.close()


def _job(graph: dict[str, Any], **payload: Any) -> Any:
    return make_job("comfyui", {"prompt": graph, **payload}, ctx=CTX)


async def test_graph_runs_and_its_image_lands_in_the_store(
    comfy: tuple[ComfyUIReplay, str],
    connector: ComfyUIConnector,
    blob_store: BlobStore,
    progress: ProgressLog,
) -> None:
    replay, _ = comfy
    result = await connector.process(_job(basic_graph()), progress)

    recorded_view = recordings()[0]["view"]
    path = "generations/u1/run7/0/101/txt2img-flux.png"
    assert result["src"] == blob_store.url_for(path)
    assert result["mimeType"] == recorded_view["content_type"]
    stored = await blob_store.get(path)
    assert stored == replay.files[("output", "", "trace_probe_00001_.png")]
    assert len(stored) == recorded_view["bytes"]
    assert stored[:8].hex() == recorded_view["png_magic"]
    assert result["outputs"][0]["node"] == "6"
    assert result["outputs"][0]["filename"] == "trace_probe_00001_.png"
    # The prompt went to the server with the socket's client id, and progress only moved forward.
    (submitted,) = replay.prompts
    assert submitted["prompt"] == basic_graph()
    assert submitted["client_id"]
    assert connector.server_info["comfyui_version"] == "0.3.64"
    assert progress.percents == sorted(progress.percents)
    assert progress.percents[-1] == 100.0
    assert len({round(p) for p in progress.percents}) >= 5  # one step per node at least


async def test_early_history_read_beats_the_lagging_end_marker(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    """The recording's end marker came 0.275 s after execution_success; the history was already
    written (the queue status precedes it), so the job need not wait for the marker. The replay
    holds the marker back until the job is done: no timing involved."""
    replay, _ = comfy
    replay.hold_end_marker = asyncio.Event()
    try:
        result = await asyncio.wait_for(connector.process(_job(basic_graph()), progress), 30)
        sent = [m["type"] for m in replay.submitted[result["prompt_id"]].sent]
        assert "execution_success" in sent
        assert sent[-1] != "executing"  # the end marker is still held back
    finally:
        replay.hold_end_marker.set()


async def test_identical_graph_is_answered_from_cache(
    connector: ComfyUIConnector, blob_store: BlobStore, progress: ProgressLog
) -> None:
    first = await connector.process(_job(basic_graph()), progress)
    second = await connector.process(_job(basic_graph()), ProgressLog())
    assert first["stats"]["cached_nodes"] == 0
    assert second["stats"]["cached_nodes"] == 6
    assert second["prompt_id"] != first["prompt_id"]
    assert await blob_store.get(second["outputs"][0]["path"]) == await blob_store.get(
        first["outputs"][0]["path"]
    )


async def test_step_progress_and_preview_frames(
    connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    result = await connector.process(_job(sampler_graph()), progress)
    assert result["stats"]["previews"] == 3
    # Node 2 of 3 at step 1/3, 2/3: (1 + 1/3) / 3 and (1 + 2/3) / 3 of the way.
    percents = [round(p, 1) for p in progress.percents]
    assert 44.4 in percents and 55.6 in percents
    assert any("FakeSampler" in message for _, message in progress.calls)
    assert result["mimeType"] == "image/png"


async def test_execution_error_fails_permanently_naming_the_node(
    connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(_job(sampler_graph(fail_at_step=1)), progress)
    error = caught.value
    assert "FakeSampler failed at step 1" in error.message
    assert error.details["node_id"] == "2"
    assert error.details["node_type"] == "FakeSampler"
    assert error.details["exception_type"] == "RuntimeError"
    assert error.details["reason"] == "execution_error"


async def test_invalid_graph_is_a_permanent_error_with_node_details(
    connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    graph = basic_graph()
    graph["5"]["inputs"]["upscale_method"] = "not-a-method"
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(_job(graph), progress)
    error = caught.value
    assert "node 5 (ImageScale)" in error.message
    assert "not-a-method" in error.message
    node = error.details["node_errors"]["5"]
    assert node["class_type"] == "ImageScale"
    assert node["errors"][0]["input_name"] == "upscale_method"
    assert error.details["error"]["type"] == "prompt_outputs_failed_validation"


async def test_unknown_node_class_is_a_permanent_error(
    connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    graph = basic_graph()
    graph["3"]["class_type"] = "NoSuchNode"
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(_job(graph), progress)
    assert "Cannot execute because node NoSuchNode does not exist." in caught.value.message
    assert caught.value.details["error"]["type"] == "invalid_prompt"


async def _wait_running(replay: ComfyUIReplay, progress: ProgressLog) -> str:
    async with asyncio.timeout(10):
        while not any("FakeSampler" in message for _, message in progress.calls):
            await asyncio.sleep(0.01)
    assert replay.running is not None
    return replay.running.prompt_id


async def test_cancelling_the_task_interrupts_the_prompt_on_the_server(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    replay, _ = comfy
    task = asyncio.create_task(connector.process(_job(sampler_graph(steps=50)), progress))
    prompt_id = await _wait_running(replay, progress)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert replay.interrupts == [{"prompt_id": prompt_id}]
    async with asyncio.timeout(5):  # the server then ends the prompt as interrupted
        while prompt_id not in replay.history:
            await asyncio.sleep(0.01)
    assert replay.history[prompt_id]["status"]["messages"][-1][0] == "execution_interrupted"


async def test_cancel_call_interrupts_and_the_job_ends_cancelled(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    replay, _ = comfy
    job = _job(sampler_graph(steps=50))
    task = asyncio.create_task(connector.process(job, progress))
    prompt_id = await _wait_running(replay, progress)
    await connector.cancel(job)
    assert replay.interrupts == [{"prompt_id": prompt_id}]
    with pytest.raises(asyncio.CancelledError):
        await task  # execution_interrupted arrived for a prompt we stopped


async def test_interrupt_by_someone_else_is_retryable(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    replay, url = comfy
    task = asyncio.create_task(connector.process(_job(sampler_graph(steps=50)), progress))
    await _wait_running(replay, progress)
    import httpx

    async with httpx.AsyncClient() as client:  # as a user pressing "cancel" in ComfyUI's UI
        await client.post(f"{url}/interrupt")
    with pytest.raises(RetryableJobError) as caught:
        await task
    assert caught.value.details["reason"] == "interrupted"


async def test_deadline_interrupts_the_prompt_and_is_retryable(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    replay, _ = comfy
    started = time.perf_counter()
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_job(sampler_graph(steps=50), timeout_s=1.5), progress)
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim
    assert caught.value.details["reason"] == "timeout"
    assert len(replay.interrupts) == 1


async def test_lost_socket_falls_back_to_polling_the_history(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    replay, _ = comfy
    replay.fault = "drop_socket"
    result = await connector.process(_job(basic_graph()), progress)
    assert result["outputs"][0]["node"] == "6"


async def test_prompt_the_server_forgot_fails_retryable_at_the_idle_check(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    replay, url = comfy
    replay.fault = "forget_prompt"
    connector = ComfyUIConnector({"base_url": url, **FAST, "idle_check_s": 0.3}, store=blob_store)
    try:
        with pytest.raises(RetryableJobError) as caught:
            await connector.process(_job(basic_graph()), progress)
    finally:
        await connector.close()
    assert caught.value.details["reason"] == "lost"


async def test_html_instead_of_json_is_a_retryable_bad_response(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    replay, _ = comfy
    replay.fault = "garbage_prompt"
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_job(basic_graph()), progress)
    assert caught.value.details["reason"] == "bad_response"


async def test_server_down_fails_fast_and_retryable(
    blob_store: BlobStore, progress: ProgressLog
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    connector = ComfyUIConnector({"base_url": url, **FAST}, store=blob_store)
    started = time.perf_counter()
    with pytest.raises(UnavailableError):
        await connector.start()
    with pytest.raises(RetryableJobError) as caught:
        await connector.process(_job(basic_graph()), progress)
    await connector.close()
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim
    assert caught.value.details["reason"] == "service_unavailable"
    assert caught.value.details["transport"] == "connect"


@pytest.mark.parametrize("mode", ["garbage", "silent"])
async def test_a_server_that_does_not_speak_http_fails_fast(
    mode: str, blob_store: BlobStore, progress: ProgressLog
) -> None:
    async with tcp_server(mode) as url:
        connector = ComfyUIConnector(
            {"base_url": url, "connect_timeout_s": 0.5, "request_timeout_s": 0.5},
            store=blob_store,
        )
        started = time.perf_counter()
        with pytest.raises(RetryableJobError):
            await connector.process(_job(basic_graph()), progress)
        await connector.close()
    assert time.perf_counter() - started < 10  # a hang guard, not a speed claim


async def test_input_image_is_uploaded_and_wired_into_the_graph(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    replay, url = comfy
    connector = ComfyUIConnector({"base_url": url, **FAST, **LOOPBACK}, store=blob_store)
    first = await connector.process(_job(basic_graph()), ProgressLog())
    graph = basic_graph()
    graph["1"] = {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}}
    second_graph = copy.deepcopy(graph)
    second_graph["2"] = {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}}
    inputs = [
        {"node": "1", "url": first["src"]},  # an earlier step's output, read through the store
        {"node": "2", "url": f"{url}/view?filename=trace_probe_00001_.png&type=output"},
    ]
    job = make_job("comfyui", {"prompt": second_graph, "inputs": inputs}, ctx=CTX, id="j-1")
    try:
        result = await connector.process(job, progress)
    finally:
        await connector.close()

    assert [u["filename"] for u in replay.uploads] == ["j-1_0.png", "j-1_1.png"]
    assert all(u["subfolder"] == "emprops" and u["type"] == "input" for u in replay.uploads)
    sent = replay.prompts[-1]["prompt"]
    assert sent["1"]["inputs"]["image"] == "emprops/j-1_0.png"
    assert sent["2"]["inputs"]["image"] == "emprops/j-1_1.png"
    assert replay.files[("input", "emprops", "j-1_0.png")] == await blob_store.get(
        first["outputs"][0]["path"]
    )
    assert result["stats"]["uploaded"] == ["emprops/j-1_0.png", "emprops/j-1_1.png"]


async def test_an_input_url_at_loopback_is_refused_by_default(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    """The ComfyUI server itself is on loopback (operator config); a payload's input URL is not."""
    replay, _ = comfy
    graph = basic_graph()
    graph["1"] = {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}}
    async with listening("127.0.0.1", ok(b"\x89PNG\r\n\x1a\nsecret")) as target:
        inputs = [{"node": "1", "url": f"{target.url}/internal.png"}]
        with pytest.raises(PermanentJobError) as caught:
            await connector.process(_job(graph, inputs=inputs), progress)
        assert (target.connections, target.requests) == (0, [])
    assert caught.value.details["reason"] == "address_not_allowed"
    assert caught.value.details["service"] == "comfyui"
    assert "127.0.0.1 is a loopback address" in caught.value.message
    assert "allowed_networks" in caught.value.message
    assert replay.uploads == [] and replay.prompts == []


def test_a_bad_allowed_network_is_a_config_error() -> None:
    with pytest.raises(InvalidInputError, match="not an IP network"):
        ComfyUIConnector({"allowed_networks": ["127.0.0.1/33"]})


async def test_a_text_graph_gives_its_text(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    """The original's text savers run as ComfyUI's PreviewAny: the job output is the text."""
    replay, _ = comfy
    result = await connector.process(_job(text_graph("a gold-lit explorer")), progress)
    assert result["data"] == "a gold-lit explorer"
    assert result["mimeType"] == "text/plain"
    assert result["outputs"] == [] and "src" not in result
    assert result["outputs_raw"] == {"1": {"text": ["a gold-lit explorer"]}}
    entry = replay.history[result["prompt_id"]]
    assert entry["outputs"] == {"1": {"text": ["a gold-lit explorer"]}}
    assert entry["prompt"][4] == ["1"]  # PreviewAny is an output node
    assert progress.percents[-1] == 100.0


async def test_several_text_outputs_are_joined_in_node_order(
    connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    graph = text_graph("first", PrimitiveString("second"), 7, {"k": [1]})
    result = await connector.process(_job(graph), progress)
    assert result["data"] == 'first\nsecond\n7\n{"k": [1]}'
    assert result["mimeType"] == "text/plain"
    assert result["outputs_raw"]["3"] == {"text": ["second"]}  # node 2 is the PrimitiveString
    only = await connector.process(_job(graph, output_nodes=["4"]), ProgressLog())
    assert only["data"] == "7"


async def test_missing_store_input_is_permanent(
    connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    graph = basic_graph()
    graph["1"] = {"class_type": "LoadImage", "inputs": {"image": "x.png"}}
    payload = {"prompt": graph, "inputs": [{"node": "1", "path": "generations/u1/run7/no.png"}]}
    with pytest.raises(PermanentJobError) as caught:
        await connector.process(make_job("comfyui", payload, ctx=CTX), progress)
    assert caught.value.details["reason"] != "input_not_allowed"  # allowed, but not there


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"prompt": {"1": {"inputs": {}}}},  # the UI format has no class_type per node
        {"prompt": basic_graph(), "inputs": [{"node": "99", "path": "a.png"}]},
        {"prompt": basic_graph(), "inputs": [{"node": "1"}]},
        {"prompt": basic_graph(), "typo": 1},
    ],
)
async def test_bad_payloads_fail_permanently_before_any_request(
    payload: dict[str, Any], comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector
) -> None:
    replay, _ = comfy
    with pytest.raises(PermanentJobError):
        await connector.process(make_job("comfyui", payload), ProgressLog())
    assert replay.prompts == []


async def test_replayed_history_has_the_recorded_shape(
    comfy: tuple[ComfyUIReplay, str], connector: ComfyUIConnector, progress: ProgressLog
) -> None:
    """The replay builds history entries from messages; for the recorded prompt that must give
    the real server's entry back, up to ids and timestamps."""
    replay, _ = comfy
    result = await connector.process(_job(basic_graph()), progress)
    built = copy.deepcopy(replay.history[result["prompt_id"]])
    recorded = recorded_history("basic")

    def normalize(entry: dict[str, Any]) -> dict[str, Any]:
        entry["prompt"][0] = entry["prompt"][1] = entry["prompt"][3] = None
        for _, data in entry["status"]["messages"]:
            data["prompt_id"] = data["timestamp"] = None
        return entry

    assert normalize(built) == normalize(recorded)
