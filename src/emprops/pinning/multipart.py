"""A streamed multipart/form-data body: files are read chunk by chunk while the request goes
out, one file open at a time, so a folder of 10,000 images needs neither 10,000 open files nor
the whole folder in memory. The length is known up front (Content-Length, no chunked upload)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FormPart:
    """A form field: `path` (streamed from disk) or `data` (small, in memory)."""

    name: str
    filename: str | None = None
    path: Path | None = None
    data: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartBody:
    def __init__(self, parts: Sequence[FormPart], boundary: str | None = None) -> None:
        self.parts = list(parts)
        self.boundary = boundary or uuid.uuid4().hex
        self._heads = [self._head(part) for part in self.parts]
        self._tail = f"--{self.boundary}--\r\n".encode()
        self.content_length = sum(
            len(head) + part.size() + 2 for head, part in zip(self._heads, self.parts, strict=True)
        ) + len(self._tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, "Content-Length": str(self.content_length)}

    def _head(self, part: FormPart) -> bytes:
        disposition = f'form-data; name="{_quote(part.name)}"'
        if part.filename is not None:
            disposition += f'; filename="{_quote(part.filename)}"'
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if part.content_type:
            lines.append(f"Content-Type: {part.content_type}")
        lines.extend(f"{key}: {value}" for key, value in part.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def stream(self, on_bytes: Callable[[int], None] | None = None) -> AsyncIterator[bytes]:
        """The body; `on_bytes` hears how many bytes of files on disk went out (progress)."""
        for head, part in zip(self._heads, self.parts, strict=True):
            yield head
            if part.path is None:
                yield part.data  # form fields: not counted as file bytes
            else:
                stream = await asyncio.to_thread(open, part.path, "rb")
                try:
                    while chunk := await asyncio.to_thread(stream.read, _CHUNK):
                        yield chunk
                        if on_bytes is not None:
                            on_bytes(len(chunk))
                finally:
                    stream.close()
            yield b"\r\n"
        yield self._tail
