"""The UnixFS `Data` message carried in a dag-pb node's data field (proto2, fields in number order,
blocksizes unpacked). Mode and mtime are never written: Kubo's `ipfs add` leaves them out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from emprops.ipfs.errors import MalformedBlockError
from emprops.ipfs.protobuf import bytes_field, encode_varint, iter_fields, varint_field

MURMUR3_X64_64 = 0x22
HAMT_FANOUT = 256


class UnixFSType(IntEnum):
    RAW = 0
    DIRECTORY = 1
    FILE = 2
    METADATA = 3
    SYMLINK = 4
    HAMT_SHARD = 5


@dataclass(frozen=True, slots=True)
class UnixFSData:
    type: UnixFSType
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = ()
    hash_type: int | None = None
    fanout: int | None = None

    def encode(self) -> bytes:
        out = bytearray(varint_field(1, self.type))
        if self.data is not None:
            out += bytes_field(2, self.data)
        if self.filesize is not None:
            out += varint_field(3, self.filesize)
        for size in self.blocksizes:
            out += varint_field(4, size)
        if self.hash_type is not None:
            out += varint_field(5, self.hash_type)
        if self.fanout is not None:
            out += varint_field(6, self.fanout)
        return bytes(out)


def decode_unixfs(raw: bytes) -> UnixFSData:
    kind: UnixFSType | None = None
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    hash_type: int | None = None
    fanout: int | None = None
    for wire in iter_fields(raw, "UnixFS data"):
        match wire.number, wire.value:
            case 1, int(value):
                try:
                    kind = UnixFSType(value)
                except ValueError as exc:
                    raise MalformedBlockError(f"UnixFS data: unknown type {value}") from exc
            case 2, bytes(value):
                data = value
            case 3, int(value):
                filesize = value
            case 4, int(value):
                blocksizes.append(value)
            case 5, int(value):
                hash_type = value
            case 6, int(value):
                fanout = value
            case 7 | 8, _:
                continue  # mode / mtime: legal, but nothing we write carries them
            case number, _:
                raise MalformedBlockError(f"UnixFS data: unexpected field {number}")
    if kind is None:
        raise MalformedBlockError("UnixFS data without a type")
    return UnixFSData(kind, data, filesize, tuple(blocksizes), hash_type, fanout)


DIRECTORY_DATA = UnixFSData(UnixFSType.DIRECTORY).encode()


@lru_cache(maxsize=64)
def file_leaf_affixes(length: int) -> tuple[bytes, bytes]:
    """The dag-pb bytes around a chunk in a UnixFS `file` leaf, so the chunk is never copied:
    block = prefix + chunk + suffix."""
    size = encode_varint(length)
    if length == 0:
        unixfs = b"\x08\x02\x18\x00"  # Kubo's empty file: no data field at all
        return b"\x0a" + encode_varint(len(unixfs)) + unixfs, b""
    unixfs_len = 2 + 1 + len(size) + length + 1 + len(size)
    prefix = b"\x0a" + encode_varint(unixfs_len) + b"\x08\x02\x12" + size
    return prefix, b"\x18" + size
