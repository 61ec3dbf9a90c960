"""The worker: pulls the best job it can run, runs it with a connector, reports back.

Idle workers block on a pub/sub wake-up (bounded wait), so a new job starts within milliseconds
without polling. Leases are renewed by a separate heartbeat thread. On SIGTERM the worker stops
claiming, lets running jobs finish for a grace period, then hands the rest back.

Each job runs under a `job` span continuing the trace its submitter put in the job (a child
`connector` span around the work), with `job_id` bound for every log line; its wait, duration
and failures are added to the queue's shared job metrics every heartbeat.

Any Redis error (unreachable, timed out, or an error reply: `OOM command not allowed`, `READONLY`)
means Redis is unavailable for now: logged, retried after a jittered backoff, never fatal. The
heartbeat thread is supervised: if it dies, or stops beating for longer than a lease, the worker
stops claiming, hands its jobs back and `run` raises HeartbeatLostError (the process exits
non-zero) instead of running on invisibly. Control messages are validated; bad ones are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis
import redis.asyncio
import structlog
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from pydantic import BaseModel, ConfigDict, ValidationError

from emprops.core.redis_connection import RedisEndpoint
from emprops.core.tracing import span_from_carrier, start_span
from emprops.observability.job_metrics import JobMetricsRecorder
from emprops.queue.broker import Broker, BrokerConfig, ClaimedJob, JobLease
from emprops.queue.errors import LeaseLostError
from emprops.queue.keys import QueueKeys
from emprops.queue.models import Job, WorkerCapabilities
from emprops.worker.connector import Connector, JobFailure
from emprops.worker.heartbeat import HeartbeatThread

log = structlog.get_logger(__name__)

# Redis unavailable: unreachable, timed out, or answering errors (OOM, READONLY, ...).
_REDIS_DOWN = (redis.RedisError, OSError)


class HeartbeatLostError(RuntimeError):
    """The heartbeat thread died or stopped beating: the worker stopped rather than run on with
    leases nobody renews (its jobs would be reaped and run twice) and no reaper."""


class ControlMessage(BaseModel):
    """What may arrive on a worker's control channel."""

    model_config = ConfigDict(extra="ignore")
    cancel: str | None = None


def _jittered(seconds: float) -> float:
    return seconds * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 1
    heartbeat_s: float = 2.0
    idle_wait_s: float = 5.0
    shutdown_grace_s: float = 30.0
    progress_interval_s: float = 0.1  # progress updates closer together than this are coalesced


class _Progress:
    """Coalesces a connector's progress calls: at most one Redis write per interval."""

    def __init__(self, broker: Broker, lease: JobLease, interval_s: float) -> None:
        self._broker, self._lease, self._interval = broker, lease, interval_s
        self._last = 0.0

    async def __call__(self, percent: float, message: str = "") -> None:
        now = time.monotonic()
        if percent < 100 and now - self._last < self._interval:
            return
        self._last = now
        try:
            await self._broker.progress(self._lease, max(0.0, min(100.0, float(percent))), message)
        except LeaseLostError:
            raise asyncio.CancelledError("lease lost") from None
        except _REDIS_DOWN as exc:
            log.warning("progress not recorded", job_id=self._lease.job_id, error=str(exc))


