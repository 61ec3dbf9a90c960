"""Who runs a run: a Redis lease, so several API processes can resume runs without running one
twice. The holder renews it; if the holder dies, the lease lapses and another process takes the
run over (the engine resumes from the journal; job ids are deterministic, so nothing reruns)."""

from __future__ import annotations

import asyncio
import secrets
import uuid

from emprops.core.redis_connection import AsyncRedis
from emprops.generations.keys import runner_key

# Renew or release only while the lease is still ours (compare-and-set on the token).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RunLeaseLost(Exception):
    """Another process holds the run now: this one must stop running it."""


class RunLease:
    def __init__(self, redis: AsyncRedis, run_id: uuid.UUID, ttl_s: float) -> None:
        self.redis, self.key = redis, runner_key(run_id)
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.token = secrets.token_hex(12)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        return bool(await self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.token])

    async def keep(self) -> None:
        """Renew at a third of the lease time until cancelled; raise once the lease is lost."""
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            if not await self.renew():
                raise RunLeaseLost(self.key)
