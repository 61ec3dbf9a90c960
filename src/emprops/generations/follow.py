"""Following a run's events: the ones after a resume point, then live ones, until the run ends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.core.redis_connection import blocking_ms
from emprops.generations.events import RunEvent, RunEventLog
from emprops.generations.repository import FINISHED, RunRepository


async def _finished(sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID) -> bool:
    async with sessions() as session:
        run = await RunRepository(session).run(run_id)
    return run is None or run.status in FINISHED


async def follow_run(
    events: RunEventLog,
    sessions: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    after: str = "0-0",
    *,
    idle_ms: int = 5_000,
) -> AsyncIterator[RunEvent]:
    """Every event after `after`, then live ones; stops after the terminal event, or when the
    run has ended and no event is left (a terminal event lost to a crash does not hang it)."""
    while True:
        # Blocked no longer than the client's socket timeout allows: idle is not an error.
        batch = await events.read(run_id, after, block_ms=blocking_ms(events.redis, idle_ms))
        if not batch:
            if not await _finished(sessions, run_id):
                continue
            batch = await events.read(run_id, after)
            if not batch:
                return
        for event in batch:
            yield event
            after = event.id
            if event.terminal:
                return
