"""Annotated dependencies routes declare: the unit of work, the state, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.api.state import AppState
from emprops.core.errors import EmpropsError
from emprops.queue.broker import Broker


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.emprops
    return state


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: services never commit; this commits once the route returned,
    before the response is sent (so a failed commit is an error, not a lie), or rolls back."""
    async with get_state(request).sessions() as session:
        try:
            yield session
            await session.commit()
        except EmpropsError as exc:
            await (session.commit() if exc.keep_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise


State = Annotated[AppState, Depends(get_state)]
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


def get_broker(request: Request) -> Broker:
    return get_state(request).broker


BrokerDep = Annotated[Broker, Depends(get_broker)]
