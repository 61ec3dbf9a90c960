"""Test-side DAG reading: collect blocks from the importer and walk them back, decoding every node
with the strict decoders, so structure checks do not trust the encoder that made the blocks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from emprops.ipfs import CID
from emprops.ipfs.cid import RAW
from emprops.ipfs.dagpb import PBNode, decode_node
from emprops.ipfs.unixfs import UnixFSData, UnixFSType, decode_unixfs


class BlockCollector:
    """A BlockSink keeping every block in memory (tests only: small inputs)."""

    def __init__(self) -> None:
        self.blocks: dict[CID, bytes] = {}
        self.puts = 0

    def put(self, cid: CID, *parts: bytes | memoryview) -> None:
        data = b"".join(bytes(part) for part in parts)
        assert hashlib.sha256(data).digest() == cid.digest, f"block bytes do not hash to {cid}"
        self.blocks[cid] = data
        self.puts += 1


@dataclass(frozen=True)
class Decoded:
    node: PBNode
    unixfs: UnixFSData


def decode(blocks: dict[CID, bytes], cid: CID) -> Decoded:
    node = decode_node(blocks[cid])
    assert node.data is not None, f"{cid} has no UnixFS data"
    return Decoded(node, decode_unixfs(node.data))


def read_file(blocks: dict[CID, bytes], cid: CID) -> bytes:
    if cid.codec == RAW:
        return blocks[cid]
    decoded = decode(blocks, cid)
    assert decoded.unixfs.type == UnixFSType.FILE
    if not decoded.node.links:
        return decoded.unixfs.data or b""
    parts = [read_file(blocks, link.cid) for link in decoded.node.links]
    assert tuple(len(p) for p in parts) == decoded.unixfs.blocksizes
    assert decoded.unixfs.filesize == sum(len(p) for p in parts)
    return b"".join(parts)


def reachable(blocks: dict[CID, bytes], root: CID) -> Iterator[CID]:
    """Every CID reachable from root (each once), raising KeyError if a block is missing."""
    seen: set[CID] = set()
    stack = [root]
    while stack:
        cid = stack.pop()
        if cid in seen:
            continue
        seen.add(cid)
        data = blocks[cid]
        yield cid
        if cid.codec != RAW:
            stack.extend(link.cid for link in decode_node(data).links)


def tsize(blocks: dict[CID, bytes], cid: CID) -> int:
    """Cumulative size as a parent link must record it, recomputed from the blocks."""
    data = blocks[cid]
    if cid.codec == RAW:
        return len(data)
    return len(data) + sum(tsize(blocks, link.cid) for link in decode_node(data).links)
