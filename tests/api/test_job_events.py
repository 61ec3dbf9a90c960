"""Following runs: SSE with Last-Event-ID replay (a client that drops and reconnects misses
nothing and sees nothing twice), and the WebSocket speaking the original clients' messages.
Both over a real socket (uvicorn), since a streamed response needs one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from emprops.core.settings import Settings
from tests.api.conftest import Api
from tests.api.generation_world import (
    echo_document,
    grant,
    make_collection,
    register_workflow,
    running_worker,
    served,
    wait_for_job,
)
from tests.api.test_credits import ledger_matches_balance

FINISHED = {"completed", "failed", "cancelled"}


@dataclass
class Sse:
    id: str
    event: str
    data: dict[str, Any]


async def sse_events(response: httpx.Response) -> AsyncIterator[Sse]:
    """The events of a text/event-stream response, as they arrive."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields:
                yield Sse(fields.get("id", ""), fields.get("event", "message"),
                          orjson.loads(fields["data"]))  # fmt: skip
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def read_sse(
    base: str,
    headers: dict[str, str],
    job_id: str,
    *,
    limit: int | None = None,
    last_event_id: str | None = None,
    after: str | None = None,
) -> list[Sse]:
    """Events until the stream ends, or the first `limit` of them (then hang up)."""
    got: list[Sse] = []
    async with (
        httpx.AsyncClient(base_url=f"http://{base}", timeout=30) as client,
        client.stream(
            "GET",
            f"/jobs/{job_id}/events",
            headers={**headers, **({"Last-Event-ID": last_event_id} if last_event_id else {})},
            params={"after": after} if after else None,
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in sse_events(response):
            got.append(event)
            if limit is not None and len(got) == limit:
                break
    return got


@pytest.fixture
async def base(api: Api) -> AsyncIterator[str]:
    async with served(api.app) as address:
        yield address


async def funded_collection(api: Api, document: dict[str, Any]) -> tuple[dict[str, str], uuid.UUID]:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api)
    await grant(api, admin, alice, 100)
    return alice, await make_collection(api, alice, document)


async def test_a_client_that_reconnects_with_last_event_id_misses_nothing(
    api: Api, api_settings: Settings, base: str
) -> None:
    alice, collection = await funded_collection(
        api, echo_document(3, delay_s=0.2, progress_steps=2)
    )
    started = await api.client.post(f"/collections/{collection}/generations", headers=alice)
    job_id = started.json()["job_id"]
    async with running_worker(api_settings, concurrency=2):
        first = await read_sse(base, alice, job_id, limit=4)  # then the client drops
        await wait_for_job(api, alice, job_id, FINISHED)
    rest = await read_sse(base, alice, job_id, last_event_id=first[-1].id)
    everything = await read_sse(base, alice, job_id)
    assert [e.id for e in first + rest] == [e.id for e in everything]
    assert len({e.id for e in everything}) == len(everything)
    kinds = [e.event for e in everything]
    assert kinds[0] == "run_started" and kinds[-1] == "run_completed"
    assert kinds.count("complete") == 3 and kinds.count("node_completed") == 6
    assert "node_progress" in kinds and "node_started" in kinds
    assert all(e.data["run_id"] == job_id and e.data["type"] == e.event for e in everything)
    progress = [e.data["data"]["progress"] for e in everything if "progress" in e.data["data"]]
    assert progress == sorted(progress) and progress[-1] == 100
    after = await read_sse(base, alice, job_id, after=rest[2].id)  # ?after= works the same
    assert [e.id for e in after] == [e.id for e in rest[3:]]


async def test_sse_refuses_a_malformed_resume_point_and_other_users(api: Api, base: str) -> None:
    alice, collection = await funded_collection(api, echo_document(1, steps=1))
    bob = await api.new_user("bob")
    job_id = (
        await api.client.post(f"/collections/{collection}/generations", headers=alice)
    ).json()["job_id"]
    async with httpx.AsyncClient(base_url=f"http://{base}") as client:
        bad = await client.get(
            f"/jobs/{job_id}/events", headers={**alice, "Last-Event-ID": "yesterday"}
        )
        assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["error"]["message"]
        other = await client.get(f"/jobs/{job_id}/events", headers=bob)
        assert other.status_code == 404


async def receive(ws: ClientConnection, timeout: float = 20) -> dict[str, Any]:
    message: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def until(ws: ClientConnection, kinds: set[str]) -> list[dict[str, Any]]:
    """Messages up to and including the first whose type is in `kinds`."""
    got = []
    while True:
        got.append(await receive(ws))
        if got[-1]["type"] in kinds:
            return got


async def test_websocket_submits_follows_and_resumes_a_run(
    api: Api, api_settings: Settings, base: str
) -> None:
    alice, collection = await funded_collection(api, echo_document(2, progress_steps=2))
    token = alice["X-API-Key"]
    async with (
        running_worker(api_settings),
        websockets.connect(f"ws://{base}/ws?token={token}") as ws,
    ):
        await ws.send(orjson.dumps({"type": "submit_job", "collection_id": str(collection),
                                    "message_id": "m-1"}).decode())  # fmt: skip
        accepted = await receive(ws)
        assert accepted["type"] == "job_accepted" and accepted["message_id"] == "m-1"
        assert accepted["generations"] == 2 and accepted["credits_held"] == 4
        job_id = accepted["job_id"]
        messages = await until(ws, {"complete_job", "job_failed", "error"})
    assert messages[-1]["type"] == "complete_job", messages[-1]
    assert messages[-1]["result"]["status"] == "success"
    assert messages[-1]["result"]["credits_charged"] == 4
    updates = messages[:-1]
    assert {m["type"] for m in updates} == {"update_job_progress"}
    assert all(m["job_id"] == job_id for m in messages)
    progress = [m["progress"] for m in updates]
    assert progress == sorted(progress)
    assert [m["event"] for m in updates].count("complete") == 2

    # A second socket authenticates by its first message and resumes after an event it saw.
    resume_from = updates[3]["event_id"]
    async with websockets.connect(f"ws://{base}/ws") as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        await ws.send(orjson.dumps({"type": "subscribe", "job_id": job_id,
                                    "after": resume_from}).decode())  # fmt: skip
        replay = await until(ws, {"complete_job", "error"})
    assert [m["event_id"] for m in replay] == [m["event_id"] for m in messages[4:]]


async def test_websocket_reports_failures_and_cancels(
    api: Api, api_settings: Settings, base: str
) -> None:
    alice, failing = await funded_collection(
        api, echo_document(2, steps=1, payload={"fail": "permanent"})
    )
    slow = await make_collection(api, alice, echo_document(6, steps=1, delay_s=0.5))
    async with (
        running_worker(api_settings, concurrency=1),
        websockets.connect(f"ws://{base}/ws?token={alice['X-API-Key']}") as ws,
    ):
        await ws.send(orjson.dumps({"type": "submit_job", "collection_id": str(failing)}).decode())
        assert (await receive(ws))["type"] == "job_accepted"
        messages = await until(ws, {"complete_job"})
        failures = [m for m in messages if m["type"] == "job_failed"]
        assert len(failures) == 2 and all("permanently" in m["error"] for m in failures)
        assert messages[-1]["result"]["status"] == "failed"

        await ws.send(orjson.dumps({"type": "submit_job", "collection_id": str(slow)}).decode())
        job_id = (await receive(ws))["job_id"]
        await until(ws, {"update_job_progress"})
        await ws.send(orjson.dumps({"type": "cancel_job", "job_id": job_id}).decode())
        cancelled = await until(ws, {"job_cancelled", "complete_job", "error"})
        assert cancelled[-1]["type"] == "job_cancelled", cancelled[-1]
        again = {"type": "cancel_job", "job_id": job_id, "message_id": "again"}
        await ws.send(orjson.dumps(again).decode())
        refused = await until(ws, {"error"})
        assert refused[-1]["error"]["code"] == "conflict" and refused[-1]["message_id"] == "again"
    job = (await api.client.get(f"/jobs/{job_id}", headers=alice)).json()
    assert job["status"] == "cancelled" and job["credits_held"] == 0
    assert (await ledger_matches_balance(api, alice))["held"] == 0


async def test_websocket_refuses_bad_credentials_and_bad_messages(api: Api, base: str) -> None:
    alice, collection = await funded_collection(api, echo_document(1, steps=1))
    bob = await api.new_user("bob")
    poor = await make_collection(api, bob, echo_document(1, steps=1))
    async with websockets.connect(f"ws://{base}/ws?token=emp_nope_nope") as ws:
        error = await receive(ws)
        assert error["type"] == "error" and error["error"]["code"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await receive(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with websockets.connect(f"ws://{base}/ws") as ws:
        await ws.send(orjson.dumps({"type": "subscribe", "job_id": str(uuid.uuid4())}).decode())
        assert (await receive(ws))["error"]["code"] == "unauthorized"
    job_id = (
        await api.client.post(f"/collections/{collection}/generations", headers=alice)
    ).json()["job_id"]
    async with websockets.connect(f"ws://{base}/ws?token={bob['X-API-Key']}") as ws:
        for message, code in [
            ({"type": "subscribe", "job_id": job_id}, "not_found"),
            ({"type": "cancel_job", "job_id": job_id}, "not_found"),
            ({"type": "submit_job", "collection_id": str(collection)}, "not_found"),
            ({"type": "submit_job", "collection_id": str(poor)}, "payment_required"),
            ({"type": "launch_rockets"}, "invalid_input"),
            ({"type": "subscribe", "job_id": job_id, "after": "nope"}, "invalid_input"),
        ]:
            await ws.send(orjson.dumps(message).decode())
            reply = await receive(ws)
            assert reply["type"] == "error" and reply["error"]["code"] == code, (message, reply)
        await ws.send("not json")
        assert (await receive(ws))["error"]["code"] == "invalid_input"
    status = (await api.client.get(f"/jobs/{job_id}", headers=alice)).json()["status"]
    assert status in ("pending", "running")
