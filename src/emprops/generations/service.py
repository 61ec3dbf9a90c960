"""Generation runs: accept (hold credits, write the run and its outbox message in one
transaction), read, cancel, and the bookkeeping the runner does as the engine reports.
Never commits: the caller's unit of work does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from emprops.collection import advance_stage
from emprops.components.service import load_workflow_catalog
from emprops.core.errors import InvalidInputError, NotFoundError
from emprops.core.tracing import current_trace_carrier
from emprops.credits.pricing import generation_count, price_run
from emprops.credits.repository import CreditRepository
from emprops.credits.service import CreditService, hold_reference, settle_reference
from emprops.db.models import (
    CollectionStage,
    GenerationOutcome,
    JobHistory,
    JobRecord,
    OutboxMessage,
    User,
)
from emprops.generations.events import RETENTION_S
from emprops.generations.keys import cancelled_key
from emprops.generations.repository import FINISHED, START_RUN, RunRepository
from emprops.generations.run_spec import JOB_TYPE, RunSpec
from emprops.generations.schemas import GenerationRequest, JobOut
from emprops.queue.broker import Broker
from emprops.workflows import (
    GenerationInput,
    WorkflowCatalog,
    generation_hashes,
    parse_generation_input,
)
from emprops.workflows.engine import GeneratorV2, input_digest

Outcome = Literal["completed", "failed", "cancelled"]
CANCEL_REASON = "cancelled by request"


def start_run_payload(run_id: uuid.UUID) -> dict[str, Any]:
    """The outbox message of a new run; with tracing on it carries the request's trace context,
    so the run (delivered later, maybe by another process) continues the request's trace."""
    payload: dict[str, Any] = {"run_id": str(run_id)}
    carrier = current_trace_carrier()
    if carrier is not None:
        payload["trace"] = carrier
    return payload


def _now() -> datetime:
    return datetime.now(UTC)


