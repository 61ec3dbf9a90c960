"""CIDs: sha2-256 multihashes, dag-pb/raw codecs, CIDv0 (base58btc) and CIDv1 (base32) text forms.

Only what Kubo's `ipfs add` produces is supported; anything else is rejected rather than guessed."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Final

from emprops.ipfs.errors import InvalidCidError, MalformedBlockError
from emprops.ipfs.protobuf import decode_varint, encode_varint

DAG_PB: Final = 0x70
RAW: Final = 0x55
SHA2_256: Final = 0x12
SHA2_256_PREFIX: Final = bytes((SHA2_256, 32))

_B58_ALPHABET: Final = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58_ALPHABET)}
_CODEC_NAMES: Final = {DAG_PB: "dag-pb", RAW: "raw"}


def base58btc_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = bytearray()
    while n:
        n, rem = divmod(n, 58)
        out.append(_B58_ALPHABET[rem])
    out.extend(b"1" * zeros)
    out.reverse()
    return out.decode("ascii")


def base58btc_decode(text: str) -> bytes:
    n = 0
    for ch in text.encode("ascii", errors="replace"):
        digit = _B58_INDEX.get(ch)
        if digit is None:
            raise InvalidCidError(f"invalid base58btc character {chr(ch)!r} in {text!r}")
        n = n * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


@dataclass(frozen=True, slots=True)
class CID:
    """A content identifier; `binary` is the form links and CAR files carry."""

    version: int
    codec: int
    multihash: bytes
    binary: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.version == 0:
            if self.codec != DAG_PB:
                raise InvalidCidError(f"CIDv0 must be dag-pb, got codec 0x{self.codec:x}")
            binary = self.multihash
        elif self.version == 1:
            binary = b"\x01" + encode_varint(self.codec) + self.multihash
        else:
            raise InvalidCidError(f"unsupported CID version {self.version}")
        object.__setattr__(self, "binary", binary)

    @classmethod
    def of_block(cls, version: int, codec: int, *parts: bytes | memoryview) -> CID:
        """The sha2-256 CID of a block given as consecutive byte parts (no copy is made)."""
        hasher = hashlib.sha256()
        for part in parts:
            hasher.update(part)
        return cls(version, codec, SHA2_256_PREFIX + hasher.digest())

    @classmethod
    def from_bytes(cls, data: bytes) -> CID:
        cid, end = cls.read(data, 0)
        if end != len(data):
            raise InvalidCidError(f"{len(data) - end} trailing bytes after CID")
        return cid

    @classmethod
    def read(cls, data: bytes | memoryview, pos: int) -> tuple[CID, int]:
        """Parse a binary CID at `pos` (as in a CAR section); return it and the end position."""
        try:
            if data[pos : pos + 2] == SHA2_256_PREFIX:
                end = pos + 34
                if end > len(data):
                    raise InvalidCidError("truncated CIDv0")
                return cls(0, DAG_PB, bytes(data[pos:end])), end
            version, p = decode_varint(data, pos)
            if version != 1:
                raise InvalidCidError(f"unsupported CID version {version} at byte {pos}")
            codec, p = decode_varint(data, p)
            hash_code, q = decode_varint(data, p)
            digest_len, q = decode_varint(data, q)
        except MalformedBlockError as exc:
            raise InvalidCidError(f"malformed binary CID at byte {pos}: {exc.message}") from exc
        end = q + digest_len
        if end > len(data):
            raise InvalidCidError(f"truncated multihash (code 0x{hash_code:x}) at byte {pos}")
        return cls(1, codec, bytes(data[p:end])), end

    @classmethod
    def parse(cls, text: str) -> CID:
        """Parse the text forms `ipfs add` prints: `Qm…` (v0, base58btc) and `b…` (v1, base32)."""
        if len(text) == 46 and text.startswith("Qm"):
            return cls.from_bytes(base58btc_decode(text))
        if text.startswith("b") and len(text) > 1:
            body = text[1:].upper()
            try:
                raw = base64.b32decode(body + "=" * (-len(body) % 8))
            except ValueError as exc:
                raise InvalidCidError(f"invalid base32 CID {text!r}") from exc
            return cls.from_bytes(raw)
        if text.startswith("z") and len(text) > 1:
            return cls.from_bytes(base58btc_decode(text[1:]))
        raise InvalidCidError(f"not a CIDv0 or base32/base58btc CIDv1: {text!r}")

    def __str__(self) -> str:
        if self.version == 0:
            return base58btc_encode(self.multihash)
        return "b" + base64.b32encode(self.binary).decode("ascii").rstrip("=").lower()

    @property
    def codec_name(self) -> str:
        return _CODEC_NAMES.get(self.codec, f"0x{self.codec:x}")

    @property
    def digest(self) -> bytes:
        """The hash digest, without the multihash code and length."""
        _code, p = decode_varint(self.multihash, 0)
        _length, p = decode_varint(self.multihash, p)
        return self.multihash[p:]
