"""The ComfyUI connector inside the real worker runtime, with jobs going through Redis: outputs come
back as store URLs, progress reaches the job's event stream, and a cancel reaches ComfyUI."""

from __future__ import annotations

import asyncio

from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.models import JobRequest, JobStatus
from emprops.storage import BlobStore
from emprops.worker.connectors.comfyui import ComfyUIConnector
from tests.protocol_servers.comfyui_replay import ComfyUIReplay, basic_graph, sampler_graph
from tests.worker.test_runtime import RunningWorker, wait_status


async def test_comfyui_job_end_to_end(
    broker: Broker,
    broker_config: BrokerConfig,
    comfy: tuple[ComfyUIReplay, str],
    blob_store: BlobStore,
) -> None:
    _, url = comfy
    connector = ComfyUIConnector({"base_url": url}, store=blob_store)
    await connector.start()
    ctx = {"prefix": "generations/u1/run1/0/101", "filename": "portrait"}
    async with RunningWorker(broker_config, {"comfyui": connector}):
        await broker.submit(
            JobRequest(
                id="g0", service_required="comfyui", payload={"prompt": basic_graph()}, ctx=ctx
            )
        )
        job = await wait_status(broker, "g0", JobStatus.COMPLETED, timeout=10)
    await connector.close()
    assert job.result is not None
    assert job.result["src"] == blob_store.url_for("generations/u1/run1/0/101/portrait.png")
    assert await blob_store.exists("generations/u1/run1/0/101/portrait.png")
    progress = [e.data["progress"] for e in await broker.read_events("g0") if "progress" in e.data]
    assert len(progress) >= 2 and progress[-1] == 100


async def test_cancelling_a_queued_job_interrupts_comfyui(
    broker: Broker,
    broker_config: BrokerConfig,
    comfy: tuple[ComfyUIReplay, str],
    blob_store: BlobStore,
) -> None:
    replay, url = comfy
    connector = ComfyUIConnector({"base_url": url}, store=blob_store)
    async with RunningWorker(broker_config, {"comfyui": connector}):
        payload = {"prompt": sampler_graph(steps=50)}
        await broker.submit(JobRequest(id="long", service_required="comfyui", payload=payload))
        async with asyncio.timeout(10):
            while replay.running is None:
                await asyncio.sleep(0.02)
        prompt_id = replay.running.prompt_id
        await broker.cancel("long")
        async with asyncio.timeout(10):
            while not replay.interrupts:
                await asyncio.sleep(0.02)
    await connector.close()
    assert replay.interrupts == [{"prompt_id": prompt_id}]
    job = await broker.get("long")
    assert job is not None and job.status == JobStatus.CANCELLED
