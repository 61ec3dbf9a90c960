"""Every Redis key and channel the broker uses, in one place.

All of them start with `emp:{queue}:` so they share one hash slot: each Lua script touches a single
slot and the broker runs unchanged on Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueKeys:
    queue: str = "default"

    @property
    def prefix(self) -> str:
        return f"emp:{{{self.queue}}}:"

    def job(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    def events(self, job_id: str) -> str:
        return f"{self.prefix}events:{job_id}"

    def pending(self, service: str) -> str:
        return f"{self.prefix}pending:{service}"

    def worker(self, worker_id: str) -> str:
        return f"{self.prefix}worker:{worker_id}"

    def workflow(self, workflow_id: str) -> str:
        return f"{self.prefix}workflow:{workflow_id}"

    @property
    def services(self) -> str:
        """Set of services that ever had pending jobs (for stats and the unworkable report)."""
        return f"{self.prefix}services"

    @property
    def active(self) -> str:
        """Claimed jobs scored by lease deadline (ms)."""
        return f"{self.prefix}active"

    @property
    def delayed(self) -> str:
        """Jobs waiting to be retried, scored by the time they become pending again (ms)."""
        return f"{self.prefix}delayed"

    @property
    def dead(self) -> str:
        """Dead letters: jobs that failed for good, scored by failure time (ms)."""
        return f"{self.prefix}dead"

    @property
    def done(self) -> str:
        """Finished jobs scored by the time their retention ends (ms), to prune the indexes."""
        return f"{self.prefix}done"

    @property
    def seq(self) -> str:
        return f"{self.prefix}seq"

    @property
    def workers(self) -> str:
        """Workers scored by their last heartbeat (ms)."""
        return f"{self.prefix}workers"

    @property
    def metrics(self) -> str:
        """Job metrics the workers add up (histogram buckets, counters); read at scrape time."""
        return f"{self.prefix}metrics"

    @property
    def wake_channel(self) -> str:
        return f"{self.prefix}wake"

    @property
    def events_channel(self) -> str:
        return f"{self.prefix}events"

    def control_channel(self, worker_id: str) -> str:
        return f"{self.prefix}control:{worker_id}"
