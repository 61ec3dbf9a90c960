"""The job broker: every state transition is one atomic Lua script (see lua/), called from here.

The broker knows jobs, workers and Redis, nothing of collections or users. Time comes from Redis
(`TIME`), so leases mean the same thing on every machine.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, Field

from emprops.core.redis_connection import AsyncRedis, blocking_ms
from emprops.core.settings import Settings
from emprops.queue.errors import DuplicateJobError, LeaseLostError, UnknownServiceError
from emprops.queue.events import SUBMITTED_EVENT_ID, JobEvent
from emprops.queue.job_codec import decode_job, encode_submit_fields
from emprops.queue.keys import QueueKeys
from emprops.queue.models import Job, JobRequest, WorkerCapabilities
from emprops.queue.scripts import ScriptName, script_source
from emprops.queue.tracing import submit_span


@dataclass(frozen=True)
class BrokerConfig:
    queue: str = "default"
    lease_ms: int = 6_000
    claim_scan: int = 100
    retry_base_ms: int = 1_000
    retry_max_ms: int = 300_000
    keep_completed_ms: int = 24 * 3600 * 1000
    keep_failed_ms: int = 7 * 24 * 3600 * 1000
    exclude_failed_worker_ms: int = 30_000
    worker_ttl_ms: int = 15_000
    known_services: frozenset[str] | None = None  # None accepts any well-formed name

    @classmethod
    def from_settings(
        cls, settings: Settings, known_services: Iterable[str] | None = None
    ) -> BrokerConfig:
        return cls(
            queue=settings.queue_name,
            lease_ms=int(settings.lease_s * 1000),
            claim_scan=settings.claim_scan,
            retry_base_ms=int(settings.retry_base_s * 1000),
            retry_max_ms=int(settings.retry_max_s * 1000),
            keep_completed_ms=settings.keep_completed_s * 1000,
            keep_failed_ms=settings.keep_failed_s * 1000,
            worker_ttl_ms=int(max(3 * settings.heartbeat_s, settings.lease_s) * 1000),
            known_services=(
                frozenset([*known_services, *settings.extra_services])
                if known_services is not None
                else None
            ),
        )


@dataclass(frozen=True)
class JobLease:
    """Proof of holding a job: the broker refuses calls whose attempt is not the current one."""

    job_id: str
    worker_id: str
    attempt: int


@dataclass(frozen=True)
class ClaimedJob:
    job: Job
    lease: JobLease


@dataclass(frozen=True)
class ClaimResult:
    jobs: list[ClaimedJob]
    scanned: int
    next_delayed_at_ms: int | None


@dataclass(frozen=True)
class SubmitResult:
    id: str
    created: bool


class WorkerInfo(BaseModel):
    worker_id: str
    status: str
    last_seen_ms: int
    jobs: int
    capabilities: dict[str, Any]


class QueueStats(BaseModel):
    pending: dict[str, int] = Field(description="Pending jobs by service.")
    active: int
    delayed: int
    dead: int
    workers: list[WorkerInfo]
    unworkable: list[str] = Field(description="Pending jobs no live worker can run.")

    @property
    def pending_total(self) -> int:
        return sum(self.pending.values())


def submitted_event(job: Job) -> JobEvent:
    """The `job_submitted` event, rebuilt from the job (it is published live, never stored)."""
    created = int(job.created_at.timestamp() * 1000) if job.created_at else 0
    priority = job.workflow_priority if job.workflow_priority is not None else job.priority
    return JobEvent(
        id=SUBMITTED_EVENT_ID,
        job_id=job.id,
        event="job_submitted",
        ts=created,
        data={"service_required": job.service_required, "priority": priority},
    )


def capabilities_json(caps: WorkerCapabilities) -> str:
    return orjson.dumps(caps.model_dump(mode="json", exclude_none=True)).decode()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Broker:
    """Async client for one queue. Cheap to create; share one per process and Redis client."""

    def __init__(self, redis: AsyncRedis, config: BrokerConfig | None = None) -> None:
        self.redis = redis
        self.config = config or BrokerConfig()
        self.keys = QueueKeys(self.config.queue)
        self._scripts = {name: redis.register_script(script_source(name)) for name in ScriptName}

    async def _run(self, name: ScriptName, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._scripts[name](keys=list(keys), args=[self.keys.prefix, *args])

    # --- submitting -------------------------------------------------------------------------

    def _submit_call(self, request: JobRequest) -> tuple[str, list[str], list[Any]]:
        if (
            self.config.known_services is not None
            and request.service_required not in self.config.known_services
        ):
            known = ", ".join(sorted(self.config.known_services))
            raise UnknownServiceError(
                f"unknown service {request.service_required!r}",
                details={"field": "service_required", "known": known},
            )
        job_id = request.id or str(uuid.uuid4())
        k = self.keys
        workflow_key = k.workflow(request.workflow_id) if request.workflow_id else k.job(job_id)
        keys = [
            k.job(job_id),
            k.events(job_id),
            k.pending(request.service_required),
            k.seq,
            k.services,
            workflow_key,
        ]
        args = [
            job_id,
            request.service_required,
            orjson.dumps(encode_submit_fields(request)).decode(),
            request.priority,
            request.workflow_id or "",
            "" if request.workflow_priority is None else request.workflow_priority,
            "" if request.workflow_datetime is None else request.workflow_datetime,
        ]
        return job_id, keys, args

    @staticmethod
    def _submit_result(job_id: str, reply: list[Any]) -> SubmitResult:
        outcome = _text(reply[0])
        if outcome == "conflict":
            field = _text(reply[1])
            raise DuplicateJobError(
                f"job {job_id!r} already exists with a different {field}",
                details={"field": field, "id": job_id},
            )
        return SubmitResult(id=job_id, created=outcome == "created")

    async def submit(self, request: JobRequest) -> SubmitResult:
        with submit_span(self.config.queue, (request,)) as traced:
            job_id, keys, args = self._submit_call(traced[0])
            reply = await self._run(ScriptName.SUBMIT, keys, args)
            return self._submit_result(job_id, reply)

    async def submit_many(self, requests: Sequence[JobRequest]) -> list[SubmitResult]:
        """Submit in one round trip (pipelined; each job is still its own atomic script)."""
        with submit_span(self.config.queue, requests) as traced:
            calls = [self._submit_call(r) for r in traced]  # validate all before writing any
            pipe = self.redis.pipeline(transaction=False)
            script = self._scripts[ScriptName.SUBMIT]
            for _, keys, args in calls:
                await script(keys=keys, args=[self.keys.prefix, *args], client=pipe)  # type: ignore[arg-type]
            replies = await pipe.execute(raise_on_error=False)
            results = []
            for (job_id, _, _), reply in zip(calls, replies, strict=True):
                if isinstance(reply, Exception):
                    raise reply
                results.append(self._submit_result(job_id, reply))
            return results

    # --- reading ----------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        raw = await self.redis.hgetall(self.keys.job(job_id))
        return decode_job(raw) if raw else None

    async def read_events(
        self, job_id: str, after: str = "0-0", *, block_ms: int | None = None, count: int = 100
    ) -> list[JobEvent]:
        submitted: list[JobEvent] = []
        if after in ("0", "0-0"):
            job = await self.get(job_id)
            if job is not None:
                submitted = [submitted_event(job)]
                after = SUBMITTED_EVENT_ID
        reply: Any = await self.redis.xread(
            {self.keys.events(job_id): after},
            count=count,
            block=None if submitted or block_ms is None else blocking_ms(self.redis, block_ms),
        )
        if not reply:
            return submitted
        entries = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        stored = [JobEvent.from_stream(job_id, entry_id, fields) for entry_id, fields in entries]
        return submitted + stored

    async def follow(
        self, job_id: str, after: str = "0-0", *, block_ms: int = 5_000
    ) -> AsyncIterator[JobEvent]:
        """Every event after `after`, then live ones, until the job finishes."""
        while True:
            events = await self.read_events(job_id, after, block_ms=block_ms)
            for event in events:
                yield event
                after = event.id
                if event.terminal:
                    return
            if not events:
                job = await self.get(job_id)
                if job is None or job.status.finished:
                    return

    # --- worker side ------------------------------------------------------------------------

    async def claim(self, caps: WorkerCapabilities, count: int = 1) -> ClaimResult:
        reply = await self._run(
            ScriptName.CLAIM,
            [self.keys.active, self.keys.delayed],
            [caps.worker_id, capabilities_json(caps), self.config.claim_scan, count,
             self.config.lease_ms],
        )  # fmt: skip
        return self._claim_result(caps.worker_id, reply)

    @staticmethod
    def _claim_result(worker_id: str, reply: list[Any]) -> ClaimResult:
        jobs = []
        for flat in reply[2:]:
            job = decode_job(dict(zip(flat[::2], flat[1::2], strict=True)))
            jobs.append(ClaimedJob(job=job, lease=JobLease(job.id, worker_id, job.attempt)))
        next_due = _text(reply[1])
        return ClaimResult(
            jobs=jobs, scanned=int(reply[0]), next_delayed_at_ms=int(next_due) if next_due else None
        )

    def _lease_keys(self, job_id: str) -> list[str]:
        return [self.keys.job(job_id), self.keys.events(job_id), self.keys.active]

    def _check(self, lease: JobLease, reply: list[Any]) -> str:
        outcome = _text(reply[0])
        if outcome == "lease_lost":
            raise LeaseLostError(
                f"worker {lease.worker_id} no longer holds job {lease.job_id} "
                f"(attempt {lease.attempt}; job is {_text(reply[1])})",
                details={"job_id": lease.job_id, "status": _text(reply[1])},
            )
        return outcome

    async def progress(self, lease: JobLease, percent: float, message: str = "") -> None:
        if not 0 <= percent <= 100:
            raise ValueError(f"progress must be within 0..100, got {percent}")
        reply = await self._run(
            ScriptName.PROGRESS,
            self._lease_keys(lease.job_id)[:2],
            [lease.job_id, lease.worker_id, lease.attempt, f"{percent:.6g}", message[:1000]],
        )
        self._check(lease, reply)

    async def complete(self, lease: JobLease, result: dict[str, Any]) -> None:
        reply = await self._run(
            ScriptName.COMPLETE,
            self._lease_keys(lease.job_id),
            [lease.job_id, lease.worker_id, lease.attempt, orjson.dumps(result).decode(),
             self.config.keep_completed_ms],
        )  # fmt: skip
        self._check(lease, reply)

    async def fail(
        self,
        lease: JobLease,
        error: str,
        *,
        retryable: bool,
        details: dict[str, Any] | None = None,
    ) -> str:
        """Record a failure; returns 'retrying' or 'failed'. `details` (the connector's structured
        account: node errors, a reason) is kept on the job as `error_details`."""
        reply = await self._run(
            ScriptName.FAIL,
            [*self._lease_keys(lease.job_id), self.keys.delayed, self.keys.dead],
            [lease.job_id, lease.worker_id, lease.attempt, error[:4000], int(retryable),
             self.config.retry_base_ms, self.config.retry_max_ms, self.config.keep_failed_ms,
             _details_json(details)],
        )  # fmt: skip
        return self._check(lease, reply)

    async def release(self, lease: JobLease) -> None:
        reply = await self._run(
            ScriptName.RELEASE,
            self._lease_keys(lease.job_id),
            [lease.job_id, lease.worker_id, lease.attempt],
        )
        self._check(lease, reply)

    async def heartbeat(
        self, caps: WorkerCapabilities, leases: Iterable[JobLease], status: str = "idle"
    ) -> list[str]:
        """Renew leases and liveness; returns ids of jobs this worker must stop (no longer held)."""
        keys, args = heartbeat_call(self.keys, self.config, caps, leases, status)
        reply = await self._run(ScriptName.HEARTBEAT, keys, args)
        return [_text(x) for x in reply]

    # --- maintenance (any process may run these; they are idempotent) -----------------------

    async def requeue_expired(self, limit: int = 100) -> tuple[int, int]:
        """Requeue (or dead-letter) jobs whose lease expired; returns (requeued, dead)."""
        reply = await self._run(
            ScriptName.REQUEUE_EXPIRED,
            [self.keys.active, self.keys.dead],
            [limit, self.config.exclude_failed_worker_ms, self.config.keep_failed_ms],
        )
        return int(reply[0]), int(reply[1])

    async def promote_delayed(self, limit: int = 100) -> tuple[int, int | None]:
        reply = await self._run(ScriptName.PROMOTE_DELAYED, [self.keys.delayed], [limit])
        nxt = _text(reply[1])
        return int(reply[0]), int(nxt) if nxt else None

    # --- operator ---------------------------------------------------------------------------

    async def cancel(self, job_id: str, reason: str = "cancelled by request") -> str:
        """Cancel; returns the status the job had. Finished jobs are left as they are."""
        k = self.keys
        reply = await self._run(
            ScriptName.CANCEL,
            [k.job(job_id), k.events(job_id), k.active, k.delayed],
            [job_id, reason, self.config.keep_completed_ms],
        )
        outcome, previous = _text(reply[0]), _text(reply[1])
        if outcome == "missing":
            from emprops.core.errors import NotFoundError

            raise NotFoundError(f"job {job_id!r} not found", details={"id": job_id})
        return previous

    async def retry_dead(self, job_id: str) -> bool:
        k = self.keys
        reply = await self._run(
            ScriptName.RETRY_DEAD, [k.job(job_id), k.events(job_id), k.dead, k.done], [job_id]
        )
        return _text(reply[0]) == "ok"

    async def unworkable(self, scan: int | None = None) -> list[str]:
        live_since = await self._server_ms() - self.config.worker_ttl_ms
        reply = await self._run(
            ScriptName.FIND_UNWORKABLE,
            [self.keys.workers, self.keys.services],
            [live_since, scan or self.config.claim_scan],
        )
        return [_text(x) for x in reply]

    async def _server_ms(self) -> int:
        now: Any = await self.redis.time()
        seconds, micros = now
        return int(seconds) * 1000 + int(micros) // 1000

    async def live_workers(self) -> list[WorkerInfo]:
        since = await self._server_ms() - self.config.worker_ttl_ms
        ids: Any = await self.redis.zrangebyscore(self.keys.workers, since, "+inf", withscores=True)
        workers = []
        for wid, seen in ids:
            raw = await self.redis.hgetall(self.keys.worker(_text(wid)))
            if not raw:
                continue
            fields = {_text(a): _text(b) for a, b in raw.items()}
            workers.append(
                WorkerInfo(
                    worker_id=_text(wid),
                    status=fields.get("status", "?"),
                    last_seen_ms=int(seen),
                    jobs=int(float(fields.get("jobs", "0"))),
                    capabilities=orjson.loads(fields.get("caps", "{}")),
                )
            )
        return workers

    async def stats(self) -> QueueStats:
        k = self.keys
        services = sorted(_text(s) for s in await self.redis.smembers(k.services))
        pending = {s: int(await self.redis.zcard(k.pending(s))) for s in services}
        return QueueStats(
            pending=pending,
            active=int(await self.redis.zcard(k.active)),
            delayed=int(await self.redis.zcard(k.delayed)),
            dead=int(await self.redis.zcard(k.dead)),
            workers=await self.live_workers(),
            unworkable=await self.unworkable(),
        )


def heartbeat_call(
    keys: QueueKeys,
    config: BrokerConfig,
    caps: WorkerCapabilities,
    leases: Iterable[JobLease],
    status: str,
) -> tuple[list[str], list[Any]]:
    """Keys and arguments (after the prefix) of the heartbeat script; the worker's heartbeat
    thread calls the same script from its own synchronous connection."""
    args: list[Any] = [
        caps.worker_id,
        config.lease_ms,
        capabilities_json(caps),
        status,
    ]
    for lease in leases:
        args += [lease.job_id, lease.attempt]
    return [keys.active, keys.workers, keys.worker(caps.worker_id)], args


MAX_ERROR_DETAILS_BYTES = 16_000


def _details_json(details: dict[str, Any] | None) -> str:
    """Details as JSON for the job hash ('' for none). Too large ones keep their scalar fields only
    (a reason, a node id) and say they were cut, so one huge traceback cannot bloat Redis."""
    if not details:
        return ""
    text = orjson.dumps(details, default=str).decode()
    if len(text) <= MAX_ERROR_DETAILS_BYTES:
        return text
    scalars = {
        key: value
        for key, value in details.items()
        if isinstance(value, str | int | float | bool) and len(str(value)) <= 500
    }
    return orjson.dumps({**scalars, "truncated": True}).decode()
