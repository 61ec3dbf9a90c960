"""Pinning test servers on loopback ports, and a small package-like folder to upload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emprops.pinning import RetryPolicy
from tests.protocol_servers.live_server import serve
from tests.protocol_servers.pinning_servers import KuboServer, PinataServer, PsaServer

FAST = RetryPolicy(attempts=4, base_s=0.01, max_s=0.05, max_retry_after_s=5)


@pytest.fixture
async def kubo() -> AsyncIterator[tuple[KuboServer, str]]:
    server = KuboServer()
    async with serve(server.app) as url:
        yield server, url


@pytest.fixture
async def pinata() -> AsyncIterator[tuple[PinataServer, str]]:
    server = PinataServer()
    async with serve(server.app) as url:
        yield server, url


@pytest.fixture
async def psa() -> AsyncIterator[tuple[PsaServer, str]]:
    server = PsaServer()
    async with serve(server.app) as url:
        yield server, url


def make_folder(root: Path, count: int = 8, *, size: int = 3000, salt: str = "") -> Path:
    """`count` files of distinct bytes, one of them bigger than a chunk (a multi-block file)."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        length = 300_000 if i == 0 else size + i
        seed = f"{salt}{i}".encode()
        data = (seed * (length // len(seed) + 1))[:length]
        (root / f"{i}.png").write_bytes(data)
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "images")
