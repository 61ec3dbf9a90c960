"""TCP servers that do not speak HTTP: one answers with garbage and hangs up, one never answers.
They show that connectors classify nonsense and never wait forever."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

GARBAGE = b"\x00\x17SSH-2.0-not-what-you-expected\r\n\xff\xfe garbage \x01\x02\r\n\r\n"


@contextlib.asynccontextmanager
async def tcp_server(mode: str) -> AsyncIterator[str]:
    """`mode` is "garbage" (write junk, close) or "silent" (read, never answer)."""
    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            if mode == "garbage":
                await reader.read(65536)
                writer.write(GARBAGE)
                await writer.drain()
            else:
                while await reader.read(65536):
                    pass
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            writers.discard(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in list(writers):
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)
