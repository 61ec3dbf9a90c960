"""Credit routes: the caller's balance and ledger, estimates, and grants (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from emprops.api.dependencies import DbSession
from emprops.api.errors import ErrorResponse
from emprops.auth import AdminPrincipal, CurrentPrincipal
from emprops.components.service import load_workflow_catalog
from emprops.credits.pricing import generation_count, price_run
from emprops.credits.repository import CreditRepository
from emprops.credits.schemas import (
    BalanceOut,
    EstimateOut,
    EstimateRequest,
    GrantOut,
    GrantRequest,
    LedgerEntryOut,
    StepCost,
)
from emprops.credits.service import CreditService, balance_out
from emprops.workflows import GenerationInputInvalid, generation_hashes, validate_generation_input

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422, 429)}
router = APIRouter(prefix="/credits", tags=["credits"], responses=ERRORS)  # type: ignore[arg-type]


def credit_service(session: DbSession) -> CreditService:
    return CreditService(CreditRepository(session))


Service = Annotated[CreditService, Depends(credit_service)]


@router.get("")
async def get_balance(principal: CurrentPrincipal, service: Service) -> BalanceOut:
    return await service.balance(principal.user.id)


@router.get("/history")
async def credit_history(
    principal: CurrentPrincipal,
    service: Service,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[LedgerEntryOut]:
    """The caller's ledger, newest first: every grant, hold, charge and release."""
    entries = await service.history(principal.user.id, limit=limit, offset=offset)
    return [LedgerEntryOut.model_validate(e) for e in entries]


@router.post("/estimate")
async def estimate(
    body: EstimateRequest, principal: CurrentPrincipal, service: Service, session: DbSession
) -> EstimateOut:
    """What running this GenerationInput would hold: each step's workflow cost (1 for built-ins
    and unregistered workflows) × generations, against the caller's available credits."""
    document = body.generation_input
    steps = document.get("steps")
    names = {
        s["nodeName"]
        for s in (steps if isinstance(steps, list) else [])
        if isinstance(s, dict) and isinstance(s.get("nodeName"), str)
    }
    catalog = await load_workflow_catalog(session, names)
    result = validate_generation_input(document, catalog)
    if result.generation_input is None:  # unparseable; an unknown workflow still has a price
        raise GenerationInputInvalid(result.problems)
    generations = generation_count(result.generation_input, body.generations)
    hashes = generation_hashes(result.generation_input.generations, generations)
    price = price_run(result.generation_input, catalog, hashes)
    available = (await service.balance(principal.user.id)).available
    total = price.total
    return EstimateOut(
        steps=[StepCost(step_id=i, workflow=w, cost=float(c)) for i, w, c in price.steps],
        cost_per_generation=float(price.per_generation), generations=generations, total=total,
        available=available, sufficient=total <= available,
    )  # fmt: skip


@router.post("/grant", status_code=status.HTTP_201_CREATED)
async def grant_credits(body: GrantRequest, _admin: AdminPrincipal, service: Service) -> GrantOut:
    """Add credits to a user (administrators only). With a `reference`, repeating the same
    grant applies it once."""
    entry, created = await service.grant(body)
    balance = balance_out(await service.repo.balance(body.user_id))
    return GrantOut(entry=LedgerEntryOut.model_validate(entry), balance=balance, created=created)
