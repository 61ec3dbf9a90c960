"""Runs one generation run: GeneratorV2 on the broker, with the database as its journal.

As the engine reports, the runner writes the journal and each stored output (flat_file), settles
each finished generation's credits (charge when completed, release when failed), keeps the run's
status and progress, and appends every event to the run's stream for SSE/WebSocket clients.
Database first, then the event: a client that sees `complete` can read the charge.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.core.errors import EmpropsError, NotFoundError
from emprops.db.models import JobRecord
from emprops.generations.events import RunEventLog
from emprops.generations.keys import cancelled_key
from emprops.generations.outputs import record_step_file
from emprops.generations.repository import FINISHED, RunRepository
from emprops.generations.run_journal import DbRunJournal, StepRecord
from emprops.generations.run_spec import RunSpec
from emprops.generations.service import CANCEL_REASON, GenerationService, Outcome
from emprops.queue.broker import Broker, SubmitResult
from emprops.queue.models import JobRequest
from emprops.workflows.engine import EngineEvent, GeneratorV2, StepPlanner, TextReader

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RunnerConfig:
    reconcile_s: float = 2.0  # how often the engine re-reads outstanding jobs' state
    max_retries: int = 3  # per step job
    lease_ttl_s: float = 15.0  # a crashed process's runs are taken over after this
    poll_s: float = 0.5  # the outbox is read this often (and at once after a POST)
    resume_every_s: float = 5.0  # unfinished runs without a runner are looked for this often
    # whole-run planners (layered traits: exact rarity across the collection), by workflow
    planners: Mapping[str, StepPlanner] = field(default_factory=dict)
    # reads the `.txt` URLs prompts inline (None: they stay as written)
    text_reader: TextReader | None = None


class _RunBroker(Broker):
    """The broker as the engine sees it for one run: after each submission it reports the run
    delivered, and cancels what it just submitted if the run was cancelled meanwhile."""

    def __init__(
        self, broker: Broker, run_id: uuid.UUID, on_submitted: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(broker.redis, broker.config)
        self._run_id, self._on_submitted = run_id, on_submitted

    async def submit_many(self, requests: Sequence[JobRequest]) -> list[SubmitResult]:
        results = await super().submit_many(requests)
        if await self.redis.exists(cancelled_key(self._run_id)):
            for request in requests:
                with contextlib.suppress(NotFoundError):  # never submitted
                    await self.cancel(request.id or "", CANCEL_REASON)
        await self._on_submitted()
        return results


def _permanent(exc: Exception) -> bool:
    """An error that running again cannot fix (a refused job, not a dropped connection)."""
    if isinstance(exc, EmpropsError):
        return 400 <= exc.http_status < 500
    return isinstance(exc, ValidationError | KeyError)


class RunExecution:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        events: RunEventLog,
        run_id: uuid.UUID,
        config: RunnerConfig,
    ) -> None:
        self.sessions, self.broker, self.events = sessions, broker, events
        self.run_id, self.config = run_id, config
        self._delivered = False

    async def execute(self) -> None:
        async with self.sessions() as session:
            repo = RunRepository(session)
            run = await repo.run(self.run_id)
            if run is None:
                return
            if run.status in FINISHED:  # cancelled before it was delivered
                await repo.mark_dispatched(self.run_id)
                await session.commit()
                return
            spec = RunSpec.of(run.data)
            rows = await repo.step_results(self.run_id)
            self.settled = set(await repo.outcomes(self.run_id))
        self.spec, generation_input = spec, spec.parsed_input()
        self.workflows = {s.id: s.node_name for s in generation_input.steps}
        self.runnable = [s.id for s in generation_input.steps if not s.skip]
        self.done = [0] * spec.generations
        for row in rows:
            if row.output is not None and row.step_id in self.runnable:
                self.done[row.generation] += 1
        self.journal = DbRunJournal(spec.header(), rows)
        engine = GeneratorV2(
            _RunBroker(self.broker, self.run_id, self._mark_delivered),
            generation_input,
            spec.catalog(),
            self.journal,
            user_id=str(spec.user_id),
            priority=spec.priority,
            reconcile_s=self.config.reconcile_s,
            max_retries=self.config.max_retries,
            planners=self.config.planners,
            text_reader=self.config.text_reader,
        )
        try:
            outcome = await engine.run(self._on_event)
        except Exception as exc:
            if not _permanent(exc):
                raise  # the dispatcher runs it again later; the journal keeps what is done
            log.warning("run cannot run", run_id=str(self.run_id), error=str(exc))
            await self._mark_delivered()
            await self._finish(self._completed_in_journal(), str(exc))
            return
        await self._mark_delivered()
        await self._finish(outcome.completed, None, outcome.failed)

    def _completed_in_journal(self) -> list[int]:
        return [g for g in range(self.spec.generations) if self.done[g] == len(self.runnable)]

    def _progress(self) -> int:
        total = self.spec.generations * len(self.runnable)
        if total == 0:
            return 0
        done = sum(
            len(self.runnable) if g in self.settled else self.done[g]
            for g in range(self.spec.generations)
        )
        return min(100, 100 * done // total)

    async def _mark_delivered(self) -> None:
        if self._delivered:
            return
        async with self.sessions() as session:
            started = await GenerationService(session, self.broker).mark_running(self.run_id)
            await session.commit()
        self._delivered = True
        if started:
            await self.events.append(
                self.run_id, "run_started",
                data={"generations": self.spec.generations, "progress": self._progress()},
            )  # fmt: skip

    async def _on_event(self, event: EngineEvent) -> None:
        pending = self.journal.take_pending()
        settles = event.type in ("complete", "error") and event.generation is not None
        if pending or settles:
            async with self.sessions() as session:
                service = GenerationService(session, self.broker)
                run = await service.repo.lock_run(self.run_id)
                assert run is not None
                await self._write_results(session, service, pending)
                if settles:
                    await self._settle(service, run, event)
                if run.status not in FINISHED:
                    run.progress = max(run.progress, self._progress())
                await session.commit()
        data = dict(event.data)
        if "progress" in data:  # a step's own percent (node_progress)
            data["step_progress"] = data.pop("progress")
        data["progress"] = self._progress()  # the run's
        await self.events.append(
            self.run_id, event.type, generation=event.generation, step_id=event.step_id, data=data
        )

    async def _write_results(
        self, session: AsyncSession, service: GenerationService, pending: list[StepRecord]
    ) -> None:
        """The journal records, and a flat_file for each stored output first written now."""
        written = await service.repo.add_step_results(self.run_id, pending)
        for record in pending:
            key = (record.generation, record.step_id)
            if record.output is None or key not in written:
                continue
            if record.step_id in self.runnable:
                self.done[record.generation] += 1
            job = await self.broker.get(record.job_id)
            await record_step_file(
                session, self.spec, generation=record.generation, step_id=record.step_id,
                workflow=self.workflows[record.step_id], job_id=record.job_id,
                output=record.output, payload=job.payload if job is not None else None,
                component=(job.ctx or {}).get("component") if job is not None else None,
            )  # fmt: skip

    async def _settle(self, service: GenerationService, run: JobRecord, event: EngineEvent) -> None:
        assert event.generation is not None
        outcome: tuple[Outcome, str | None] = (
            ("completed", None)
            if event.type == "complete"
            else ("failed", str(event.data.get("error")))
        )
        if await service.settle(run, self.spec, {event.generation: outcome}) and outcome[1]:
            await service.add_history(
                self.run_id, "generation_failed", f"generation {event.generation}: {outcome[1]}",
                {"generation": event.generation, "step_id": event.step_id},
            )  # fmt: skip
        self.settled.add(event.generation)

    async def _finish(
        self, completed: list[int], error: str | None, failed: dict[int, str] | None = None
    ) -> None:
        failed = dict(failed or {})
        if error is not None:
            failed.update({g: error for g in range(self.spec.generations) if g not in completed})
        async with self.sessions() as session:
            run = await GenerationService(session, self.broker).finish(
                self.run_id, completed, failed
            )
            await session.commit()
        if run is not None:
            await self.events.append(
                self.run_id, f"run_{run.status}",
                data={"status": run.status, "error": run.error, "progress": run.progress,
                      "credits_charged": run.credits_charged},
            )  # fmt: skip
