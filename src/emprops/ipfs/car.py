"""CARv1: a varint-framed dag-cbor header {roots, version: 1}, then varint-framed (CID, block)
sections. Blocks stream out as the importer makes them (children before parents), each once.

The root is known only at the end, so the header is written first with a same-length placeholder
CID and patched in place: the output must be a seekable file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from emprops.ipfs.cid import CID
from emprops.ipfs.errors import InvalidCidError, MalformedBlockError
from emprops.ipfs.protobuf import decode_varint, encode_varint

_ROOTS_KEY = b"\x65roots"
_VERSION_ENTRY = b"\x67version\x01"


def car_header(root: CID) -> bytes:
    """The header block with one root, in canonical dag-cbor (keys by length, then bytewise)."""
    return _header(root.binary)


def _header(root: bytes) -> bytes:
    tagged = b"\x00" + root  # CID = tag 42 over a byte string with a 0x00 multibase prefix
    cid_item = b"\xd8\x2a" + _cbor_bytes_head(len(tagged)) + tagged
    body = b"\xa2" + _ROOTS_KEY + b"\x81" + cid_item + _VERSION_ENTRY
    return encode_varint(len(body)) + body


def _cbor_bytes_head(length: int) -> bytes:
    if length < 24:
        return bytes((0x40 | length,))
    if length < 256:
        return bytes((0x58, length))
    return b"\x59" + length.to_bytes(2, "big")


class CarWriter:
    """A BlockSink writing CAR sections; identical blocks (same CID) are written once."""

    def __init__(self, stream: BinaryIO, root_length: int) -> None:
        self._stream = stream
        self._start = stream.tell()
        self._root_length = root_length
        stream.write(_header(b"\0" * root_length))
        self._seen: set[bytes] = set()
        self.blocks_written = 0

    def put(self, cid: CID, *parts: bytes | memoryview) -> None:
        key = cid.binary
        if key in self._seen:
            return
        self._seen.add(key)
        size = len(key) + sum(len(part) for part in parts)
        self._stream.write(encode_varint(size))
        self._stream.write(key)
        for part in parts:
            self._stream.write(part)
        self.blocks_written += 1

    def set_root(self, root: CID) -> None:
        if len(root.binary) != self._root_length:
            raise MalformedBlockError(
                f"CAR root {root} is {len(root.binary)} bytes, header reserved {self._root_length}"
            )
        end = self._stream.tell()
        self._stream.seek(self._start)
        self._stream.write(car_header(root))
        self._stream.seek(end)


@dataclass(frozen=True, slots=True)
class CarBlock:
    cid: CID
    data: bytes


def read_car_header(stream: BinaryIO) -> list[CID]:
    """Parse the header this module writes (one or more roots, version 1)."""
    body = _read_section(stream, "CAR header")
    if body is None:
        raise MalformedBlockError("CAR: empty file")
    if not body.startswith(b"\xa2" + _ROOTS_KEY) or not body.endswith(_VERSION_ENTRY):
        raise MalformedBlockError("CAR header is not {roots, version: 1}")
    items = body[1 + len(_ROOTS_KEY) : -len(_VERSION_ENTRY)]
    if not items or items[0] & 0xE0 != 0x80 or items[0] & 0x1F >= 24:
        raise MalformedBlockError("CAR header roots is not a short array")
    count, pos = items[0] & 0x1F, 1
    roots: list[CID] = []
    for _ in range(count):
        if items[pos : pos + 2] != b"\xd8\x2a":
            raise MalformedBlockError("CAR header root is not a tag-42 CID")
        pos += 2
        head = items[pos]
        if head == 0x58:
            length, pos = items[pos + 1], pos + 2
        elif 0x40 <= head < 0x58:
            length, pos = head - 0x40, pos + 1
        else:
            raise MalformedBlockError("CAR header root is not a byte string")
        raw = items[pos : pos + length]
        pos += length
        if not raw.startswith(b"\0"):
            raise MalformedBlockError("CAR header root lacks the identity multibase prefix")
        try:
            roots.append(CID.from_bytes(raw[1:]))
        except InvalidCidError as exc:
            raise MalformedBlockError(f"CAR header root: {exc.message}") from exc
    if pos != len(items):
        raise MalformedBlockError("CAR header: trailing bytes after the roots")
    return roots


def iter_car_blocks(stream: BinaryIO) -> Iterator[CarBlock]:
    """The sections after the header, in file order (call read_car_header first)."""
    while (section := _read_section(stream, "CAR section")) is not None:
        try:
            cid, pos = CID.read(section, 0)
        except InvalidCidError as exc:
            raise MalformedBlockError(f"CAR section: {exc.message}") from exc
        yield CarBlock(cid, section[pos:])


def _read_section(stream: BinaryIO, what: str) -> bytes | None:
    prefix = bytearray()
    while True:
        byte = stream.read(1)
        if not byte:
            if prefix:
                raise MalformedBlockError(f"{what}: truncated length prefix")
            return None
        prefix += byte
        if byte[0] < 0x80:
            break
    length, _ = decode_varint(bytes(prefix))
    body = stream.read(length)
    if len(body) != length:
        raise MalformedBlockError(f"{what}: expected {length} bytes, found {len(body)}")
    return body
