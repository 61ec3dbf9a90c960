"""What the API process holds for its lifetime: database, Redis, broker, settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from emprops.core.redis_connection import AsyncRedis, RedisEndpoint
from emprops.core.settings import Settings
from emprops.queue.broker import Broker


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis_endpoint: RedisEndpoint
    redis: AsyncRedis
    broker: Broker
    secret: bytes  # signs JWTs and keys API-key HMACs
