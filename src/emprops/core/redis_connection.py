"""Where Redis is: a configured URL (standalone or Cluster) or the embedded server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import NoBackoff
from redis.retry import Retry

from emprops.core.embedded_redis import EmbeddedRedis
from emprops.core.settings import Settings

AsyncRedis = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster
SyncRedis = redis.Redis | redis.cluster.RedisCluster

DEFAULT_SOCKET_TIMEOUT_S = 5.0  # redis-py 8's default when a client names none


def socket_timeout_s(client: Any) -> float | None:
    """How long `client` waits on a reply before it gives up (None: forever)."""
    for holder in (
        getattr(client, "connection_pool", None),
        getattr(client, "nodes_manager", None),
    ):
        kwargs = getattr(holder, "connection_kwargs", None)
        if isinstance(kwargs, dict) and "socket_timeout" in kwargs:
            timeout = kwargs["socket_timeout"]
            return None if timeout is None else float(timeout)
    return DEFAULT_SOCKET_TIMEOUT_S


def blocking_ms(client: Any, block_ms: int) -> int:
    """A blocking read's `block` (XREAD BLOCK) that ends well before `client`'s socket timeout:
    a follower idle for longer than the socket timeout loops instead of dying of TimeoutError.
    Every blocking read goes through this; 0 (block forever) is clamped too."""
    timeout = socket_timeout_s(client)
    if timeout is None:
        return block_ms
    margin = min(1.0, timeout / 2)  # room for the reply to arrive after the block ends
    ceiling = max(1, int((timeout - margin) * 1000))
    return ceiling if block_ms <= 0 else min(block_ms, ceiling)


@dataclass
class RedisEndpoint:
    url: str
    cluster: bool = False
    embedded: EmbeddedRedis | None = None

    def async_client(self) -> AsyncRedis:
        if self.cluster:
            return redis.asyncio.cluster.RedisCluster.from_url(self.url)
        return redis.asyncio.Redis.from_url(self.url, health_check_interval=30)

    def sync_client(
        self, *, socket_timeout_s: float | None = None, retries: int | None = None
    ) -> SyncRedis:
        """A synchronous client; `socket_timeout_s` bounds each connect and reply, `retries` how
        often redis-py itself retries a command that met a connection error (0: the caller
        retries, as the heartbeat does, so one attempt never outlasts a lease)."""
        kwargs: dict[str, Any] = {}
        if socket_timeout_s is not None:
            kwargs["socket_timeout"] = kwargs["socket_connect_timeout"] = socket_timeout_s
        if retries is not None:
            kwargs["retry"] = Retry(NoBackoff(), retries)
        if self.cluster:
            return redis.cluster.RedisCluster.from_url(self.url, **kwargs)
        return redis.Redis.from_url(self.url, health_check_interval=30, **kwargs)


def open_endpoint(settings: Settings) -> RedisEndpoint:
    """Resolve the endpoint, starting the embedded server when no URL is configured."""
    if settings.redis_url:
        return RedisEndpoint(url=settings.redis_url, cluster=settings.redis_cluster)
    embedded = EmbeddedRedis(settings.data_dir, settings.redis_server_bin)
    return RedisEndpoint(url=embedded.acquire(), embedded=embedded)


def close_endpoint(endpoint: RedisEndpoint) -> None:
    """Let go of the embedded server (stopped when the last process lets go)."""
    if endpoint.embedded is not None:
        endpoint.embedded.release()


@contextmanager
def redis_endpoint(settings: Settings) -> Iterator[RedisEndpoint]:
    endpoint = open_endpoint(settings)
    try:
        yield endpoint
    finally:
        close_endpoint(endpoint)
