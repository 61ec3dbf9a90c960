"""The database and the queue agree, whatever crashes when.

The original raced its database against its queue. Here a run and its outbox message are written
in one transaction, and a dispatcher delivers the message afterwards; job ids are derived from
(run, generation, step). These tests stop the API at each point between the writes and check that
the run is delivered, run and charged exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select, update

from emprops.core.settings import Settings
from emprops.db.models import GenerationStepResult, JobRecord, OutboxMessage
from emprops.generations import GenerationDispatcher
from tests.api.conftest import Api
from tests.api.generation_world import (
    another_api,
    echo_document,
    grant,
    job_events,
    make_collection,
    register_workflow,
    running_worker,
    wait_for_job,
)
from tests.api.test_credits import ledger_matches_balance

FINISHED = {"completed", "failed", "cancelled"}


def dispatcher(api: Api) -> GenerationDispatcher:
    found: GenerationDispatcher = api.app.state.generation_dispatcher
    return found


async def funded(api: Api, cost: int = 1, amount: int = 100) -> dict[str, str]:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=cost)
    await grant(api, admin, alice, amount)
    return alice


async def outbox(api: Api, run_id: str) -> OutboxMessage:
    async with api.state.sessions() as session:
        message = await session.get(OutboxMessage, uuid.UUID(run_id))
    assert message is not None
    return message


def ran_once(events: dict[str, list[str]]) -> None:
    for job_id, names in events.items():
        assert names.count("job_submitted") == 1, (job_id, names)
        assert names.count("job_claimed") == 1, (job_id, names)
        assert names.count("complete_job") == 1, (job_id, names)


async def settled_once(api: Api, user: dict[str, str], charged: int) -> None:
    history = (await api.client.get("/credits/history?limit=500", headers=user)).json()
    settles = [e["reference"] for e in history if e["kind"] in ("charge", "release")]
    assert len(settles) == len(set(settles))
    assert -sum(e["held_delta"] for e in history if e["kind"] == "charge") == charged
    balance = await ledger_matches_balance(api, user)
    assert balance["held"] == 0


async def test_a_run_committed_but_never_delivered_is_delivered_once_by_the_next_api(
    api: Api, api_settings: Settings
) -> None:
    alice = await funded(api, cost=2)
    collection = await make_collection(api, alice, echo_document(3))
    await dispatcher(api).stop()  # the API dies right after committing the run + message
    response = await api.client.post(f"/collections/{collection}/generations", headers=alice)
    assert response.status_code == 202
    run_id = response.json()["job_id"]
    await asyncio.sleep(0.5)
    assert (await outbox(api, run_id)).dispatched_at is None
    assert all(names == [] for names in (await job_events(api, run_id, 3, 2)).values())

    async with another_api(api_settings) as restarted, running_worker(api_settings):
        job = await wait_for_job(restarted, alice, run_id, FINISHED)
    assert job["status"] == "completed" and job["credits_charged"] == 12
    ran_once(await job_events(api, run_id, 3, 2))
    message = await outbox(api, run_id)
    assert message.dispatched_at is not None and message.attempts == 1
    history = (await api.client.get(f"/jobs/{run_id}/history", headers=alice)).json()
    assert [h["status"] for h in history] == ["pending", "running", "completed"]
    await settled_once(api, alice, 12)


async def test_a_crash_after_submitting_but_before_marking_duplicates_nothing(
    api: Api, api_settings: Settings
) -> None:
    alice = await funded(api)
    collection = await make_collection(api, alice, echo_document(4))
    run_id = (
        await api.client.post(f"/collections/{collection}/generations", headers=alice)
    ).json()["job_id"]
    await wait_for_job(api, alice, run_id, {"running"})  # first steps are on the broker
    await dispatcher(api).stop()
    submitted = await job_events(api, run_id, 4, 2)
    assert all(submitted[f"{run_id}.g{g}.s1"] == ["job_submitted"] for g in range(4))
    # The mark never reached the database: the message and the run look undelivered.
    async with api.state.sessions() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == uuid.UUID(run_id))
            .values(dispatched_at=None, attempts=0)
        )
        await session.execute(
            update(JobRecord)
            .where(JobRecord.id == uuid.UUID(run_id))
            .values(status="pending", started_at=None)
        )
        await session.commit()

    async with another_api(api_settings) as restarted, running_worker(api_settings):
        job = await wait_for_job(restarted, alice, run_id, FINISHED)
    assert job["status"] == "completed" and job["completed_generations"] == 4
    ran_once(await job_events(api, run_id, 4, 2))
    assert (await outbox(api, run_id)).dispatched_at is not None
    await settled_once(api, alice, 8)


async def test_an_unfinished_run_resumes_after_a_restart_without_redoing_steps(
    api: Api, api_settings: Settings
) -> None:
    alice = await funded(api, cost=3)
    collection = await make_collection(api, alice, echo_document(6, delay_s=0.25))
    run_id = (
        await api.client.post(f"/collections/{collection}/generations", headers=alice)
    ).json()["job_id"]
    async with running_worker(api_settings, concurrency=2):
        for _ in range(400):
            job: dict[str, Any] = (await api.client.get(f"/jobs/{run_id}", headers=alice)).json()
            if job["completed_generations"] >= 1:
                break
            await asyncio.sleep(0.05)
        await dispatcher(api).stop()  # the API goes away mid-run; the worker keeps working
        assert job["status"] == "running" and job["completed_generations"] < 6, job
        await asyncio.sleep(0.5)
        async with another_api(api_settings) as restarted:
            job = await wait_for_job(restarted, alice, run_id, FINISHED)
    assert job["status"] == "completed" and job["completed_generations"] == 6, job
    assert job["credits_charged"] == 36
    ran_once(await job_events(api, run_id, 6, 2))
    async with api.state.sessions() as session:
        results = (
            await session.execute(
                select(GenerationStepResult).where(GenerationStepResult.run_id == uuid.UUID(run_id))
            )
        ).scalars()
        assert len(list(results)) == 12
    await settled_once(api, alice, 36)


async def test_a_run_cancelled_before_delivery_never_reaches_the_queue(
    api: Api, api_settings: Settings
) -> None:
    alice = await funded(api, amount=10)
    collection = await make_collection(api, alice, echo_document(2))
    await dispatcher(api).stop()
    run_id = (
        await api.client.post(f"/collections/{collection}/generations", headers=alice)
    ).json()["job_id"]
    cancelled = (await api.client.delete(f"/jobs/{run_id}", headers=alice)).json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_generations"] == 2
    async with another_api(api_settings) as restarted:
        for _ in range(100):
            if (await outbox(restarted, run_id)).dispatched_at is not None:
                break
            await asyncio.sleep(0.05)
    assert (await outbox(api, run_id)).dispatched_at is not None
    assert all(names == [] for names in (await job_events(api, run_id, 2, 2)).values())
    assert (await ledger_matches_balance(api, alice))["available"] == 10


async def test_two_api_processes_run_each_run_once(api: Api, api_settings: Settings) -> None:
    alice = await funded(api)
    collection = await make_collection(api, alice, echo_document(2, delay_s=0.05))
    async with another_api(api_settings) as sibling, running_worker(api_settings):
        run_ids = [
            (
                await client.client.post(f"/collections/{collection}/generations", headers=alice)
            ).json()["job_id"]
            for client in (api, sibling, api, sibling)
        ]
        for run_id in run_ids:
            assert (await wait_for_job(api, alice, run_id, FINISHED))["status"] == "completed"
    for run_id in run_ids:
        ran_once(await job_events(api, run_id, 2, 2))
        history = (await api.client.get(f"/jobs/{run_id}/history", headers=alice)).json()
        assert [h["status"] for h in history].count("running") == 1
    await settled_once(api, alice, 16)
