"""What the generation tests share: collections and workflows written straight to the database
(the collections API is another domain's), credits granted through the API, a real worker
process loop on the test's queue, and the API served on a real socket for SSE and WebSocket."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from emprops.api.app import create_app
from emprops.core.redis_connection import RedisEndpoint
from emprops.core.settings import Settings
from emprops.db.models import CollectionRecord, Component, Project, WorkflowRecord
from emprops.queue.broker import BrokerConfig
from emprops.queue.models import WorkerCapabilities
from emprops.worker.connector import Connector
from emprops.worker.connectors import BUILTIN_CONNECTORS
from emprops.worker.connectors.echo import EchoConnector
from emprops.worker.runtime import WorkerOptions, WorkerRuntime
from emprops.workflows.engine import GeneratorV2
from tests.api.conftest import Api
from tests.conftest import REDIS_URL

ECHO_WORKFLOW = "echo-job"


def echo_document(
    generations: int = 2,
    *,
    steps: int = 2,
    delay_s: float = 0.0,
    progress_steps: int = 0,
    payload: dict[str, Any] | None = None,
    hashes: list[str] | None = None,
) -> dict[str, Any]:
    """A GenerationInput of `steps` echo steps, each step after the first referring to the one
    before it; every step picks a color from the variables step."""
    step_list = []
    for i in range(1, steps + 1):
        node_payload: dict[str, Any] = {
            "color": {"$ref": 953, "path": ".data.color"},
            "delay_s": delay_s,
            "steps": progress_steps,
            **(payload or {}),
        }
        if i > 1:
            node_payload["previous"] = {"$ref": i - 1, "path": ".echo.color"}
        step_list.append({"id": i, "nodeName": ECHO_WORKFLOW, "nodePayload": node_payload})
    return {
        "version": "v2",
        "steps": step_list,
        "generations": {
            "hashes": hashes or [],
            "generations": len(hashes) if hashes else generations,
            "use_custom_hashes": hashes is not None,
        },
        "variables": [
            {"name": "color", "type": "pick", "value_type": "strings",
             "value": {"display_names": ["Red", "Blue"], "values": ["red", "blue"],
                       "weights": [1, 1]}},
        ],
    }  # fmt: skip


# The fields the echo documents set: a step may set only what its component declares.
ECHO_FIELDS = ("color", "delay_s", "steps", "previous", "fail")


async def register_workflow(
    api: Api, name: str = ECHO_WORKFLOW, *, service: str = "echo", credit_cost: int = 1
) -> None:
    async with api.state.sessions() as session:
        session.add(
            WorkflowRecord(
                id=uuid.uuid4(), name=name, type="direct_job", service=service,
                data={"service_required": service, "payload": {},
                      "inputs": {f: f for f in ECHO_FIELDS}},
                credit_cost=credit_cost,
            )
        )  # fmt: skip
        await session.commit()


async def make_collection(
    api: Api, headers: dict[str, str], document: dict[str, Any], *, components: bool = False
) -> uuid.UUID:
    """A collection of the user in `headers`, with `document` as its GenerationInput."""
    user_id = uuid.UUID(headers["X-User-Id"])
    async with api.state.sessions() as session:
        project = Project(id=uuid.uuid4(), user_id=user_id, name="p")
        session.add(project)
        await session.flush()
        collection = CollectionRecord(
            id=uuid.uuid4(), project_id=project.id, user_id=user_id, title="c", data=document
        )
        session.add(collection)
        await session.flush()
        if components:
            for step in document["steps"]:
                session.add(
                    Component(
                        id=uuid.uuid4(), collection_id=collection.id, step_id=step["id"],
                        node_name=step["nodeName"],
                    )
                )  # fmt: skip
        await session.commit()
        return collection.id


async def grant(api: Api, admin: dict[str, str], user: dict[str, str], amount: int) -> None:
    response = await api.client.post(
        "/credits/grant",
        json={"user_id": user["X-User-Id"], "amount": amount},
        headers=admin,
    )
    assert response.status_code == 201, response.text


async def wait_for_job(
    api: Api, headers: dict[str, str], job_id: str, statuses: set[str], timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await api.client.get(f"/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s: {job}")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def running_worker(
    settings: Settings, connectors: dict[str, Connector] | None = None, concurrency: int = 4
) -> AsyncIterator[WorkerRuntime]:
    """A real worker on the API's queue (echo by default)."""
    connectors = connectors or {"echo": EchoConnector()}
    runtime = WorkerRuntime(
        RedisEndpoint(url=REDIS_URL),
        BrokerConfig.from_settings(settings, known_services=BUILTIN_CONNECTORS),
        WorkerCapabilities(worker_id=f"w-{uuid.uuid4().hex[:8]}", services=sorted(connectors)),
        connectors,
        WorkerOptions(concurrency=concurrency, heartbeat_s=0.5, idle_wait_s=1),
    )
    task = asyncio.create_task(runtime.run())
    try:
        yield runtime
    finally:
        runtime.request_stop()
        await asyncio.wait_for(task, 15)


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The (already started) app on a real socket; yields its host:port."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def another_api(settings: Settings) -> AsyncIterator[Api]:
    """A second API process on the same database and Redis (a restart, or a sibling)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(app=app, client=client)


async def job_events(api: Api, run_id: str, generations: int, steps: int) -> dict[str, list[str]]:
    """Every broker job of the run: the names of its events, by job id."""
    found = {}
    for g in range(generations):
        for step in range(1, steps + 1):
            job_id = GeneratorV2.job_id(run_id, g, step)
            found[job_id] = [e.event for e in await api.state.broker.read_events(job_id)]
    return found