class GenerationService:
    def __init__(self, session: AsyncSession, broker: Broker) -> None:
        self.session, self.broker = session, broker
        self.repo = RunRepository(session)
        self.credits = CreditService(CreditRepository(session))

    # --- accepting a run --------------------------------------------------------------------

    async def start_run(
        self, user: User, collection_id: uuid.UUID, body: GenerationRequest
    ) -> JobRecord:
        """Validate, hold `cost × generations` (402 and nothing written when short), and write
        the run with its outbox message; the dispatcher delivers it to the broker."""
        collection = await self.repo.collection_owned(user.id, collection_id)
        if collection is None:
            raise NotFoundError("collection not found", details={"id": str(collection_id)})
        document: Any = collection.data
        if body.hashes is not None and isinstance(document, dict):
            document = {**document, "generations": {
                "hashes": body.hashes, "generations": len(body.hashes), "use_custom_hashes": True,
            }}  # fmt: skip
        catalog = await load_workflow_catalog(self.session, _step_names(document))
        generation_input = parse_generation_input(document, catalog)
        self._check_runnable(generation_input, catalog)
        spec_hashes = generation_input.generations
        if spec_hashes.has_custom_hashes and body.hashes is None and body.generations is not None:
            raise InvalidInputError(
                "this collection runs its custom hashes; leave out generations or send hashes",
                details={"field": "generations"},
            )
        count = generation_count(generation_input, body.generations)
        if count < 1:
            raise InvalidInputError(
                "a run needs at least one generation", details={"field": "generations"}
            )
        hashes = generation_hashes(spec_hashes, count)
        price = price_run(generation_input, catalog, hashes)
        run_id = uuid.uuid4()
        total = price.total
        await self.credits.hold(user.id, total, hold_reference(run_id))

        document = generation_input.to_document()
        spec = RunSpec(
            run_id=run_id, user_id=user.id, collection_id=collection.id,
            input_digest=input_digest(GenerationInput.model_validate(document)), hashes=hashes,
            created_ms=int(time.time() * 1000), priority=body.priority,
            generation_input=document,
            workflows=[catalog[n] for n in sorted({s.node_name for s in generation_input.steps})],
            cost_per_generation=max(price.generation_costs, default=0),
            generation_costs=price.generation_costs,
        )  # fmt: skip
        run = JobRecord(
            id=run_id, user_id=user.id, collection_id=collection.id, name=collection.title[:200],
            job_type=JOB_TYPE, status="pending", progress=0, data=spec.as_job_data(),
            credits_held=total, credits_charged=0, created_at=_now(),
        )  # fmt: skip
        await self.repo.add(run)
        await self.repo.add(
            JobHistory(
                id=uuid.uuid4(), job_id=run_id, status="pending", message="run accepted",
                data={"generations": len(hashes), "credits_held": total,
                      "cost_per_generation": float(price.per_generation),
                      "priority": body.priority},
            ),
            OutboxMessage(id=run_id, kind=START_RUN, payload=start_run_payload(run_id)),
        )  # fmt: skip
        return run

    def _check_runnable(self, generation_input: GenerationInput, catalog: WorkflowCatalog) -> None:
        """Every step must run on a service this queue accepts, or the run could never start."""
        known = self.broker.config.known_services
        problems = []
        for i, step in enumerate(generation_input.steps):
            service = catalog[step.node_name].service
            if step.skip or catalog[step.node_name].type == "builtin":
                continue  # skipped, or run in-process by the engine
            if service is None or (known is not None and service not in known):
                problems.append({
                    "path": f"steps[{i}].nodeName",
                    "message": f"workflow {step.node_name!r} runs on service {service!r}, "
                    "which this queue does not accept",
                })  # fmt: skip
        if problems:
            raise InvalidInputError(
                f"{problems[0]['path']}: {problems[0]['message']}", details={"problems": problems}
            )

    # --- reading ----------------------------------------------------------------------------

    async def get(self, user: User, run_id: uuid.UUID) -> JobRecord:
        """The user's run; another user's is reported as missing, not forbidden."""
        run = await self.repo.run_owned(user.id, run_id)
        if run is None or run.job_type != JOB_TYPE:
            raise NotFoundError("job not found", details={"id": str(run_id)})
        return run

    async def job_out(self, run: JobRecord) -> JobOut:
        counts = await self.repo.outcome_counts(run.id)
        return JobOut(
            id=run.id, collection_id=run.collection_id, name=run.name, job_type=run.job_type,
            status=run.status, progress=run.progress, error=run.error,
            generations=RunSpec.of(run.data).generations,
            completed_generations=counts.get("completed", 0),
            failed_generations=counts.get("failed", 0),
            cancelled_generations=counts.get("cancelled", 0),
            credits_held=run.credits_held, credits_charged=run.credits_charged,
            created_at=run.created_at, started_at=run.started_at, completed_at=run.completed_at,
        )  # fmt: skip

    async def history(self, user: User, run_id: uuid.UUID) -> list[JobHistory]:
        run = await self.get(user, run_id)
        return await self.repo.history(run.id)

    # --- cancelling -------------------------------------------------------------------------

    async def cancel(self, user: User, run_id: uuid.UUID) -> tuple[JobRecord, bool]:
        """Cancel the run's outstanding broker jobs and release what its unfinished generations
        hold. Returns the run and whether this call cancelled it (False: it had finished)."""
        await self.get(user, run_id)  # the caller's, or 404
        # The run's lock first: the runner settles nothing until this commits, so every
        # generation this cancel reaches is recorded as cancelled (or completed), not failed.
        locked = await self.repo.lock_run(run_id)
        assert locked is not None
        if locked.status in FINISHED:
            return locked, False
        spec = RunSpec.of(locked.data)
        # The flag before the jobs: a runner submitting a step after this sees it and cancels it.
        await self.broker.redis.set(cancelled_key(run_id), "1", ex=RETENTION_S)
        await self._cancel_broker_jobs(spec)
        # A generation whose every step has its result did finish: it is charged, not released.
        results = await self.repo.step_results(run_id)
        outputs = {(r.generation, r.step_id) for r in results if r.output is not None}
        steps = [s.id for s in spec.parsed_input().steps if not s.skip]
        outcomes: dict[int, tuple[Outcome, str | None]] = {
            g: ("completed", None)
            if all((g, step_id) in outputs for step_id in steps)
            else ("cancelled", CANCEL_REASON)
            for g in range(spec.generations)
        }
        await self.settle(locked, spec, outcomes)
        locked.status, locked.error, locked.completed_at = "cancelled", CANCEL_REASON, _now()
        await self.add_history(locked.id, "cancelled", CANCEL_REASON)
        return locked, True

    async def _cancel_broker_jobs(self, spec: RunSpec) -> None:
        done = {(r.generation, r.step_id) for r in await self.repo.step_results(spec.run_id)}
        settled = set(await self.repo.outcomes(spec.run_id))
        steps = [s.id for s in spec.parsed_input().steps if not s.skip]
        ids = [
            GeneratorV2.job_id(str(spec.run_id), g, step_id)
            for g in range(spec.generations)
            if g not in settled
            for step_id in steps
            if (g, step_id) not in done
        ]
        for start in range(0, len(ids), 200):
            await asyncio.gather(*(self._cancel_job(job_id) for job_id in ids[start : start + 200]))

    async def _cancel_job(self, job_id: str) -> None:
        with contextlib.suppress(NotFoundError):  # never submitted
            await self.broker.cancel(job_id, CANCEL_REASON)

    # --- the runner's bookkeeping -----------------------------------------------------------

    async def settle(
        self, run: JobRecord, spec: RunSpec, outcomes: dict[int, tuple[Outcome, str | None]]
    ) -> list[int]:
        """Charge completed generations and release the others, each exactly once (the caller
        holds the run's lock). Returns the generations settled by this call."""
        settled = await self.repo.outcomes(run.id)
        newly = []
        for generation, (status, error) in sorted(outcomes.items()):
            if generation in settled:
                continue
            amount = spec.cost_of(generation)
            charge = status == "completed"
            await self.credits.settle(
                run.user_id, amount, settle_reference(run.id, generation), charge=charge
            )
            self.session.add(
                GenerationOutcome(
                    run_id=run.id, generation=generation, status=status, error=error,
                    credits_charged=amount if charge else 0,
                    credits_released=0 if charge else amount, created_at=_now(),
                )
            )  # fmt: skip
            run.credits_held = max(0, run.credits_held - amount)
            if charge:
                run.credits_charged += amount
            newly.append(generation)
        await self.session.flush()
        return newly

    async def mark_running(self, run_id: uuid.UUID) -> bool:
        """The run reached the broker: its outbox message is delivered. True when this call
        moved it from pending to running."""
        await self.repo.mark_dispatched(run_id)
        run = await self.repo.lock_run(run_id)
        if run is None or run.status != "pending":
            return False
        run.status, run.started_at = "running", _now()
        await self.add_history(run_id, "running", "delivered to the queue")
        return True

    async def finish(
        self, run_id: uuid.UUID, completed: list[int], failed: dict[int, str]
    ) -> JobRecord | None:
        """Settle what is left and record how the run ended; None when it had already ended
        (cancelled meanwhile)."""
        run = await self.repo.lock_run(run_id)
        if run is None or run.status in FINISHED:
            return None
        spec = RunSpec.of(run.data)
        outcomes: dict[int, tuple[Outcome, str | None]] = {
            g: ("completed", None) for g in completed
        }
        outcomes.update({g: ("failed", error) for g, error in failed.items()})
        for g in range(spec.generations):
            outcomes.setdefault(g, ("failed", "the run ended before this generation finished"))
        await self.settle(run, spec, outcomes)
        final = await self.repo.outcomes(run.id)
        failures = sorted(g for g, o in final.items() if o.status != "completed")
        run.progress, run.completed_at = 100, _now()
        if failures:
            first = final[failures[0]]
            run.status = "failed"
            run.error = (
                f"{len(failures)} of {spec.generations} generations failed; "
                f"generation {failures[0]}: {first.error}"
            )[:4000]
        else:
            run.status, run.error = "completed", None
        if len(failures) < spec.generations:
            await advance_stage(self.repo.session, spec.collection_id, CollectionStage.GENERATED)
        await self.add_history(
            run.id, run.status, run.error or "every generation completed",
            {"completed": spec.generations - len(failures), "failed": len(failures),
             "credits_charged": run.credits_charged},
        )  # fmt: skip
        return run

    async def add_history(
        self, run_id: uuid.UUID, status: str, message: str, data: dict[str, Any] | None = None
    ) -> None:
        await self.repo.add(
            JobHistory(
                id=uuid.uuid4(), job_id=run_id, status=status, message=message,
                data=data or {}, created_at=_now(),
            )
        )  # fmt: skip


def _step_names(document: Any) -> set[str]:
    """The workflow names a (not yet validated) document's steps use."""
    if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
        return set()
    return {
        step["nodeName"]
        for step in document["steps"]
        if isinstance(step, dict) and isinstance(step.get("nodeName"), str)
    }
