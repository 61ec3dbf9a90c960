"""The ComfyUI connector against the faithful recording of a real ComfyUI 0.3.64: what a real
server sends that the condensed traces never showed (other prompts' and non-object messages,
progress-text and metadata previews), and the job-level rules (job-scoped uploads, input roots,
bare and UI-format graphs, a server that goes away, node errors kept on the queued job)."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import httpx
import pytest

from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.models import JobRequest, JobStatus
from emprops.storage import BlobStore
from emprops.worker.connector import (
    PermanentJobError,
    RetryableJobError,
    ServiceUnavailableError,
)
from emprops.worker.connectors.comfyui import ComfyUIConnector, job_scoped_name
from emprops.worker.connectors.comfyui_protocol import PromptTracker, parse_binary_frame
from tests.protocol_servers.comfyui_replay import (
    ComfyUIReplay,
    basic_graph,
    metadata_preview_frame,
    probe_graph,
    real_trace,
    text_frame,
)
from tests.protocol_servers.live_server import serve
from tests.worker.connectors.conftest import ProgressLog, make_job
from tests.worker.test_runtime import RunningWorker, wait_status

FAST = {"connect_timeout_s": 1.0, "request_timeout_s": 5.0, "idle_check_s": 2.0}
ROOT = "generations/u1/run7/"
CTX = {"prefix": f"{ROOT}0/101", "filename": "out.png", "input_roots": [ROOT]}


def _job(payload: dict[str, Any], **fields: Any) -> Any:
    fields.setdefault("ctx", CTX)
    return make_job("comfyui", payload, **fields)


async def _connector(url: str, store: BlobStore, **config: Any) -> ComfyUIConnector:
    connector = ComfyUIConnector({"base_url": url, **FAST, **config}, store=store)
    await connector.start()
    return connector


# --- what the socket carries --------------------------------------------------------------------


async def test_other_prompts_and_non_object_messages_are_ignored(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    """Between each of our messages the replay slips another prompt's (its execution_error and
    end marker included) and messages whose data is a list, a string or null."""
    replay, url = comfy
    replay.interleave = True
    connector = await _connector(url, blob_store)
    try:
        result = await connector.process(_job({"prompt": probe_graph()}), progress)
    finally:
        await connector.close()
    assert result["outputs"][0]["filename"] == "trace_steps_00001_.png"
    assert result["stats"]["previews"] == 3
    assert progress.percents == sorted(progress.percents)


async def test_a_prompt_without_client_is_broadcast_and_does_not_end_ours(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    """Someone queues a prompt with no client id: the real server sends its messages to every
    socket, ours included, while our prompt waits behind it."""
    replay, url = comfy
    connector = await _connector(url, blob_store)
    async with httpx.AsyncClient() as client:
        other = await client.post(f"{url}/prompt", json={"prompt": probe_graph(steps=50)})
    other_id = other.json()["prompt_id"]
    task = asyncio.create_task(connector.process(_job({"prompt": probe_graph()}), progress))
    async with asyncio.timeout(10):
        while replay.running is None or replay.running.prompt_id != other_id:
            await asyncio.sleep(0.01)
        while len(replay.prompts) < 2:  # ours is queued behind it
            await asyncio.sleep(0.01)
    async with httpx.AsyncClient() as client:
        await client.post(f"{url}/interrupt", json={"prompt_id": other_id})
    try:
        result = await asyncio.wait_for(task, 20)
    finally:
        await connector.close()
    assert result["stats"]["previews"] == 3
    assert replay.history[other_id]["status"]["status_str"] == "error"


async def test_progress_text_frames_are_not_previews(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    _, url = comfy
    connector = await _connector(url, blob_store, preview_metadata=False)
    try:
        result = await connector.process(
            _job({"prompt": probe_graph(steps=2, text=True)}), progress
        )
    finally:
        await connector.close()
    # The recording: two progress-text frames (event 3) and two previews (event 1).
    frames = [e["binary"]["event"] for e in real_trace()["steps_with_text"]["log"] if "binary" in e]
    assert frames == [3, 1, 3, 1]
    assert result["stats"]["previews"] == 2


@pytest.mark.parametrize("metadata", [True, False])
async def test_previews_are_counted_with_and_without_metadata(
    metadata: bool,
    comfy: tuple[ComfyUIReplay, str],
    blob_store: BlobStore,
    progress: ProgressLog,
) -> None:
    """A client declaring `supports_preview_metadata` gets event-4 previews, the server's
    feature_flags reply first; either way each preview counts once."""
    replay, url = comfy
    connector = await _connector(url, blob_store, preview_metadata=metadata)
    try:
        result = await connector.process(_job({"prompt": probe_graph(steps=2)}), progress)
    finally:
        await connector.close()
    assert result["stats"]["previews"] == 2
    (flags,) = replay.client_flags.values() if metadata else ({},)
    assert flags.get("supports_preview_metadata", False) is metadata


def test_tracker_counts_only_its_own_metadata_previews() -> None:
    tracker = PromptTracker.for_graph("mine", probe_graph())
    meta = {"node_id": "2", "image_type": "image/jpeg"}
    tracker.on_preview(parse_binary_frame(metadata_preview_frame(821, {**meta, "prompt_id": "x"})))
    tracker.on_preview(parse_binary_frame(text_frame("2", "step 1/2")))
    assert tracker.previews == 0 and tracker.texts == 1
    frame = parse_binary_frame(metadata_preview_frame(821, {**meta, "prompt_id": "mine"}))
    tracker.on_preview(frame)
    assert tracker.previews == 1 and frame.mime == "image/jpeg" and frame.image[:2] == b"\xff\xd8"


def test_recorded_text_frame_parses_as_text() -> None:
    (entry,) = [e["binary"] for e in real_trace()["steps_with_text"]["log"] if "binary" in e][:1]
    frame = parse_binary_frame(text_frame(entry["node"], entry["text"]))
    assert len(text_frame(entry["node"], entry["text"])) == entry["len"]
    assert (frame.event, frame.node, frame.text, frame.is_preview) == (3, "2", "step 1/2", False)


# --- inputs -------------------------------------------------------------------------------------


def _load_graph() -> dict[str, Any]:
    graph = basic_graph()
    graph["1"] = {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}}
    return graph


async def test_concurrent_jobs_uploading_the_same_name_get_their_own_files(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore
) -> None:
    replay, url = comfy
    await blob_store.put(f"{ROOT}a.png", b"\x89PNG\r\n\x1a\nfirst")
    await blob_store.put(f"{ROOT}b.png", b"\x89PNG\r\n\x1a\nsecond")
    connector = await _connector(url, blob_store)
    jobs = [
        _job(
            {"prompt": _load_graph(), "inputs": [{"node": "1", "path": f"{ROOT}{name}",
                                                   "filename": "a.png"}]},
            id=job_id,
        )
        for job_id, name in (("job-1", "a.png"), ("job-2", "b.png"))
    ]  # fmt: skip
    try:
        results = await asyncio.gather(*(connector.process(j, ProgressLog()) for j in jobs))
    finally:
        await connector.close()
    assert [r["stats"]["uploaded"] for r in results] == [
        ["emprops/job-1_0_a.png"],
        ["emprops/job-2_0_a.png"],
    ]
    assert replay.files[("input", "emprops", "job-1_0_a.png")].endswith(b"first")
    assert replay.files[("input", "emprops", "job-2_0_a.png")].endswith(b"second")
    wired = sorted(p["prompt"]["1"]["inputs"]["image"] for p in replay.prompts)
    assert wired == ["emprops/job-1_0_a.png", "emprops/job-2_0_a.png"]


def test_job_scoped_names_stay_distinct_after_sanitizing() -> None:
    assert job_scoped_name("j-1", 0, None, "png") == "j-1_0.png"
    assert job_scoped_name("a:1", 0, "x y.png", "png") != job_scoped_name(
        "a_1", 0, "x y.png", "png"
    )
    assert job_scoped_name("a:1", 2, "x y.png", "png").endswith("_2_x_y.png")
    assert len(job_scoped_name("j" * 128, 0, None, "png")) < 100


@pytest.mark.parametrize(
    ("ctx", "reference"),
    [
        (CTX, {"path": "generations/u2/run1/secret.png"}),  # another user's file
        (CTX, {"path": f"{ROOT}../../u2/run1/secret.png"}),
        (CTX, {"path": f"/{ROOT}a.png"}),
        ({**CTX, "input_roots": ["generations/u1"]}, {"path": "generations/u10/a.png"}),
        ({"prefix": CTX["prefix"]}, {"path": f"{ROOT}a.png"}),  # no input_roots at all
        (CTX, {"url": "STORE:generations/u2/run1/secret.png"}),
    ],
)
async def test_store_inputs_outside_the_input_roots_are_refused(
    ctx: dict[str, Any],
    reference: dict[str, str],
    comfy: tuple[ComfyUIReplay, str],
    blob_store: BlobStore,
) -> None:
    replay, url = comfy
    await blob_store.put("generations/u2/run1/secret.png", b"\x89PNG\r\n\x1a\nsecret")
    await blob_store.put(f"{ROOT}a.png", b"\x89PNG\r\n\x1a\nmine")
    if "url" in reference:
        reference = {"url": blob_store.url_for(reference["url"].removeprefix("STORE:"))}
    payload = {"prompt": _load_graph(), "inputs": [{"node": "1", **reference}]}
    connector = await _connector(url, blob_store)
    try:
        with pytest.raises(PermanentJobError) as caught:
            await connector.process(_job(payload, ctx=ctx), ProgressLog())
    finally:
        await connector.close()
    assert caught.value.details["reason"] == "input_not_allowed"
    assert "input_roots" in caught.value.message or "input roots" in caught.value.message
    assert replay.uploads == [] and replay.prompts == []


# --- payload shapes -----------------------------------------------------------------------------


async def test_a_bare_api_graph_is_a_payload(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    replay, url = comfy
    connector = await _connector(url, blob_store)
    try:
        result = await connector.process(_job(basic_graph()), progress)
    finally:
        await connector.close()
    assert result["outputs"][0]["node"] == "6"
    assert replay.prompts[0]["prompt"] == basic_graph()


UI_GRAPH = {"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}], "links": [[1, 4, 0]]}


@pytest.mark.parametrize(
    "payload",
    [UI_GRAPH, {"prompt": UI_GRAPH}, {"workflow": UI_GRAPH, "typo": 1, "inputs": "junk"}],
)
async def test_a_ui_format_graph_is_refused_with_the_fix(
    payload: dict[str, Any], comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore
) -> None:
    replay, url = comfy
    connector = await _connector(url, blob_store)
    try:
        with pytest.raises(PermanentJobError) as caught:
            await connector.process(_job(payload), ProgressLog())
    finally:
        await connector.close()
    assert "export it in API format" in caught.value.message
    assert replay.prompts == []


# --- failures -----------------------------------------------------------------------------------


async def test_the_recorded_failure_names_the_node(
    comfy: tuple[ComfyUIReplay, str], blob_store: BlobStore, progress: ProgressLog
) -> None:
    _, url = comfy
    connector = await _connector(url, blob_store)
    try:
        with pytest.raises(PermanentJobError) as caught:
            await connector.process(_job({"prompt": probe_graph(fail_at=2)}), progress)
    finally:
        await connector.close()
    assert "ProbeSteps failed at step 2" in caught.value.message
    assert caught.value.details["node_id"] == "2"
    assert caught.value.details["node_type"] == "ProbeSteps"


async def test_a_server_that_goes_away_mid_job_is_service_unavailable(
    blob_store: BlobStore, progress: ProgressLog
) -> None:
    replay = ComfyUIReplay()
    async with serve(replay.app) as url:
        connector = await _connector(url, blob_store)
        task = asyncio.create_task(
            connector.process(_job({"prompt": probe_graph(steps=50)}), progress)
        )
        async with asyncio.timeout(10):
            while not any("ProbeSteps" in message for _, message in progress.calls):
                await asyncio.sleep(0.01)
    await replay.aclose()  # the server is gone: its port refuses connections
    try:
        with pytest.raises(ServiceUnavailableError) as caught:
            await asyncio.wait_for(task, 20)
    finally:
        await connector.close()
    assert isinstance(caught.value, RetryableJobError)
    assert caught.value.details["reason"] == "service_unavailable"
    assert caught.value.details["service"] == "comfyui"


async def test_node_errors_reach_the_job_the_broker_keeps(
    broker: Broker,
    broker_config: BrokerConfig,
    comfy: tuple[ComfyUIReplay, str],
    blob_store: BlobStore,
) -> None:
    _, url = comfy
    graph = basic_graph()
    graph["5"]["inputs"]["upscale_method"] = "not-a-method"
    connector = await _connector(url, blob_store)
    async with RunningWorker(broker_config, {"comfyui": connector}):
        await broker.submit(
            JobRequest(id="bad", service_required="comfyui", payload={"prompt": graph})
        )
        job = await wait_status(broker, "bad", JobStatus.FAILED, timeout=10)
    await connector.close()
    assert job.error is not None and "node 5 (ImageScale)" in job.error
    assert job.error_details is not None
    assert job.error_details["reason"] == "invalid_graph"
    node = job.error_details["node_errors"]["5"]
    assert node["class_type"] == "ImageScale"
    assert node["errors"][0]["input_name"] == "upscale_method"
    recorded = real_trace()["invalid"]["log"][1]["body"]
    assert node["errors"][0]["type"] == recorded["node_errors"]["5"]["errors"][0]["type"]
    assert json.dumps(job.error_details)  # plain JSON, as stored


def test_binary_frame_layouts_match_the_recording() -> None:
    (meta_entry, *_) = [
        e["binary"] for e in real_trace()["steps_preview_metadata"]["log"] if "binary" in e
    ]
    frame = metadata_preview_frame(meta_entry["len"], meta_entry["meta"])
    assert len(frame) == meta_entry["len"]
    assert struct.unpack(">I", frame[:4]) == (4,)
