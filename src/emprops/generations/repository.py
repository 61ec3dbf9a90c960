"""Every query of the generations domain: runs (`jobs` rows), their history, journal, outcomes
and outbox messages. Reads for a caller are scoped to the owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.base import utcnow
from emprops.db.models import (
    CollectionRecord,
    Component,
    FlatFile,
    GenerationOutcome,
    GenerationStepResult,
    JobHistory,
    JobRecord,
    OutboxMessage,
)
from emprops.generations.run_journal import StepRecord
from emprops.generations.run_spec import JOB_TYPE

START_RUN = "generation_run.start"  # outbox kind; the message id is the run id
UNFINISHED = ("pending", "running")
FINISHED = ("completed", "failed", "cancelled")


class RunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # --- reads for a caller -----------------------------------------------------------------

    async def collection_owned(
        self, user_id: uuid.UUID, collection_id: uuid.UUID
    ) -> CollectionRecord | None:
        return (
            await self.session.execute(
                select(CollectionRecord).where(
                    CollectionRecord.id == collection_id, CollectionRecord.user_id == user_id
                )
            )
        ).scalar_one_or_none()

    async def run_owned(self, user_id: uuid.UUID, run_id: uuid.UUID) -> JobRecord | None:
        return (
            await self.session.execute(
                select(JobRecord)
                .where(JobRecord.id == run_id, JobRecord.user_id == user_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def history(self, run_id: uuid.UUID) -> list[JobHistory]:
        rows = await self.session.execute(
            select(JobHistory)
            .where(JobHistory.job_id == run_id)
            .order_by(JobHistory.created_at, JobHistory.id)
        )
        return list(rows.scalars())

    async def outcome_counts(self, run_id: uuid.UUID) -> dict[str, int]:
        rows = await self.session.execute(
            select(GenerationOutcome.status, func.count())
            .where(GenerationOutcome.run_id == run_id)
            .group_by(GenerationOutcome.status)
        )
        return {status: int(count) for status, count in rows}

    # --- the runner's and the cancel's ------------------------------------------------------

    async def run(self, run_id: uuid.UUID) -> JobRecord | None:
        return (
            await self.session.execute(
                select(JobRecord)
                .where(JobRecord.id == run_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def lock_run(self, run_id: uuid.UUID) -> JobRecord | None:
        """The run's row, locked until the transaction ends: everything that settles a
        generation or finishes the run takes this lock first (PostgreSQL: FOR UPDATE; SQLite: a
        no-op UPDATE, which takes the single write lock)."""
        if not self._postgresql:
            await self.session.execute(
                update(JobRecord)
                .where(JobRecord.id == run_id)
                .values(progress=JobRecord.progress)
                .execution_options(synchronize_session=False)
            )
        return (
            await self.session.execute(
                select(JobRecord)
                .where(JobRecord.id == run_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def outcomes(self, run_id: uuid.UUID) -> dict[int, GenerationOutcome]:
        rows = await self.session.execute(
            select(GenerationOutcome).where(GenerationOutcome.run_id == run_id)
        )
        return {o.generation: o for o in rows.scalars()}

    async def step_results(self, run_id: uuid.UUID) -> list[GenerationStepResult]:
        rows = await self.session.execute(
            select(GenerationStepResult).where(GenerationStepResult.run_id == run_id)
        )
        return list(rows.scalars())

    async def add_step_results(
        self, run_id: uuid.UUID, records: Sequence[StepRecord]
    ) -> set[tuple[int, int]]:
        """Write journal records; one already written (a resumed run) is left as it is.
        Returns the (generation, step) of the rows this call wrote."""
        if not records:
            return set()
        insert = pg_insert if self._postgresql else sqlite_insert
        now = utcnow()
        written = await self.session.execute(
            insert(GenerationStepResult)
            .values(
                [
                    {
                        "run_id": run_id,
                        "generation": r.generation,
                        "step_id": r.step_id,
                        "job_id": r.job_id,
                        "output": r.output,
                        "error": r.error,
                        "created_at": now,
                    }
                    for r in records
                ]
            )
            .on_conflict_do_nothing(index_elements=["run_id", "generation", "step_id"])
            .returning(GenerationStepResult.generation, GenerationStepResult.step_id)
        )
        return {(g, s) for g, s in written}

    async def component_id(self, collection_id: uuid.UUID, step_id: int) -> uuid.UUID | None:
        found = await self.session.execute(
            select(Component.id)
            .where(Component.collection_id == collection_id, Component.step_id == step_id)
            .order_by(Component.created_at.desc())
            .limit(1)
        )
        return found.scalar_one_or_none()

    async def flat_file_exists(self, file_id: uuid.UUID) -> bool:
        found = await self.session.execute(select(FlatFile.id).where(FlatFile.id == file_id))
        return found.scalar_one_or_none() is not None

    async def unfinished_runs(self, limit: int = 1000) -> list[uuid.UUID]:
        rows = await self.session.execute(
            select(JobRecord.id)
            .where(JobRecord.job_type == JOB_TYPE, JobRecord.status.in_(UNFINISHED))
            .order_by(JobRecord.created_at)
            .limit(limit)
        )
        return list(rows.scalars())

    # --- the outbox -------------------------------------------------------------------------

    async def undispatched(self, limit: int = 100) -> list[OutboxMessage]:
        rows = await self.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.kind == START_RUN, OutboxMessage.dispatched_at.is_(None))
            .order_by(OutboxMessage.created_at)
            .limit(limit)
        )
        return list(rows.scalars())

    async def mark_dispatched(self, message_id: uuid.UUID) -> bool:
        done = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.dispatched_at.is_(None))
            .values(dispatched_at=utcnow(), attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return done.first() is not None

    async def record_delivery_error(self, message_id: uuid.UUID, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.dispatched_at.is_(None))
            .values(attempts=OutboxMessage.attempts + 1, last_error=error[:4000])
            .execution_options(synchronize_session=False)
        )
