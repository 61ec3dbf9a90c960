"""dag-pb nodes (PBNode/PBLink) in the canonical byte order Kubo writes: links first, then data;
each link with hash, name (always present, even empty) and cumulative size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emprops.ipfs.cid import CID
from emprops.ipfs.errors import InvalidCidError, MalformedBlockError
from emprops.ipfs.protobuf import bytes_field, encode_varint, iter_fields, varint_field


@dataclass(frozen=True, slots=True)
class PBLink:
    """A link: `tsize` is the child's whole DAG size (its block plus everything below it)."""

    cid: CID
    name: bytes
    tsize: int

    def encode(self) -> bytes:
        inner = bytes_field(1, self.cid.binary) + bytes_field(2, self.name)
        inner += varint_field(3, self.tsize)
        return b"\x12" + encode_varint(len(inner)) + inner


@dataclass(frozen=True, slots=True)
class PBNode:
    links: tuple[PBLink, ...]
    data: bytes | None


def encode_node(links: Sequence[PBLink], data: bytes | None) -> bytes:
    """Serialize links in the order given (callers sort directory links; file links keep order)."""
    parts = [link.encode() for link in links]
    if data is not None:
        parts.append(bytes_field(1, data))
    return b"".join(parts)


def decode_node(block: bytes) -> PBNode:
    """Parse a dag-pb block, rejecting what the dag-pb spec forbids (data before links, repeats)."""
    links: list[PBLink] = []
    data: bytes | None = None
    for wire in iter_fields(block, "dag-pb node"):
        if wire.number == 2 and isinstance(wire.value, bytes):
            if data is not None:
                raise MalformedBlockError("dag-pb node: a link follows the data field")
            links.append(_decode_link(wire.value))
        elif wire.number == 1 and isinstance(wire.value, bytes):
            if data is not None:
                raise MalformedBlockError("dag-pb node: data field repeated")
            data = wire.value
        else:
            raise MalformedBlockError(f"dag-pb node: unexpected field {wire.number}")
    return PBNode(tuple(links), data)


def _decode_link(raw: bytes) -> PBLink:
    cid: CID | None = None
    name = b""
    tsize = 0
    for wire in iter_fields(raw, "dag-pb link"):
        if wire.number == 1 and isinstance(wire.value, bytes):
            try:
                cid = CID.from_bytes(wire.value)
            except InvalidCidError as exc:
                raise MalformedBlockError(f"dag-pb link: {exc.message}") from exc
        elif wire.number == 2 and isinstance(wire.value, bytes):
            name = wire.value
        elif wire.number == 3 and isinstance(wire.value, int):
            tsize = wire.value
        else:
            raise MalformedBlockError(f"dag-pb link: unexpected field {wire.number}")
    if cid is None:
        raise MalformedBlockError("dag-pb link without a hash")
    return PBLink(cid, name, tsize)
