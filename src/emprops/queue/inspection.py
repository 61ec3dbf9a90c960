"""Read-only views of one queue for operators: which jobs sit in which state, and how the recently
finished ones ended. Nothing here changes a job (cancel and retry are broker transitions).

Why beside the broker: only the queue domain knows its Redis keys. Every read is bounded (a page
of ids, then one pipelined read of their hashes), so a queue of millions stays cheap to look at.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Any

from emprops.core.redis_connection import AsyncRedis
from emprops.queue.job_codec import decode_job
from emprops.queue.keys import QueueKeys
from emprops.queue.models import Job

MAX_PAGE = 500


class JobState(StrEnum):
    """Where a job sits: the broker's index it is listed in."""

    PENDING = "pending"  # waiting in a service's priority set
    ACTIVE = "active"  # leased by a worker
    DELAYED = "delayed"  # waiting for its retry time
    DEAD = "dead"  # failed for good (dead letters)
    FINISHED = "finished"  # completed, failed or cancelled, still retained


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class QueueInspector:
    def __init__(self, redis: AsyncRedis, keys: QueueKeys) -> None:
        self.redis, self.keys = redis, keys

    async def services(self) -> list[str]:
        return sorted(_text(s) for s in await self.redis.smembers(self.keys.services))

    async def job_ids(
        self, state: JobState, *, service: str | None = None, limit: int = 50
    ) -> list[str]:
        """Ids in the state's index, the next to run (or the newest finished) first."""
        limit = max(1, min(limit, MAX_PAGE))
        k = self.keys
        if state is JobState.PENDING:
            services = [service] if service else await self.services()
            ids: list[str] = []
            for name in services:
                members = await self.redis.zrange(k.pending(name), 0, limit - 1)
                # a pending member is `<sequence>|<job id>` (see submit.lua)
                ids += [_text(m).split("|", 1)[-1] for m in members]
            return ids[:limit]
        index = {JobState.ACTIVE: k.active, JobState.DELAYED: k.delayed, JobState.DEAD: k.dead,
                 JobState.FINISHED: k.done}[state]  # fmt: skip
        if state in (JobState.DEAD, JobState.FINISHED):
            raw = await self.redis.zrevrange(index, 0, limit - 1)
        else:
            raw = await self.redis.zrange(index, 0, limit - 1)
        return [_text(m) for m in raw]

    async def jobs(self, ids: list[str]) -> list[Job]:
        """The jobs still stored, in the order given (expired ones are left out)."""
        if not ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self.keys.job(job_id))
        found = await pipe.execute()
        return [decode_job(raw) for raw in found if raw]

    async def list_jobs(
        self, state: JobState, *, service: str | None = None, limit: int = 50
    ) -> list[Job]:
        jobs = await self.jobs(await self.job_ids(state, service=service, limit=limit))
        if service is not None:
            jobs = [j for j in jobs if j.service_required == service]
        return jobs

    async def finished_counts(self, scan: int = MAX_PAGE) -> tuple[dict[str, int], int]:
        """How the `scan` most recently retained finished jobs ended (status -> count), and how
        many finished jobs are retained in all."""
        total = int(await self.redis.zcard(self.keys.done))
        ids = await self.job_ids(JobState.FINISHED, limit=scan)
        if not ids:
            return {}, total
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(self.keys.job(job_id), "status")
        statuses = Counter(_text(s) for s in await pipe.execute() if s is not None)
        return dict(statuses), total
