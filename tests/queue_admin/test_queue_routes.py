"""The operator routes under /queue on a real broker: administrators only; counts, workers and
jobs by state as the broker holds them; cancel and retry as broker transitions, refused
clearly when they do not apply."""

from __future__ import annotations

import asyncio
import time

from emprops.core.settings import Settings
from emprops.queue.models import JobRequest
from tests.api.conftest import Api
from tests.api.generation_world import running_worker


async def _until(api: Api, admin: dict[str, str], check, timeout: float = 15) -> dict:  # type: ignore[no-untyped-def,type-arg]
    deadline = time.monotonic() + timeout
    while True:
        overview = (await api.client.get("/queue", headers=admin)).json()
        if check(overview):
            return overview  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, overview
        await asyncio.sleep(0.05)


async def test_only_administrators_see_the_queue(api: Api) -> None:
    user = await api.new_user("user")
    assert (await api.client.get("/queue")).status_code == 401
    for path in ("/queue", "/queue/workers", "/queue/jobs", "/queue/jobs/x"):
        response = await api.client.get(path, headers=user)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"
    refused = await api.client.post("/queue/jobs/x/cancel", headers=user)
    assert refused.status_code == 403


async def test_jobs_by_state_counts_and_workers(api: Api, api_settings: Settings) -> None:
    admin = await api.new_user("admin", admin=True)
    broker = api.state.broker
    low = await broker.submit(JobRequest(service_required="echo", priority=10))
    high = await broker.submit(JobRequest(service_required="echo", priority=90))
    other = await broker.submit(JobRequest(service_required="ollama"))
    overview = (await api.client.get("/queue", headers=admin)).json()
    assert overview["pending"] == {"echo": 2, "ollama": 1} and overview["pending_total"] == 3
    assert overview["workers"] == [] and sorted(overview["unworkable"]) == sorted(
        [low.id, high.id, other.id]
    )
    pending = (
        await api.client.get("/queue/jobs", params={"service": "echo"}, headers=admin)
    ).json()
    assert [j["id"] for j in pending] == [high.id, low.id]  # the next to run first
    listed = await api.client.get("/queue/jobs", params={"state": "nope"}, headers=admin)
    assert listed.status_code == 422

    failing = await broker.submit(
        JobRequest(service_required="echo", payload={"fail": "permanent"}, max_retries=0)
    )
    async with running_worker(api_settings):
        overview = await _until(
            api, admin, lambda o: o["dead"] == 1 and o["finished"].get("completed") == 2
        )
        [worker] = overview["workers"]
        assert worker["capabilities"]["services"] == ["echo"]
        assert overview["server_ms"] - worker["last_seen_ms"] < 5_000
        workers = (await api.client.get("/queue/workers", headers=admin)).json()
        assert [w["worker_id"] for w in workers] == [worker["worker_id"]]
    dead = (await api.client.get("/queue/jobs", params={"state": "dead"}, headers=admin)).json()
    assert [j["id"] for j in dead] == [failing.id] and dead[0]["status"] == "failed"
    finished = await api.client.get("/queue/jobs", params={"state": "finished"}, headers=admin)
    assert {j["id"] for j in finished.json()} == {low.id, high.id, failing.id}
    detail = (await api.client.get(f"/queue/jobs/{failing.id}", headers=admin)).json()
    assert detail["job"]["error"] == "echo asked to fail permanently"
    assert "job_failed" in [e["event"] for e in detail["events"]]


async def test_cancel_and_retry(api: Api, api_settings: Settings) -> None:
    admin = await api.new_user("admin", admin=True)
    broker = api.state.broker
    waiting = await broker.submit(JobRequest(service_required="ollama"))
    cancelled = await api.client.post(
        f"/queue/jobs/{waiting.id}/cancel", headers=admin, json={"reason": "not today"}
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["outcome"] == "cancelled" and body["previous_status"] == "pending"
    assert body["job"]["status"] == "cancelled" and body["job"]["error"] == "not today"
    again = (await api.client.post(f"/queue/jobs/{waiting.id}/cancel", headers=admin)).json()
    assert again["outcome"] == "finished" and again["previous_status"] == "cancelled"
    missing = await api.client.post("/queue/jobs/no-such-job/cancel", headers=admin)
    assert missing.status_code == 404
    bad_id = await api.client.post("/queue/jobs/bad%20id/retry", headers=admin)
    assert bad_id.status_code == 422
    too_long = await api.client.post(
        f"/queue/jobs/{waiting.id}/cancel", headers=admin, json={"reason": "x" * 501}
    )
    assert too_long.status_code == 422

    not_failed = await api.client.post(f"/queue/jobs/{waiting.id}/retry", headers=admin)
    assert (
        not_failed.status_code == 409
        and "only failed jobs" in not_failed.json()["error"]["message"]
    )
    failing = await broker.submit(
        JobRequest(service_required="echo", payload={"fail": "permanent"}, max_retries=0)
    )
    async with running_worker(api_settings):
        await _until(api, admin, lambda o: o["dead"] == 1)
    retried = await api.client.post(f"/queue/jobs/{failing.id}/retry", headers=admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["outcome"] == "retried" and retried.json()["job"]["status"] == "pending"
    overview = (await api.client.get("/queue", headers=admin)).json()
    assert overview["dead"] == 0 and overview["pending"]["echo"] == 1
