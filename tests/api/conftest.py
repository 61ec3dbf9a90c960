"""The API on a real database (SQLite file and PostgreSQL, every test on both) and real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from emprops.api.app import create_app
from emprops.api.state import AppState
from emprops.auth.repository import AuthRepository
from emprops.auth.schemas import ApiKeyCreate
from emprops.auth.service import AuthService
from emprops.core.settings import Settings
from tests.conftest import REDIS_URL


@pytest.fixture
def api_settings(database_url: str, queue_name: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        redis_url=REDIS_URL,
        queue_name=queue_name,
        secret_key="test-secret-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        rate_limit="10000/minute",
    )


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.emprops
        return state

    async def new_user(
        self, name: str = "user", *, admin: bool = False, scopes: list[str] | None = None
    ) -> dict[str, str]:
        """A user and an API key for it, as request headers."""
        async with self.state.sessions() as session:
            service = AuthService(AuthRepository(session), self.state.secret, self.state.settings)
            user = await service.create_user(name, is_admin=admin)
            key = await service.create_api_key(
                user,
                ApiKeyCreate(
                    name="test",
                    scopes=scopes or (["read", "write", "admin"] if admin else ["read", "write"]),
                ),  # type: ignore[arg-type]
            )
            await session.commit()
        return {"X-API-Key": key.token, "X-User-Id": str(user.id)}


@pytest.fixture
async def api(api_settings: Settings) -> AsyncIterator[Api]:
    app = create_app(api_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(app=app, client=client)
