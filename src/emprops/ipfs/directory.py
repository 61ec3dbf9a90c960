"""Directories: one dag-pb node with links sorted bytewise by name, or a HAMT once big enough."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from emprops.ipfs.blocks import BlockSink, ImportedNode
from emprops.ipfs.cid import CID, DAG_PB
from emprops.ipfs.dagpb import PBLink, encode_node
from emprops.ipfs.errors import UnsupportedInputError
from emprops.ipfs.hamt import build_hamt
from emprops.ipfs.options import HamtRule, ImportOptions
from emprops.ipfs.protobuf import encode_varint
from emprops.ipfs.unixfs import DIRECTORY_DATA, UnixFSData, UnixFSType


def build_directory(
    entries: Iterable[tuple[bytes, ImportedNode]],
    options: ImportOptions,
    sink: BlockSink | None = None,
) -> ImportedNode:
    ordered = sorted(entries, key=lambda entry: entry[0])
    for (name, _node), (next_name, _next) in itertools.pairwise(ordered):
        if name == next_name:
            raise UnsupportedInputError(f"directory has two entries named {name!r}")
    if should_shard(ordered, options):
        return build_hamt(ordered, options.cid_version, sink)
    links = [PBLink(node.cid, name, node.tsize) for name, node in ordered]
    block = encode_node(links, DIRECTORY_DATA)
    cid = CID.of_block(options.cid_version, DAG_PB, block)
    if sink is not None:
        sink.put(cid, block)
    return ImportedNode(cid, len(block) + sum(link.tsize for link in links))


def should_shard(entries: list[tuple[bytes, ImportedNode]], options: ImportOptions) -> bool:
    """Kubo's estimate counts only name and CID bytes per link; `block-bytes` is the exact size."""
    if options.hamt_threshold == 0:
        return False  # Kubo: a zero threshold disables sharding
    if options.hamt_rule is HamtRule.BLOCK_BYTES:
        return flat_node_size(entries) > options.hamt_threshold
    estimate = sum(len(name) + len(node.cid.binary) for name, node in entries)
    if options.hamt_rule is HamtRule.KUBO_0_22:
        return estimate >= options.hamt_threshold
    return estimate > options.hamt_threshold


def flat_node_size(entries: list[tuple[bytes, ImportedNode]]) -> int:
    """Encoded size of the unsharded directory node, computed without building it."""
    total = 1 + 1 + len(DIRECTORY_DATA)
    for name, node in entries:
        cid_len = len(node.cid.binary)
        inner = 1 + len(encode_varint(cid_len)) + cid_len
        inner += 1 + len(encode_varint(len(name))) + len(name)
        inner += 1 + len(encode_varint(node.tsize))
        total += 1 + len(encode_varint(inner)) + inner
    return total


def build_symlink(target: bytes, options: ImportOptions, sink: BlockSink | None) -> ImportedNode:
    block = encode_node([], UnixFSData(UnixFSType.SYMLINK, data=target).encode())
    cid = CID.of_block(options.cid_version, DAG_PB, block)
    if sink is not None:
        sink.put(cid, block)
    return ImportedNode(cid, len(block))
