"""The Studio in a real browser: the app served by uvicorn on a free port (SQLite file, the real
Redis on a queue of its own), real workers in this process (the layers renderer on the demo's
art, echo, publish), and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from emprops.api.app import create_app
from emprops.api.state import AppState
from emprops.auth.repository import AuthRepository
from emprops.auth.schemas import ApiKeyCreate
from emprops.auth.service import AuthService
from emprops.core.settings import Settings
from emprops.demo.art import ensure_layers
from emprops.publishing.connector import PublishConnector
from emprops.storage import open_blob_store
from emprops.worker.connectors.echo import EchoConnector
from emprops.worker.connectors.render import RenderConnector
from tests.api.generation_world import running_worker
from tests.chain.service_world import stop_node
from tests.conftest import REDIS_URL
from tests.strict import need

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TOKENS = 6


@dataclass
class StudioUser:
    user_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


@dataclass
class StudioWorld:
    base_url: str
    settings: Settings
    state: AppState
    assets: Path
    http: httpx.AsyncClient

    async def new_user(self, name: str, *, admin: bool = False) -> StudioUser:
        async with self.state.sessions() as session:
            service = AuthService(AuthRepository(session), self.state.secret, self.settings)
            user = await service.create_user(name, is_admin=admin)
            scopes: Any = ["read", "write", "admin"] if admin else ["read", "write"]
            key = await service.create_api_key(user, ApiKeyCreate(name="studio", scopes=scopes))
            await session.commit()
        return StudioUser(user_id=str(user.id), api_key=key.token)


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """A screenshot for docs/screenshots/ (what a person sees, kept with the code)."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def studio(tmp_path: Path, queue_name: str) -> AsyncIterator[StudioWorld]:
    """The app on a real socket (its address known before it starts, for Sign-In with
    Ethereum's domain), with the renderer's art drawn under `assets`."""
    sock = _free_socket()
    host, port = sock.getsockname()
    base = f"http://{host}:{port}"
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'studio.sqlite'}",
        redis_url=REDIS_URL,
        queue_name=queue_name,
        secret_key="studio-secret-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        rate_limit="100000/minute",
        siwe_domain=f"{host}:{port}",
        siwe_uri=base,
    )
    assets = tmp_path / "assets"
    await asyncio.to_thread(ensure_layers, assets, TOKENS, 160)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                yield StudioWorld(base, settings, app.state.emprops, assets, http)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)
            sock.close()
            await asyncio.to_thread(stop_node, settings.data_dir)  # the embedded chain, if started


def studio_workers(world: StudioWorld):  # type: ignore[no-untyped-def]
    """One real worker on the Studio's queue: the layers renderer (one process), echo, and
    publish (package, deploy and mint on the embedded chain)."""
    store = open_blob_store(None, data_dir=world.settings.data_dir, cdn_url=None)
    connectors = {
        "render": RenderConnector({"assets_root": str(world.assets), "processes": 1}, store=store),
        "echo": EchoConnector(),
        "publish": PublishConnector(store=store, settings=world.settings),
    }
    return running_worker(world.settings, connectors, concurrency=3)  # type: ignore[arg-type]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    need(
        await asyncio.to_thread(CHROMIUM.is_file),
        f"browser tests need {CHROMIUM}: apt-get install chromium (.ci/run does)",
    )
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1440, "height": 960})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        await ctx.close()
