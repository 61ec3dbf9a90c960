"""Readiness: can this API process serve? Redis and the database always, plus any checks other
parts register (the chain service adds its RPC) as named async callables on
`app.state.readiness_checks`. A check passes by returning and fails by raising; each has a time
limit, and all run at once so one slow dependency costs one timeout, not the sum.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import text

from emprops.api.state import AppState


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    check: Callable[[], Awaitable[object]]


class CheckResult(BaseModel):
    name: str
    ok: bool
    duration_ms: float
    error: str | None = None


def builtin_checks(state: AppState) -> list[ReadinessCheck]:
    async def redis() -> None:
        await state.redis.ping()

    async def database() -> None:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return [ReadinessCheck("redis", redis), ReadinessCheck("database", database)]


async def run_checks(checks: Sequence[ReadinessCheck], timeout_s: float) -> list[CheckResult]:
    return list(await asyncio.gather(*(_run_one(c, timeout_s) for c in checks)))


async def _run_one(check: ReadinessCheck, timeout_s: float) -> CheckResult:
    started = time.perf_counter()
    error: str | None = None
    try:
        await asyncio.wait_for(check.check(), timeout_s)
    except TimeoutError:
        error = f"no answer within {timeout_s:g} s"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    return CheckResult(
        name=check.name,
        ok=error is None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        error=error,
    )
