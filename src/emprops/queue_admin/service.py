"""The operator's queue: one overview read, job pages by state, one job, cancel and retry. Thin
over the broker (which owns every transition) and its read-only inspector."""

from __future__ import annotations

from emprops.core.errors import ConflictError, NotFoundError
from emprops.queue.broker import Broker
from emprops.queue.inspection import JobState, QueueInspector
from emprops.queue.models import Job
from emprops.queue_admin.schemas import JobActionOut, JobDetail, QueueOverview

FINISHED_SCAN = 500


class QueueAdminService:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.inspector = QueueInspector(broker.redis, broker.keys)

    async def overview(self) -> QueueOverview:
        stats = await self.broker.stats()
        finished, retained = await self.inspector.finished_counts(FINISHED_SCAN)
        now: tuple[int, int] = await self.broker.redis.time()
        return QueueOverview(
            queue=self.broker.config.queue, server_ms=int(now[0]) * 1000 + int(now[1]) // 1000,
            pending=stats.pending, pending_total=stats.pending_total, active=stats.active,
            delayed=stats.delayed, dead=stats.dead, finished_retained=retained,
            finished=finished, workers=stats.workers, unworkable=stats.unworkable,
        )  # fmt: skip

    async def jobs(self, state: JobState, *, service: str | None, limit: int) -> list[Job]:
        return await self.inspector.list_jobs(state, service=service, limit=limit)

    async def job(self, job_id: str) -> JobDetail:
        job = await self.broker.get(job_id)
        if job is None:
            raise NotFoundError(f"job {job_id!r} not found", details={"id": job_id})
        return JobDetail(job=job, events=await self.broker.read_events(job_id, count=200))

    async def cancel(self, job_id: str, reason: str) -> JobActionOut:
        """Cancel an unfinished job; a finished one is left as it is (and said so)."""
        previous = await self.broker.cancel(job_id, reason)
        finished = previous in ("completed", "failed", "cancelled")
        return JobActionOut(
            job_id=job_id, action="cancel", outcome="finished" if finished else "cancelled",
            previous_status=previous, job=await self.broker.get(job_id),
        )  # fmt: skip

    async def retry(self, job_id: str) -> JobActionOut:
        """Put a dead (failed) job back in line with a fresh retry budget."""
        job = await self.broker.get(job_id)
        if job is None:
            raise NotFoundError(f"job {job_id!r} not found", details={"id": job_id})
        if not await self.broker.retry_dead(job_id):
            raise ConflictError(
                f"job {job_id!r} is {job.status}: only failed jobs can be retried",
                details={"id": job_id, "status": str(job.status)},
            )
        return JobActionOut(
            job_id=job_id, action="retry", outcome="retried", previous_status=str(job.status),
            job=await self.broker.get(job_id),
        )  # fmt: skip
