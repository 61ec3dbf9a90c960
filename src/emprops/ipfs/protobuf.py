"""The few protobuf wire-format pieces dag-pb and UnixFS need, by hand: a generated codec would be
larger than the two messages it serves, and byte-exact output is what the CIDs depend on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from emprops.ipfs.errors import MalformedBlockError

WIRE_VARINT = 0
WIRE_LEN = 2


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, as protobuf, multiformats and CAR all use it."""
    if value < 0:
        raise ValueError(f"varint must be non-negative, got {value}")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(buf: bytes | memoryview, pos: int = 0) -> tuple[int, int]:
    """Return (value, position after it); rejects truncated and non-minimal (overlong) forms."""
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= len(buf):
            raise MalformedBlockError(f"truncated varint at byte {start}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if byte == 0 and pos - start > 1:
                raise MalformedBlockError(f"non-minimal varint at byte {start}")
            return result, pos
        shift += 7
        if shift >= 64:
            raise MalformedBlockError(f"varint longer than 64 bits at byte {start}")


def field_key(field: int, wire_type: int) -> bytes:
    return encode_varint((field << 3) | wire_type)


def varint_field(field: int, value: int) -> bytes:
    return field_key(field, WIRE_VARINT) + encode_varint(value)


def bytes_field(field: int, value: bytes) -> bytes:
    return field_key(field, WIRE_LEN) + encode_varint(len(value)) + value


@dataclass(frozen=True, slots=True)
class WireField:
    """One decoded field: `value` is an int for varints, bytes for length-delimited fields."""

    number: int
    value: int | bytes


def iter_fields(buf: bytes, where: str) -> Iterator[WireField]:
    """Walk a message's fields in order; only the two wire types our messages use are accepted."""
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = decode_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise MalformedBlockError(f"{where}: field number 0 at byte {pos}")
        if wire_type == WIRE_VARINT:
            value, pos = decode_varint(buf, pos)
            yield WireField(number, value)
        elif wire_type == WIRE_LEN:
            length, pos = decode_varint(buf, pos)
            if pos + length > end:
                raise MalformedBlockError(f"{where}: field {number} runs past the end")
            yield WireField(number, buf[pos : pos + length])
            pos += length
        else:
            raise MalformedBlockError(f"{where}: unsupported wire type {wire_type}")
