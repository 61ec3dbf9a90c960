"""Credits: balances and ledger, estimates, grants, holds that never overdraw under concurrency,
and settlement that never charges twice."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select

from emprops.credits.repository import CreditRepository
from emprops.credits.service import CreditService, settle_reference
from emprops.db.models import CreditBalance, CreditLedgerEntry, JobRecord, OutboxMessage
from tests.api.conftest import Api
from tests.api.generation_world import echo_document, grant, make_collection, register_workflow


async def ledger_matches_balance(api: Api, user: dict[str, str]) -> dict[str, int]:
    """The balance is the sum of the ledger, field by field; returns the balance."""
    user_id = uuid.UUID(user["X-User-Id"])
    async with api.state.sessions() as session:
        sums = (
            await session.execute(
                select(
                    func.coalesce(func.sum(CreditLedgerEntry.permanent_delta), 0),
                    func.coalesce(func.sum(CreditLedgerEntry.rental_delta), 0),
                    func.coalesce(func.sum(CreditLedgerEntry.held_delta), 0),
                ).where(CreditLedgerEntry.user_id == user_id)
            )
        ).one()
    balance: dict[str, int] = (await api.client.get("/credits", headers=user)).json()
    assert (balance["permanent"], balance["rental"], balance["held"]) == tuple(sums)
    assert balance["available"] == balance["permanent"] + balance["rental"] - balance["held"]
    assert min(balance.values()) >= 0
    return balance


async def test_grants_build_the_balance_and_the_ledger_explains_it(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    empty = (await api.client.get("/credits", headers=alice)).json()
    assert empty == {"permanent": 0, "rental": 0, "held": 0, "available": 0}
    await grant(api, admin, alice, 30)
    rental = await api.client.post(
        "/credits/grant", headers=admin,
        json={"user_id": alice["X-User-Id"], "amount": 5, "kind": "rental"},
    )  # fmt: skip
    assert rental.status_code == 201
    assert rental.json()["balance"] == {"permanent": 30, "rental": 5, "held": 0, "available": 35}
    history = (await api.client.get("/credits/history", headers=alice)).json()
    assert [(e["kind"], e["permanent_delta"], e["rental_delta"]) for e in history] == [
        ("grant", 0, 5),
        ("grant", 30, 0),
    ]
    assert (await ledger_matches_balance(api, alice))["available"] == 35


async def test_a_grant_with_a_reference_is_applied_once(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    body = {"user_id": alice["X-User-Id"], "amount": 7, "reference": "promo-2026"}
    first, again = await asyncio.gather(
        api.client.post("/credits/grant", headers=admin, json=body),
        api.client.post("/credits/grant", headers=admin, json=body),
    )
    assert {first.status_code, again.status_code} == {201}
    assert sorted([first.json()["created"], again.json()["created"]]) == [False, True]
    assert first.json()["entry"]["id"] == again.json()["entry"]["id"]
    other = await api.client.post("/credits/grant", headers=admin, json={**body, "amount": 8})
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
    assert (await ledger_matches_balance(api, alice))["permanent"] == 7


async def test_only_administrators_grant_and_only_to_real_users(api: Api) -> None:
    alice = await api.new_user("alice")
    admin = await api.new_user("admin", admin=True)
    body = {"user_id": alice["X-User-Id"], "amount": 1000}
    refused = await api.client.post("/credits/grant", headers=alice, json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    nobody = await api.client.post(
        "/credits/grant", headers=admin, json={**body, "user_id": str(uuid.uuid4())}
    )
    assert nobody.status_code == 404
    for bad in ({**body, "amount": 0}, {**body, "amount": -5}, {**body, "kind": "free"}):
        assert (await api.client.post("/credits/grant", headers=admin, json=bad)).status_code == 422
    assert (await api.client.get("/credits")).status_code == 401
    assert (await ledger_matches_balance(api, alice))["available"] == 0


async def test_no_user_sees_another_users_credits(api: Api) -> None:
    admin = await api.new_user("admin", admin=True)
    alice, bob = await api.new_user("alice"), await api.new_user("bob")
    await grant(api, admin, alice, 50)
    assert (await api.client.get("/credits/history", headers=bob)).json() == []
    assert (await api.client.get("/credits", headers=bob)).json()["available"] == 0
    assert len((await api.client.get("/credits/history", headers=alice)).json()) == 1


async def test_estimate_prices_each_step_by_its_workflow(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=3)
    await grant(api, admin, alice, 15)
    document: dict[str, Any] = echo_document(4, steps=1)
    document["steps"] += [
        {"id": 2, "nodeName": "not-registered", "nodePayload": {}},  # unknown: the default, 1
        {"id": 3, "nodeName": "layers", "nodePayload": {}},  # built-in: 1
        {"id": 4, "nodeName": "echo-job", "nodePayload": {}, "skip": True},  # does not run: 0
    ]
    response = await api.client.post(
        "/credits/estimate", headers=alice, json={"generation_input": document}
    )
    assert response.status_code == 200, response.text
    estimate = response.json()
    assert [(s["step_id"], s["cost"]) for s in estimate["steps"]] == [
        (1, 3),
        (2, 1),
        (3, 1),
        (4, 0),
    ]
    assert estimate["cost_per_generation"] == 5 and estimate["generations"] == 4
    assert estimate["total"] == 20 and estimate["available"] == 15
    assert estimate["sufficient"] is False
    three = await api.client.post(
        "/credits/estimate", headers=alice, json={"generation_input": document, "generations": 3}
    )
    assert three.json()["total"] == 15 and three.json()["sufficient"] is True
    broken = await api.client.post(
        "/credits/estimate", headers=alice, json={"generation_input": {"version": "v1"}}
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_input"


async def test_a_run_without_enough_credits_is_refused_and_nothing_is_queued(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=2)
    await grant(api, admin, alice, 7)  # the run needs 2 steps × 2 credits × 2 generations = 8
    collection = await make_collection(api, alice, echo_document(2))
    refused = await api.client.post(f"/collections/{collection}/generations", headers=alice)
    assert refused.status_code == 402, refused.text
    error = refused.json()["error"]
    assert error["code"] == "payment_required"
    assert error["details"] == {"needed": 8, "available": 7}
    async with api.state.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(JobRecord))).scalar() == 0
        outbox = select(func.count()).select_from(OutboxMessage)
        assert (await session.execute(outbox)).scalar() == 0
    await asyncio.sleep(0.3)  # a dispatcher round: still nothing reaches the broker
    stats = await api.state.broker.stats()
    assert stats.pending_total == 0 and stats.active == 0
    assert (await ledger_matches_balance(api, alice))["available"] == 7
    one = await api.client.post(
        f"/collections/{collection}/generations", headers=alice, json={"generations": 1}
    )
    assert one.status_code == 202 and one.json()["credits_held"] == 4


async def test_concurrent_runs_never_overdraw(api: Api) -> None:
    """100 simultaneous requests against credits for exactly 10 runs: 10 start, 90 are refused."""
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await register_workflow(api, credit_cost=1)
    await grant(api, admin, alice, 6)
    rental = {"user_id": alice["X-User-Id"], "amount": 4, "kind": "rental"}
    assert (await api.client.post("/credits/grant", headers=admin, json=rental)).status_code == 201
    collection = await make_collection(api, alice, echo_document(1, steps=1))
    responses = await asyncio.gather(
        *(
            api.client.post(f"/collections/{collection}/generations", headers=alice)
            for _ in range(100)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] * 10 + [402] * 90, [r.text for r in responses if r.status_code >= 500]
    refused = {r.json()["error"]["code"] for r in responses if r.status_code == 402}
    assert refused == {"payment_required"}
    balance = await ledger_matches_balance(api, alice)
    assert balance == {"permanent": 6, "rental": 4, "held": 10, "available": 0}
    history = (await api.client.get("/credits/history?limit=500", headers=alice)).json()
    holds = [e for e in history if e["kind"] == "hold"]
    assert len(holds) == 10 and len({e["reference"] for e in holds}) == 10
    async with api.state.sessions() as session:
        runs = (await session.execute(select(func.count()).select_from(JobRecord))).scalar()
        messages = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar()
    assert runs == 10 and messages == 10


async def test_settling_one_generation_twice_at_once_charges_once(api: Api) -> None:
    """The runner completing a generation and a cancel releasing it race: one of them wins."""
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    await grant(api, admin, alice, 10)
    user_id = uuid.UUID(alice["X-User-Id"])
    run_id = uuid.uuid4()
    async with api.state.sessions() as session:
        await CreditService(CreditRepository(session)).hold(user_id, 4, f"hold:{run_id}")
        await session.commit()

    async def settle(charge: bool) -> bool:
        async with api.state.sessions() as session:
            service = CreditService(CreditRepository(session))
            done = await service.settle(user_id, 4, settle_reference(run_id, 0), charge=charge)
            await session.commit()
            return done

    outcomes = await asyncio.gather(*(settle(charge=i % 2 == 0) for i in range(8)))
    assert outcomes.count(True) == 1
    balance = await ledger_matches_balance(api, alice)
    assert balance["held"] == 0 and balance["available"] in (6, 10)
    async with api.state.sessions() as session:
        row = await session.get(CreditBalance, user_id)
        assert row is not None
        assert row.permanent in (6, 10)
