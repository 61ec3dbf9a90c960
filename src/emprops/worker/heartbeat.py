"""The worker's heartbeat: a thread with its own connection, so a handler that hogs the event loop
cannot starve the lease. Each beat renews the leases, reports liveness, and runs the (idempotent)
reaper and delayed-job promotion for the whole queue."""

from __future__ import annotations

import threading
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

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        client = self._endpoint.sync_client()
        scripts = {
            name: client.register_script(script_source(name))
            for name in (
                ScriptName.HEARTBEAT,
                ScriptName.REQUEUE_EXPIRED,
                ScriptName.PROMOTE_DELAYED,
            )
        }
        try:
            while not self._stop_event.is_set():
                try:
                    self._beat(scripts)
                except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                    log.warning("heartbeat failed; retrying", error=str(exc))
                self._stop_event.wait(self._period)
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
