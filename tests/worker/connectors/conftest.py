"""Fixtures for the connector tests: a real local blob store, a progress recorder, and each
protocol server running in-process on a free loopback port."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from emprops.queue.models import Job
from emprops.storage import BlobStore, open_blob_store
from tests.protocol_servers.comfyui_replay import ComfyUIReplay
from tests.protocol_servers.job_api_server import JobApiServer
from tests.protocol_servers.live_server import serve
from tests.protocol_servers.ollama_server import OllamaServer
from tests.protocol_servers.openai_server import OpenAIServer


class ProgressLog:
    """Records every progress call, as the worker runtime would receive them."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    async def __call__(self, percent: float, message: str = "") -> None:
        self.calls.append((percent, message))

    @property
    def percents(self) -> list[float]:
        return [percent for percent, _ in self.calls]


def make_job(service: str, payload: dict[str, Any], **fields: Any) -> Job:
    return Job(
        id=fields.pop("id", f"job-{uuid.uuid4().hex[:10]}"),
        service_required=service,
        payload=payload,
        **fields,
    )


@pytest.fixture
def blob_store(tmp_path: Path) -> BlobStore:
    return open_blob_store(None, data_dir=tmp_path, cdn_url=None)


@pytest.fixture
def progress() -> ProgressLog:
    return ProgressLog()


@pytest.fixture
async def comfy() -> AsyncIterator[tuple[ComfyUIReplay, str]]:
    replay = ComfyUIReplay()
    async with serve(replay.app) as url:
        yield replay, url
        await replay.aclose()


@pytest.fixture
async def ollama() -> AsyncIterator[tuple[OllamaServer, str]]:
    server = OllamaServer()
    async with serve(server.app) as url:
        yield server, url


@pytest.fixture
async def openai_api() -> AsyncIterator[tuple[OpenAIServer, str]]:
    server = OpenAIServer()
    async with serve(server.app) as url:
        yield server, f"{url}/v1"


@pytest.fixture
async def job_api() -> AsyncIterator[tuple[JobApiServer, str]]:
    server = JobApiServer()
    async with serve(server.app) as url:
        yield server, url
