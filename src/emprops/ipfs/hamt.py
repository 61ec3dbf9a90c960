"""HAMT-sharded directories as Kubo writes them: fanout 256, one byte of the name's hash per level.

The hash is murmur3-x64-128's first 64-bit half (h1), read big-endian: Go's murmur3 `Sum` writes h1
that way and the JS importer reverses the first 8 little-endian bytes to match. Level d uses byte d.
Without deletions the trie is canonical: a bucket holding one entry is a value link named
`XX<name>` (two upper-case hex digits of its index); a bucket holding several is a child shard
linked as `XX`. The bitfield is the big-endian 256-bit set of used indexes, leading zero bytes
dropped (go-bitfield's `Bytes()`)."""

from __future__ import annotations

from collections.abc import Sequence

import mmh3

from emprops.ipfs.blocks import BlockSink, ImportedNode
from emprops.ipfs.cid import CID, DAG_PB
from emprops.ipfs.dagpb import PBLink, encode_node
from emprops.ipfs.errors import UnsupportedInputError
from emprops.ipfs.unixfs import HAMT_FANOUT, MURMUR3_X64_64, UnixFSData, UnixFSType

_HASH_BYTES = 8
_PREFIXES = tuple(f"{i:02X}".encode() for i in range(HAMT_FANOUT))

_Entry = tuple[bytes, bytes, ImportedNode]  # (hash, name, node)


def name_hash(name: bytes) -> bytes:
    """h1 of murmur3-x64-128 (seed 0), big-endian; `hash_bytes` gives h1 then h2, little-endian."""
    digest: bytes = mmh3.hash_bytes(name)
    return digest[_HASH_BYTES - 1 :: -1]


def build_hamt(
    entries: Sequence[tuple[bytes, ImportedNode]], cid_version: int, sink: BlockSink | None
) -> ImportedNode:
    hashed = [(name_hash(name), name, node) for name, node in entries]
    return _build_shard(hashed, 0, cid_version, sink)


def _build_shard(
    entries: list[_Entry], depth: int, cid_version: int, sink: BlockSink | None
) -> ImportedNode:
    if depth >= _HASH_BYTES:
        names = sorted(name.decode("utf-8", "replace") for _h, name, _n in entries)
        raise UnsupportedInputError(f"HAMT: names share a full 64-bit hash: {names}")
    buckets: dict[int, list[_Entry]] = {}
    for entry in entries:
        buckets.setdefault(entry[0][depth], []).append(entry)
    links: list[PBLink] = []
    bitfield = 0
    for index in sorted(buckets):
        bitfield |= 1 << index
        bucket = buckets[index]
        if len(bucket) == 1:
            _hash, name, node = bucket[0]
            links.append(PBLink(node.cid, _PREFIXES[index] + name, node.tsize))
        else:
            child = _build_shard(bucket, depth + 1, cid_version, sink)
            links.append(PBLink(child.cid, _PREFIXES[index], child.tsize))
    data = UnixFSData(
        UnixFSType.HAMT_SHARD,
        data=bitfield.to_bytes(HAMT_FANOUT // 8, "big").lstrip(b"\0"),
        hash_type=MURMUR3_X64_64,
        fanout=HAMT_FANOUT,
    ).encode()
    block = encode_node(links, data)
    cid = CID.of_block(cid_version, DAG_PB, block)
    if sink is not None:
        sink.put(cid, block)
    return ImportedNode(cid, len(block) + sum(link.tsize for link in links))
