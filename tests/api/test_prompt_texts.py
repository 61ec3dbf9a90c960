"""The API's reader of the `.txt` URLs prompts inline: the blob store's own files are read through
the store; anything else goes out through the outbound client, which never reaches loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emprops.generations.text_reader import blob_text_reader
from emprops.storage import open_blob_store
from emprops.worker.connector import PermanentJobError


async def test_a_store_url_is_read_through_the_store(tmp_path: Path) -> None:
    store = open_blob_store(None, data_dir=tmp_path, cdn_url=None)
    blob = await store.put("generations/u/r/0/1/caption.txt", b"a quiet dawn")
    assert await blob_text_reader(store)(blob.url) == "a quiet dawn"


async def test_a_loopback_url_is_refused_and_nothing_reaches_it(tmp_path: Path) -> None:
    hits: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(await reader.read(100))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        store = open_blob_store(None, data_dir=tmp_path, cdn_url=None)
        with pytest.raises(PermanentJobError, match="loopback"):
            await blob_text_reader(store)(f"http://127.0.0.1:{port}/secret.txt")
    finally:
        server.close()
        await server.wait_closed()
    assert hits == []
