"""The worker's heartbeat: a thread with its own connection, so a handler that hogs the event loop
cannot starve the lease. Each beat renews the leases, reports liveness, and runs the (idempotent)
reaper and delayed-job promotion for the whole queue.

Any Redis error (unreachable, timed out, or an error reply such as `OOM command not allowed` or
`READONLY`) is Redis unavailable: logged, retried after a jittered backoff, never fatal. Each
attempt is bounded (its own socket timeout, no redis-py retries) so the thread reports progress
(`last_tick`) at least every lease; the runtime watches that, and `alive`, to notice a thread that
died or hangs anyway."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
import structlog

from emprops.core.redis_connection import RedisEndpoint
from emprops.queue.broker import BrokerConfig, JobLease, heartbeat_call
from emprops.queue.keys import QueueKeys
from emprops.queue.models import WorkerCapabilities
from emprops.queue.scripts import ScriptName, script_source

log = structlog.get_logger(__name__)


class HeartbeatThread(threading.Thread):
    def __init__(
        self,
        endpoint: RedisEndpoint,
        config: BrokerConfig,
        caps: WorkerCapabilities,
        leases: Callable[[], list[JobLease]],
        on_lost: Callable[[list[str]], None],
        period_s: float,
    ) -> None:
        super().__init__(name=f"heartbeat-{caps.worker_id}", daemon=True)
        self._endpoint, self._config, self._caps = endpoint, config, caps
        self._leases, self._on_lost, self._period = leases, on_lost, period_s
        self._stop_event = threading.Event()
        self._keys = QueueKeys(config.queue)
        self.status = "idle"
        self.last_tick = time.monotonic()  # when an attempt (beating or failing) last ended
        self.beats = 0  # successful beats

    @property
    def stale_after_s(self) -> float:
        """No attempt ending for this long means the thread is stuck: its leases are gone."""
        return self._config.lease_ms / 1000 + self._period

    def stalled(self) -> bool:
        return not self.is_alive() or time.monotonic() - self.last_tick > self.stale_after_s

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        # Each command gives up within half a lease (connect and reply a quarter each), and
        # redis-py does not retry: this loop does, so `last_tick` keeps moving while Redis is down.
        timeout = min(5.0, max(0.05, self._config.lease_ms / 4000))
        client = self._endpoint.sync_client(socket_timeout_s=timeout, retries=0)
        scripts = {
            name: client.register_script(script_source(name))
            for name in (
                ScriptName.HEARTBEAT,
                ScriptName.REQUEUE_EXPIRED,
                ScriptName.PROMOTE_DELAYED,
            )
        }
        backoff = 0.05
        try:
            while not self._stop_event.is_set():
                wait = self._period
                try:
                    self._beat(scripts)
                    self.beats += 1
                    backoff = 0.05
                except (redis.RedisError, OSError) as exc:
                    # Back off, with jitter, but never beyond the period: the leases need us.
                    wait = min(self._period, backoff) * random.uniform(0.5, 1.0)
                    backoff *= 2
                    log.warning("heartbeat failed; Redis unavailable, retrying", error=str(exc),
                                error_type=type(exc).__name__, retry_in=round(wait, 3))  # fmt: skip
                self.last_tick = time.monotonic()
                self._stop_event.wait(wait)
        except Exception:  # a bug: the runtime sees the thread gone and stops the worker
            log.exception("heartbeat thread died")
        finally:
            client.close()

    def _beat(self, scripts: dict[ScriptName, Any]) -> None:
        keys, args = heartbeat_call(
            self._keys, self._config, self._caps, self._leases(), self.status
        )
        lost = scripts[ScriptName.HEARTBEAT](keys=keys, args=[self._keys.prefix, *args])
        if lost:
            self._on_lost([x.decode() if isinstance(x, bytes) else x for x in lost])
        prefix = self._keys.prefix
        scripts[ScriptName.REQUEUE_EXPIRED](
            keys=[self._keys.active, self._keys.dead],
            args=[prefix, 100, self._config.exclude_failed_worker_ms, self._config.keep_failed_ms],
        )
        scripts[ScriptName.PROMOTE_DELAYED](keys=[self._keys.delayed], args=[prefix, 100])