class WorkerRuntime:
    def __init__(
        self,
        endpoint: RedisEndpoint,
        config: BrokerConfig,
        caps: WorkerCapabilities,
        connectors: dict[str, Connector],
        options: WorkerOptions | None = None,
    ) -> None:
        missing = set(caps.services) - set(connectors)
        if missing:
            raise ValueError(f"no connector for advertised services: {sorted(missing)}")
        self.endpoint, self.config, self.caps = endpoint, config, caps
        self.connectors = connectors
        self.options = options or WorkerOptions()
        self._running: dict[str, tuple[asyncio.Task[None], JobLease, Job]] = {}
        self._cancelled: set[str] = set()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._heartbeat_lost = False
        self.completed = 0
        self.metrics = JobMetricsRecorder()

    def request_stop(self) -> None:
        """Stop claiming and shut down gracefully (safe to call from a signal handler)."""
        self._stopping.set()
        self._wake.set()

    # --- the main loop ----------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        client = self.endpoint.async_client()
        broker = Broker(client, self.config)
        for connector in self.connectors.values():
            await connector.start()
        heartbeat = HeartbeatThread(
            self.endpoint, self.config, self.caps, self._leases, self._lost_from_thread,
            self.options.heartbeat_s,
        )  # fmt: skip
        heartbeat.start()
        listener = asyncio.create_task(self._listen(client))
        flusher = asyncio.create_task(self._flush_metrics_every(client, broker.keys.metrics))
        watchdog = asyncio.create_task(self._watch_heartbeat(heartbeat))
        log.info("worker started", worker_id=self.caps.worker_id, services=self.caps.services)
        try:
            await self._claim_loop(broker, heartbeat)
        finally:
            # Without a heartbeat the leases lapse: hand the jobs back now, do not finish them.
            await self._shutdown(broker, grace_s=0 if self._heartbeat_lost else None)
            heartbeat.stop()
            for task in (listener, flusher, watchdog):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, *_REDIS_DOWN):
                    await task
            with contextlib.suppress(*_REDIS_DOWN):
                await self.metrics.flush(client, broker.keys.metrics)
            await asyncio.to_thread(heartbeat.join, 0.5 if self._heartbeat_lost else 5)
            for connector in self.connectors.values():
                await connector.close()
            await client.aclose()
            log.info("worker stopped", worker_id=self.caps.worker_id, completed=self.completed)
        if self._heartbeat_lost:
            raise HeartbeatLostError(f"worker {self.caps.worker_id}: heartbeat lost")

    async def _watch_heartbeat(self, heartbeat: HeartbeatThread) -> None:
        while not self._stopping.is_set():
            if heartbeat.stalled():
                log.error(
                    "heartbeat lost; stopping the worker",
                    alive=heartbeat.is_alive(),
                    silent_s=round(time.monotonic() - heartbeat.last_tick, 3),
                )
                self._heartbeat_lost = True
                self.request_stop()
                return
            await asyncio.sleep(min(self.options.heartbeat_s, 0.25))

    async def _claim_loop(self, broker: Broker, heartbeat: HeartbeatThread) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            free = self.options.concurrency - len(self._running)
            if free <= 0:
                await self._wait(self.options.idle_wait_s)
                continue
            if heartbeat.stalled():  # the watchdog is about to stop us: claim nothing more
                await self._wait(0.05)
                continue
            self._wake.clear()
            try:
                result = await broker.claim(self.caps, count=free)
            except _REDIS_DOWN as exc:
                wait = _jittered(backoff)
                log.warning("claim failed; Redis unavailable", error=str(exc),
                            error_type=type(exc).__name__, retry_in=round(wait, 3))  # fmt: skip
                await self._wait(wait)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            for claimed in result.jobs:
                self._start(broker, claimed)
            heartbeat.status = "busy" if self._running else "idle"
            if result.jobs:
                continue
            wait = self.options.idle_wait_s
            if result.next_delayed_at_ms is not None:
                # The heartbeat thread promotes due retries; wake up in time to claim them.
                wait = min(wait, max(0.01, result.next_delayed_at_ms / 1000 - time.time() + 0.01))
            await self._wait(wait)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _listen(self, client: redis.asyncio.Redis | Any) -> None:
        """Wake-ups for new work and cancellations for running jobs, over pub/sub."""
        keys = QueueKeys(self.config.queue)
        control = keys.control_channel(self.caps.worker_id).encode()
        services = {s.encode() for s in self.caps.services}
        backoff = 0.05
        while True:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.wake_channel, control.decode())
                self._wake.set()  # anything published while we were not listening
                backoff = 0.05
                async for message in pubsub.listen():
                    if message["channel"] == control:
                        self._control(message["data"])
                    elif message["data"] in services:
                        self._wake.set()
            except _REDIS_DOWN as exc:
                wait = _jittered(backoff)
                log.warning("control listener lost Redis; resubscribing", error=str(exc),
                            error_type=type(exc).__name__, retry_in=round(wait, 3))  # fmt: skip
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(*_REDIS_DOWN):
                    await pubsub.aclose()

    def _control(self, data: Any) -> None:
        """One control message; a malformed one is ignored (it must not stop the listener)."""
        try:
            message = ControlMessage.model_validate_json(data)
        except ValidationError as exc:
            shown = data[:200] if isinstance(data, bytes | str) else type(data).__name__
            log.warning("ignored a malformed control message", data=repr(shown),
                        error=exc.errors(include_url=False)[:3])  # fmt: skip
            return
        if message.cancel:
            self._cancel_job(message.cancel)

    async def _flush_metrics_every(self, client: Any, key: str) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat_s)
            try:
                await self.metrics.flush(client, key)
            except _REDIS_DOWN as exc:  # kept for the next round
                log.warning("job metrics not flushed; Redis unreachable", error=str(exc))

    # --- jobs -------------------------------------------------------------------------------

    def _leases(self) -> list[JobLease]:
        return [lease for _, lease, _ in list(self._running.values())]

    def _lost_from_thread(self, job_ids: list[str]) -> None:
        if self._loop is not None:
            for job_id in job_ids:
                self._loop.call_soon_threadsafe(self._cancel_job, job_id)

    def _cancel_job(self, job_id: str) -> None:
        entry = self._running.get(job_id)
        if entry is not None and not entry[0].done():
            log.info("job cancelled or lost; stopping it", job_id=job_id)
            self._cancelled.add(job_id)
            entry[0].cancel()

    def _start(self, broker: Broker, claimed: ClaimedJob) -> None:
        task = asyncio.create_task(self._run_job(broker, claimed))
        self._running[claimed.job.id] = (task, claimed.lease, claimed.job)
        task.add_done_callback(functools.partial(self._finished, claimed.job.id))

    def _finished(self, job_id: str, _task: asyncio.Task[None]) -> None:
        self._running.pop(job_id, None)
        self._cancelled.discard(job_id)
        self._wake.set()

    async def _run_job(self, broker: Broker, claimed: ClaimedJob) -> None:
        job, lease = claimed.job, claimed.lease
        service = job.service_required
        if lease.attempt == 1 and job.created_at is not None and job.assigned_at is not None:
            self.metrics.observe_wait(service, (job.assigned_at - job.created_at).total_seconds())
        # This task's own context: what is bound here is on every log line of this job only.
        structlog.contextvars.bind_contextvars(
            job_id=job.id, service=service, attempt=lease.attempt
        )
        started = time.monotonic()
        outcome = "released"  # unless it ends otherwise: shutdown handed it back
        attributes = {
            "emprops.job.id": job.id,
            "emprops.job.service": service,
            "emprops.job.attempt": lease.attempt,
            "emprops.worker.id": self.caps.worker_id,
            "messaging.system": "emprops",
            "messaging.operation.type": "process",
            "messaging.message.id": job.id,
        }
        with span_from_carrier(
            f"job {service}", job.trace, kind=SpanKind.CONSUMER, attributes=attributes
        ) as span:
            try:
                outcome = await self._attempt(broker, claimed, span)
            finally:
                self.metrics.observe_run(service, outcome, time.monotonic() - started)
                if span is not None:
                    span.set_attribute("emprops.job.outcome", outcome)
                    if outcome in ("retrying", "failed"):
                        span.set_status(Status(StatusCode.ERROR, outcome))

    async def _attempt(self, broker: Broker, claimed: ClaimedJob, span: Span | None) -> str:
        """Run the connector and report; returns what became of the attempt (see OUTCOMES)."""
        job, lease = claimed.job, claimed.lease
        connector = self.connectors[job.service_required]
        progress = _Progress(broker, lease, self.options.progress_interval_s)
        bound = log.bind(job_id=job.id, attempt=lease.attempt, service=job.service_required)
        error_class = ""
        try:
            with start_span(
                f"connector {job.service_required}",
                attributes={"emprops.connector": type(connector).__name__},
            ):
                result = await asyncio.wait_for(connector.process(job, progress), job.timeout_s)
            orjson.dumps(result)
        except asyncio.CancelledError:
            if job.id in self._cancelled:
                await connector.cancel(job)
                bound.info("job stopped: cancelled or lease lost")
                return "cancelled"  # the broker already moved it; nothing to report
            raise  # shutdown: _shutdown releases it
        except TimeoutError:
            error_class = "Timeout"
            outcome = await self._report_failure(
                bound, broker, lease, f"timed out after {job.timeout_s} s", retryable=True
            )
            await connector.cancel(job)
        except JobFailure as exc:
            error_class = type(exc).__name__
            bound.info("job failed", error=exc.message, retryable=exc.retryable)
            outcome = await self._report_failure(
                bound, broker, lease, exc.message, retryable=exc.retryable, details=exc.details
            )
        except TypeError as exc:
            error_class = "ResultNotJSON"
            reason = f"result is not JSON: {exc}"
            outcome = await self._report_failure(bound, broker, lease, reason, retryable=False)
        except Exception as exc:  # an unexpected bug in a connector: retry, the next may succeed
            error_class = type(exc).__name__
            bound.exception("connector raised")
            reason = f"{type(exc).__name__}: {exc}"
            outcome = await self._report_failure(bound, broker, lease, reason, retryable=True)
        else:
            delivered, answer = await self._report(
                bound, "queue.complete", lambda: broker.complete(lease, result)
            )
            if delivered:
                self.completed += 1
                return "completed"
            return str(answer)
        self.metrics.count_failure(job.service_required, error_class)
        if span is not None:
            span.set_attribute("error.type", error_class)
        return outcome

    async def _report_failure(
        self,
        bound: Any,
        broker: Broker,
        lease: JobLease,
        reason: str,
        *,
        retryable: bool,
        details: dict[str, Any] | None = None,
    ) -> str:
        _, outcome = await self._report(
            bound,
            "queue.fail",
            lambda: broker.fail(lease, reason, retryable=retryable, details=details),
        )
        return str(outcome)  # retrying | failed, or why it was not reported

    async def _report(
        self, bound: Any, name: str, call: Callable[[], Awaitable[Any]]
    ) -> tuple[bool, Any]:
        """Deliver a final report, retrying while Redis is unreachable; the lease decides when to
        give up (after it expires the reaper has requeued the job and the broker refuses us).
        Returns (True, the broker's answer), or (False, "lease_lost" | "unreported")."""
        deadline = time.monotonic() + max(self.config.lease_ms / 1000 * 5, 30)
        warned = False
        with start_span(name, kind=SpanKind.CLIENT):
            while True:
                try:
                    return True, await call()
                except LeaseLostError as exc:
                    bound.warning("result refused: lease lost", error=exc.message)
                    return False, "lease_lost"
                except _REDIS_DOWN as exc:
                    if time.monotonic() > deadline:
                        bound.error("could not report result; Redis unavailable", error=str(exc))
                        return False, "unreported"
                    if not warned:  # once per report, not every retry
                        warned = True
                        bound.warning("report failed; Redis unavailable, retrying",
                                      error=str(exc), error_type=type(exc).__name__)  # fmt: skip
                    await asyncio.sleep(_jittered(0.2))

    async def _shutdown(self, broker: Broker, grace_s: float | None = None) -> None:
        if not self._running:
            return
        grace = self.options.shutdown_grace_s if grace_s is None else grace_s
        log.info("waiting for running jobs", count=len(self._running), grace_s=grace)
        tasks = [task for task, _, _ in self._running.values()]
        pending = set(tasks)
        if grace > 0:
            _, pending = await asyncio.wait(tasks, timeout=grace)
        leases = [lease for task, lease, _ in list(self._running.values()) if task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for lease in leases:
            with contextlib.suppress(LeaseLostError, *_REDIS_DOWN):
                await broker.release(lease)
                log.info("released unfinished job", job_id=lease.job_id)
