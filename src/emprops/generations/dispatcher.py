"""The outbox dispatcher and run supervisor: a background task of the API process.

Why an outbox: the API writes the run and a `generation_run.start` message in one transaction and
answers at once; this task delivers the message to the broker afterwards. A crash between the
two leaves the message undelivered, and the next process delivers it; a crash after the broker
got the jobs but before the message was marked leaves it to be delivered again, which is
harmless: job ids are derived from (run, generation, step), so the broker keeps one of each.

Why a lease per run: any number of API processes run this; a run is executed by the one holding
its Redis lease, and runs whose holder died (lease lapsed) are resumed by another, the engine
picking up from the database journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.core.redis_connection import AsyncRedis
from emprops.core.tracing import span_from_carrier
from emprops.generations.events import RunEventLog
from emprops.generations.repository import RunRepository
from emprops.generations.run_lease import RunLease, RunLeaseLost
from emprops.generations.runner import RunExecution, RunnerConfig
from emprops.queue.broker import Broker

log = structlog.get_logger(__name__)


class GenerationDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        redis: AsyncRedis,
        config: RunnerConfig | None = None,
    ) -> None:
        self.sessions, self.broker, self.redis = sessions, broker, redis
        self.config = config or RunnerConfig()
        self.events = RunEventLog(redis)
        self._runs: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._retry_at: dict[uuid.UUID, tuple[float, int]] = {}  # run -> (not before, failures)
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name="generation-dispatcher")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop delivering and running; runs keep their journal and resume elsewhere or later.
        Bounded: a run that does not end within `timeout_s` of its cancellation (seen once in
        a teardown that then waited 300 s) is left to die with the loop, not waited for."""
        tasks = [t for t in (self._loop_task, *self._runs.values()) if t is not None]
        self._loop_task = None
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a failure while stopping is not worth a warning
        if pending:
            log.warning(
                "generation runs did not stop in time", runs=sorted(t.get_name() for t in pending)
            )

    def wake(self) -> None:
        """Look at the outbox now (called once a request committed a new run)."""
        self._wake.set()

    @property
    def running(self) -> frozenset[uuid.UUID]:
        return frozenset(self._runs)

    # --- the loop ---------------------------------------------------------------------------

    async def _loop(self) -> None:
        next_resume = 0.0
        while True:
            try:
                await self.deliver_outbox()
                if time.monotonic() >= next_resume:
                    await self.resume_unfinished()
                    next_resume = time.monotonic() + self.config.resume_every_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or Redis is away: try again next round
                log.warning("generation dispatcher round failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_s)
            self._wake.clear()

    async def deliver_outbox(self) -> None:
        async with self.sessions() as session:
            messages = await RunRepository(session).undispatched()
        for message in messages:
            await self._ensure_running(message.id, _trace_carrier(message.payload))

    async def resume_unfinished(self) -> None:
        async with self.sessions() as session:
            run_ids = await RunRepository(session).unfinished_runs()
        for run_id in run_ids:
            await self._ensure_running(run_id)

    async def _ensure_running(
        self, run_id: uuid.UUID, trace: Mapping[str, str] | None = None
    ) -> None:
        if run_id in self._runs:
            return
        retry = self._retry_at.get(run_id)
        if retry is not None and time.monotonic() < retry[0]:
            return
        lease = RunLease(self.redis, run_id, self.config.lease_ttl_s)
        if not await lease.acquire():
            return  # another process runs it
        self._runs[run_id] = asyncio.create_task(
            self._run(run_id, lease, trace), name=f"run-{run_id}"
        )

    async def _run(
        self, run_id: uuid.UUID, lease: RunLease, trace: Mapping[str, str] | None = None
    ) -> None:
        # The run continues the trace of the request that started it (a resumed run, found
        # without its message, starts its own); its jobs' spans are children of this one.
        with span_from_carrier(
            "generation_run", trace, kind=SpanKind.CONSUMER,
            attributes={"emprops.run.id": str(run_id)},
        ):  # fmt: skip
            await self._run_traced(run_id, lease)

    async def _run_traced(self, run_id: uuid.UUID, lease: RunLease) -> None:
        execution = asyncio.create_task(
            RunExecution(self.sessions, self.broker, self.events, run_id, self.config).execute()
        )
        keeper = asyncio.create_task(lease.keep())
        try:
            done, _ = await asyncio.wait({execution, keeper}, return_when=asyncio.FIRST_COMPLETED)
            if execution in done:
                execution.result()
                self._retry_at.pop(run_id, None)
            else:
                execution.cancel()
                keeper.result()  # raises RunLeaseLost, or the Redis error that lost it
        except (RunLeaseLost, Exception) as exc:
            failures = self._retry_at.get(run_id, (0.0, 0))[1] + 1
            self._retry_at[run_id] = (time.monotonic() + min(60.0, 2.0**failures), failures)
            log.warning("run stopped; it will be resumed", run_id=str(run_id), error=repr(exc))
            await self._record_error(run_id, repr(exc))
        finally:
            for task in (execution, keeper):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.gather(execution, keeper, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.shield(lease.release())
            self._runs.pop(run_id, None)

    async def _record_error(self, run_id: uuid.UUID, error: str) -> None:
        with contextlib.suppress(Exception):
            async with self.sessions() as session:
                await RunRepository(session).record_delivery_error(run_id, error)
                await session.commit()


def _trace_carrier(payload: Any) -> dict[str, str] | None:
    """The trace context an outbox message carries, if it is well formed."""
    trace = payload.get("trace") if isinstance(payload, dict) else None
    if isinstance(trace, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in trace.items()
    ):
        return trace
    return None
