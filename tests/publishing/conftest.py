"""A collection that really renders: the demo's layered art (tiny), a real render connector and a
real publish connector on the test's queue, the API in process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from emprops.core.settings import Settings
from emprops.demo.art import collection_document, ensure_layers
from emprops.publishing.connector import PublishConnector
from emprops.storage import open_blob_store
from emprops.worker.connectors.render import RenderConnector
from emprops.worker.runtime import WorkerRuntime
from tests.api import conftest as api_fixtures
from tests.api.conftest import Api
from tests.api.generation_world import grant, running_worker, wait_for_job

TOKENS = 6
api = api_fixtures.api  # the API fixtures, for these tests too
api_settings = api_fixtures.api_settings


@asynccontextmanager
async def publishing_workers(settings: Settings, assets: Path) -> AsyncIterator[WorkerRuntime]:
    store = open_blob_store(None, data_dir=settings.data_dir, cdn_url=None)
    connectors = {
        "render": RenderConnector({"assets_root": str(assets), "processes": 1}, store=store),
        "publish": PublishConnector(store=store, settings=settings),
    }
    async with running_worker(settings, connectors, concurrency=2) as runtime:  # type: ignore[arg-type]
        yield runtime


async def generated_collection(
    api: Api, user: dict[str, str], assets: Path, tokens: int = TOKENS
) -> tuple[str, str]:
    """A collection of `tokens` rendered faces, generated to the end: (collection id, run id)."""
    ensure_layers(assets, tokens, size=32)
    admin = await api.new_user("admin", admin=True)
    await grant(api, admin, user, 1_000)
    project = await api.client.post("/projects", headers=user, json={"name": "p"})
    assert project.status_code == 201, project.text
    created = await api.client.post(
        f"/projects/{project.json()['id']}/collections",
        headers=user,
        json={
            "title": "Faces",
            "source": "custom",
            "data": collection_document(tokens, "layers.json"),
        },
    )
    assert created.status_code == 201, created.text
    collection_id: str = created.json()["id"]
    started = await api.client.post(f"/collections/{collection_id}/generations", headers=user)
    assert started.status_code == 202, started.text
    run_id: str = started.json()["job_id"]
    run = await wait_for_job(api, user, run_id, {"completed", "failed"}, timeout=120)
    assert run["status"] == "completed", run
    return collection_id, run_id


async def follow(
    api: Api, user: dict[str, str], collection_id: str, op_id: str, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = await api.client.get(f"/collections/{collection_id}/publishing", headers=user)
        assert status.status_code == 200, status.text
        op: dict[str, Any] = next(o for o in status.json()["operations"] if o["id"] == op_id)
        if op["status"] in ("completed", "failed"):
            return op
        assert time.monotonic() < deadline, f"operation {op_id} still {op['status']}"
        await asyncio.sleep(0.1)
