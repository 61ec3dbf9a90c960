"""A TCP proxy in front of Redis that can make Redis answer errors: while `fail_with(reply)` is
set, every command a client sends is answered with that error reply (`-OOM ...`, `-READONLY ...`)
instead of reaching Redis, on connections old and new; `fail_with(None)` passes through again.
It is how a Redis at `maxmemory`, or turned into a read-only replica, looks to a client, without
touching the Redis other tests share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
READONLY = b"-READONLY You can't write against a read only replica.\r\n"


def _command_end(buffer: bytes | bytearray, start: int) -> int | None:
    """Where the RESP command that begins at `start` ends, or None while it is incomplete."""
    if buffer[start : start + 1] != b"*":  # an inline command: one line
        line_end = buffer.find(b"\r\n", start)
        return None if line_end < 0 else line_end + 2
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return None
    position = line_end + 2
    for _ in range(int(buffer[start + 1 : line_end])):
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(buffer[position + 1 : line_end])  # $<size>
        position = line_end + 2 + size + 2
        if position > len(buffer):
            return None
    return position


class RedisFaultProxy:
    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        if parts.scheme not in ("redis", "rediss") or parts.hostname is None:
            raise ValueError(f"the fault proxy needs a TCP Redis URL, not {redis_url!r}")
        self._parts = parts
        self._fault: bytes | None = None
        self.faulted = 0  # commands answered with the error reply
        self.url = ""
        self._writers: set[asyncio.StreamWriter] = set()

    def fail_with(self, reply: bytes | None) -> None:
        self._fault = reply

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self._parts.hostname, self._parts.port or 6379
            )
        except OSError:
            writer.close()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        replies = asyncio.create_task(self._pump(up_reader, writer))
        buffer = bytearray()
        try:
            while data := await reader.read(65536):
                buffer += data
                start = 0
                while (end := _command_end(buffer, start)) is not None:
                    if self._fault is not None:
                        self.faulted += 1
                        writer.write(self._fault)
                    else:
                        up_writer.write(bytes(buffer[start:end]))
                    start = end
                del buffer[:start]
                await writer.drain()
                await up_writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            up_writer.close()
            writer.close()
            replies.cancel()
            self._writers.discard(writer)
            self._writers.discard(up_writer)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RedisFaultProxy]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        netloc = f"127.0.0.1:{port}"
        if self._parts.username or self._parts.password:
            netloc = f"{self._parts.username or ''}:{self._parts.password or ''}@{netloc}"
        self.url = urlunsplit(self._parts._replace(netloc=netloc))
        try:
            yield self
        finally:
            server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
