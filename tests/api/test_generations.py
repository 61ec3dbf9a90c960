"""Generation runs end to end with a real worker: credits held, then charged per finished
generation and released for failed or cancelled ones; outputs recorded; bad runs refused;
every route scoped to its owner."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from emprops.core.settings import Settings
from emprops.db.models import ComponentFlatFile, FlatFile, GenerationStepResult
from emprops.generations.events import RunEventLog
from emprops.queue.models import Job
from emprops.worker.connector import Connector, ProgressReporter
from emprops.workflows import Variable, random_hash, resolve_variables
from tests.api.conftest import Api
from tests.api.generation_world import (
    echo_document,
    grant,
    make_collection,
    register_workflow,
    running_worker,
    wait_for_job,
)
from tests.api.test_credits import ledger_matches_balance

FINISHED = {"completed", "failed", "cancelled"}


class ImageConnector(Connector):
    """Stands for a renderer: returns where it stored an image, as real connectors do."""

    service = "image-test"

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        assert job.ctx is not None
        return {"src": f"file:///blobs/{job.ctx['output_path']}.png", "mimeType": "image/png"}


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    return api_settings.model_copy(update={"extra_services": ["image-test"]})


async def start(api: Api, user: dict[str, str], collection: uuid.UUID, **body: Any) -> str:
    response = await api.client.post(
        f"/collections/{collection}/generations", headers=user, json=body or None
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


async def test_a_run_charges_every_finished_generation(api: Api, api_settings: Settings) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=2)
    await grant(api, admin, alice, 20)
    collection = await make_collection(api, alice, echo_document(3))
    job_id = await start(api, alice, collection)
    accepted = (await api.client.get(f"/jobs/{job_id}", headers=alice)).json()
    assert accepted["credits_held"] == 12 and accepted["generations"] == 3
    async with running_worker(api_settings):
        job = await wait_for_job(api, alice, job_id, FINISHED)
    assert job["status"] == "completed" and job["progress"] == 100, job
    assert job["completed_generations"] == 3 and job["failed_generations"] == 0
    assert job["credits_held"] == 0 and job["credits_charged"] == 12
    balance = await ledger_matches_balance(api, alice)
    assert balance == {"permanent": 8, "rental": 0, "held": 0, "available": 8}
    ledger = (await api.client.get("/credits/history", headers=alice)).json()
    assert sorted(e["kind"] for e in ledger) == ["charge", "charge", "charge", "grant", "hold"]
    history = (await api.client.get(f"/jobs/{job_id}/history", headers=alice)).json()
    assert [h["status"] for h in history] == ["pending", "running", "completed"]
    async with api.state.sessions() as session:
        results = (await session.execute(select(GenerationStepResult))).scalars().all()
    assert len(results) == 6 and all(r.output is not None for r in results)
    events = await RunEventLog(api.state.redis).read(uuid.UUID(job_id), count=1000)
    for result in results:  # step 2 got step 1's output through its $ref
        if result.step_id == 2:
            first = next(r for r in results if (r.generation, r.step_id) == (result.generation, 1))
            assert result.output is not None and first.output is not None
            assert result.output["echo"]["previous"] == first.output["echo"]["color"]
    hashes = [e.data["hash"] for e in events if e.type == "complete"]
    assert len(set(hashes)) == 3 and events[-1].type == "run_completed"


async def test_rental_credits_are_spent_before_permanent_ones(
    api: Api, api_settings: Settings
) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=3)
    await grant(api, admin, alice, 10)
    rental = {"user_id": alice["X-User-Id"], "amount": 4, "kind": "rental"}
    assert (await api.client.post("/credits/grant", headers=admin, json=rental)).status_code == 201
    collection = await make_collection(api, alice, echo_document(2, steps=1))
    job_id = await start(api, alice, collection)
    async with running_worker(api_settings):
        job = await wait_for_job(api, alice, job_id, FINISHED)
    assert job["status"] == "completed" and job["credits_charged"] == 6
    balance = await ledger_matches_balance(api, alice)
    assert balance == {"permanent": 8, "rental": 0, "held": 0, "available": 8}


async def test_failed_generations_are_released_and_finished_ones_charged(
    api: Api, api_settings: Settings
) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=5)
    await grant(api, admin, alice, 100)
    variables = [{"name": "mode", "type": "pick", "value_type": "strings",
                  "value": {"display_names": ["Good", "Bad"], "values": ["good", "bad"]}}]  # fmt: skip
    good: list[str] = []
    bad: list[str] = []
    while len(good) < 2 or len(bad) < 2:
        hash_ = random_hash()
        picked = resolve_variables(_variables(variables), hash_)
        (good if picked["mode"] == "good" else bad).append(hash_)
    document = echo_document(
        steps=1,
        hashes=good[:2] + bad[:2],
        payload={
            "fail": {"$ref": 953, "path": 'if .data.mode == "bad" then "permanent" else null end'}
        },
    )
    document["variables"] = variables
    collection = await make_collection(api, alice, document)
    job_id = await start(api, alice, collection)
    async with running_worker(api_settings):
        job = await wait_for_job(api, alice, job_id, FINISHED)
    assert job["status"] == "failed" and "2 of 4 generations failed" in job["error"], job
    assert job["completed_generations"] == 2 and job["failed_generations"] == 2
    assert job["credits_charged"] == 10 and job["credits_held"] == 0
    balance = await ledger_matches_balance(api, alice)
    assert balance == {"permanent": 90, "rental": 0, "held": 0, "available": 90}
    kinds = sorted(
        e["kind"] for e in (await api.client.get("/credits/history", headers=alice)).json()
    )
    assert kinds == ["charge", "charge", "grant", "hold", "release", "release"]
    history = (await api.client.get(f"/jobs/{job_id}/history", headers=alice)).json()
    assert [h["status"] for h in history].count("generation_failed") == 2


def _variables(documents: list[dict[str, Any]]) -> list[Variable]:
    return [Variable.model_validate(d) for d in documents]


async def test_cancel_releases_what_unfinished_generations_hold(
    api: Api, api_settings: Settings
) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=1)
    await grant(api, admin, alice, 50)
    collection = await make_collection(api, alice, echo_document(8, steps=1, delay_s=0.4))
    job_id = await start(api, alice, collection)
    async with running_worker(api_settings, concurrency=2):
        for _ in range(300):
            job = (await api.client.get(f"/jobs/{job_id}", headers=alice)).json()
            if job["completed_generations"] >= 1:
                break
            await asyncio.sleep(0.05)
        cancelled = await api.client.delete(f"/jobs/{job_id}", headers=alice)
        assert cancelled.status_code == 200, cancelled.text
        job = cancelled.json()
        assert job["status"] == "cancelled" and job["credits_held"] == 0
        finished = job["completed_generations"]
        assert 1 <= finished < 8
        assert finished + job["cancelled_generations"] == 8
        await asyncio.sleep(1.0)  # the runner sees its jobs cancelled and stops
        stats = await api.state.broker.stats()
        assert stats.pending_total == 0 and stats.active == 0
        again = (await api.client.delete(f"/jobs/{job_id}", headers=alice)).json()
    assert again["status"] == "cancelled" and again["credits_charged"] == finished
    assert again["completed_generations"] == finished
    balance = await ledger_matches_balance(api, alice)
    assert balance == {
        "permanent": 50 - finished,
        "rental": 0,
        "held": 0,
        "available": 50 - finished,
    }
    events = await RunEventLog(api.state.redis).read(uuid.UUID(job_id), count=1000)
    assert [e.type for e in events].count("run_cancelled") == 1
    assert not any(e.type in ("run_completed", "run_failed") for e in events)


async def test_stored_outputs_become_flat_files_with_their_inputs(
    api: Api, api_settings: Settings
) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, "render-test", service="image-test")
    await grant(api, admin, alice, 10)
    document = echo_document(2, steps=1)
    document["steps"][0]["nodeName"] = "render-test"
    collection = await make_collection(api, alice, document, components=True)
    job_id = await start(api, alice, collection)
    async with running_worker(api_settings, {"image-test": ImageConnector()}):
        job = await wait_for_job(api, alice, job_id, FINISHED)
    assert job["status"] == "completed", job
    async with api.state.sessions() as session:
        files = (await session.execute(select(FlatFile))).scalars().all()
        links = (await session.execute(select(ComponentFlatFile))).scalars().all()
    assert len(files) == 2 and len(links) == 2
    for flat_file in files:
        assert flat_file.user_id == uuid.UUID(alice["X-User-Id"])
        assert flat_file.mime_type == "image/png" and flat_file.gen_in_data is not None
        generation = flat_file.gen_in_data["generation"]
        assert (
            flat_file.path
            == f"generations/{alice['X-User-Id']}/{job_id}/{generation}/1/render-test.png"
        )
        assert flat_file.gen_in_data["payload"]["color"] in ("red", "blue")
        assert flat_file.gen_out_data == {"src": flat_file.url, "mimeType": "image/png"}
    events = await RunEventLog(api.state.redis).read(uuid.UUID(job_id), count=1000)
    assert [e.type for e in events].count("image_generated") == 2


async def test_custom_hashes_and_a_generation_count_shape_the_run(
    api: Api, api_settings: Settings
) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api)
    await grant(api, admin, alice, 10)
    collection = await make_collection(api, alice, echo_document(5, steps=1))
    hashes = [random_hash() for _ in range(2)]
    custom = await start(api, alice, collection, hashes=hashes, priority=90)
    counted = await start(api, alice, collection, generations=3)
    async with running_worker(api_settings):
        for job_id in (custom, counted):
            assert (await wait_for_job(api, alice, job_id, FINISHED))["status"] == "completed"
    events = await RunEventLog(api.state.redis).read(uuid.UUID(custom), count=1000)
    assert sorted(e.data["hash"] for e in events if e.type == "complete") == sorted(hashes)
    job = (await api.client.get(f"/jobs/{counted}", headers=alice)).json()
    assert job["generations"] == 3 and job["credits_charged"] == 3
    assert (await ledger_matches_balance(api, alice))["available"] == 5


async def test_runs_that_cannot_run_are_refused_before_anything_is_held(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api)
    await register_workflow(api, "nowhere", service="no-such-service")
    await grant(api, admin, alice, 100)
    broken = echo_document(1)
    broken["steps"][1]["nodePayload"]["previous"] = {"$ref": 7, "path": ".echo"}
    unrunnable = echo_document(1, steps=1)
    unrunnable["steps"][0]["nodeName"] = "nowhere"
    pinned = echo_document(steps=1, hashes=[random_hash()])
    cases: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = [
        (broken, None, "steps[1].nodePayload.previous"),
        (unrunnable, None, "no-such-service"),
        (pinned, {"generations": 3}, "custom hashes"),
        (echo_document(1), {"hashes": ["bad hash!"]}, "hashes"),
        (echo_document(1), {"generations": 0}, "generations"),
        (echo_document(1), {"priority": 5000}, "priority"),
        (echo_document(1), {"surprise": 1}, "surprise"),
    ]
    for document, body, where in cases:
        collection = await make_collection(api, alice, document)
        response = await api.client.post(
            f"/collections/{collection}/generations", headers=alice, json=body
        )
        assert response.status_code == 422, (where, response.text)
        assert where in response.text, (where, response.text)
    missing = await api.client.post(f"/collections/{uuid.uuid4()}/generations", headers=alice)
    assert missing.status_code == 404
    assert (await ledger_matches_balance(api, alice))["held"] == 0


async def test_no_user_sees_or_touches_another_users_runs(api: Api) -> None:
    admin = await api.new_user("admin", admin=True)
    alice, bob = await api.new_user("alice"), await api.new_user("bob")
    await register_workflow(api)
    await grant(api, admin, alice, 10)
    await grant(api, admin, bob, 10)
    collection = await make_collection(api, alice, echo_document(1, steps=1))
    job_id = await start(api, alice, collection)
    for method, path in [
        ("POST", f"/collections/{collection}/generations"),
        ("GET", f"/jobs/{job_id}"),
        ("GET", f"/jobs/{job_id}/history"),
        ("GET", f"/jobs/{job_id}/events"),
        ("DELETE", f"/jobs/{job_id}"),
    ]:
        response = await api.client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        assert (await api.client.request(method, path)).status_code == 401
    assert (await api.client.get(f"/jobs/{uuid.uuid4()}", headers=alice)).status_code == 404
    assert (await api.client.get("/credits/history", headers=bob)).json()[0]["kind"] == "grant"
    assert len((await api.client.get("/credits/history", headers=bob)).json()) == 1
    job = (await api.client.get(f"/jobs/{job_id}", headers=alice)).json()
    assert job["status"] in ("pending", "running")  # bob's DELETE did nothing
    assert (await ledger_matches_balance(api, bob))["available"] == 10
