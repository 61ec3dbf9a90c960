"""Where Redis is: a configured URL (standalone or Cluster) or the embedded server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from emprops.core.embedded_redis import EmbeddedRedis
from emprops.core.settings import Settings

AsyncRedis = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster
SyncRedis = redis.Redis | redis.cluster.RedisCluster


@dataclass
class RedisEndpoint:
    url: str
    cluster: bool = False
    embedded: EmbeddedRedis | None = None

    def async_client(self) -> AsyncRedis:
        if self.cluster:
            return redis.asyncio.cluster.RedisCluster.from_url(self.url)
        return redis.asyncio.Redis.from_url(self.url, health_check_interval=30)

    def sync_client(self) -> SyncRedis:
        if self.cluster:
            return redis.cluster.RedisCluster.from_url(self.url)
        return redis.Redis.from_url(self.url, health_check_interval=30)


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
