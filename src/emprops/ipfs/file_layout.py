"""Files: fixed-size chunks into a balanced DAG, streamed so only one chunk and one pending row of
links per tree level are ever held, whatever the file size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from emprops.ipfs.blocks import BlockSink, ImportedNode, ProgressCallback
from emprops.ipfs.cid import CID, DAG_PB, RAW
from emprops.ipfs.dagpb import PBLink, encode_node
from emprops.ipfs.options import ImportOptions
from emprops.ipfs.unixfs import UnixFSData, UnixFSType, file_leaf_affixes


class ReadableStream(Protocol):
    """Anything with `readinto` (files opened "rb", sockets' makefile, io.BytesIO)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


@dataclass(frozen=True, slots=True)
class _Child:
    cid: CID
    tsize: int
    filesize: int


class BalancedFileBuilder:
    """Feed chunks in order, then `finish()`. Produces the same tree as Kubo's balanced layout:
    full nodes of `max_links` children at every level, the last path partially filled."""

    def __init__(self, options: ImportOptions, sink: BlockSink | None = None) -> None:
        self._raw_leaves = options.uses_raw_leaves
        self._version = options.cid_version
        self._max_links = options.max_links
        self._sink = sink
        self._levels: list[list[_Child]] = [[]]
        self._full_affixes = file_leaf_affixes(options.chunk_size)
        self._chunk_size = options.chunk_size
        self._finished = False

    def add_chunk(self, chunk: bytes | memoryview) -> None:
        self._push(0, self._leaf(chunk))

    def finish(self) -> ImportedNode:
        if self._finished:
            raise RuntimeError("BalancedFileBuilder.finish() called twice")
        self._finished = True
        if not self._levels[0]:
            self._push(0, self._leaf(b""))  # an empty file is a single empty leaf
        level = 0
        while True:
            row = self._levels[level]
            if level == len(self._levels) - 1 and len(row) == 1:
                root = row[0]
                return ImportedNode(root.cid, root.tsize)
            self._levels[level] = []
            self._push(level + 1, self._inner(row))
            level += 1

    def _push(self, level: int, child: _Child) -> None:
        # A full row is closed only when another child arrives, so a file of exactly max_links
        # chunks gets one root over them instead of a needless extra level.
        if level == len(self._levels):
            self._levels.append([])
        row = self._levels[level]
        if len(row) == self._max_links:
            self._levels[level] = [child]
            self._push(level + 1, self._inner(row))
        else:
            row.append(child)

    def _leaf(self, chunk: bytes | memoryview) -> _Child:
        size = len(chunk)
        if self._raw_leaves:
            cid = CID.of_block(1, RAW, chunk)
            if self._sink is not None:
                self._sink.put(cid, chunk)
            return _Child(cid, size, size)
        prefix, suffix = self._full_affixes if size == self._chunk_size else file_leaf_affixes(size)
        cid = CID.of_block(self._version, DAG_PB, prefix, chunk, suffix)
        if self._sink is not None:
            self._sink.put(cid, prefix, chunk, suffix)
        return _Child(cid, len(prefix) + size + len(suffix), size)

    def _inner(self, children: list[_Child]) -> _Child:
        filesize = sum(c.filesize for c in children)
        data = UnixFSData(
            UnixFSType.FILE, filesize=filesize, blocksizes=tuple(c.filesize for c in children)
        ).encode()
        block = encode_node([PBLink(c.cid, b"", c.tsize) for c in children], data)
        cid = CID.of_block(self._version, DAG_PB, block)
        if self._sink is not None:
            self._sink.put(cid, block)
        return _Child(cid, len(block) + sum(c.tsize for c in children), filesize)


def import_stream(
    stream: ReadableStream,
    options: ImportOptions,
    sink: BlockSink | None = None,
    progress: ProgressCallback | None = None,
) -> ImportedNode:
    """Read `stream` to its end in exact chunks into one reused buffer (short reads are topped up,
    so chunk boundaries never depend on how the OS splits reads)."""
    builder = BalancedFileBuilder(options, sink)
    size = options.chunk_size
    buffer = bytearray(size)
    view = memoryview(buffer)
    while True:
        filled = 0
        while filled < size:
            got = stream.readinto(view[filled:])
            if not got:
                break
            filled += got
        if filled:
            builder.add_chunk(view[:filled])
            if progress is not None:
                progress(filled)
        if filled < size:
            return builder.finish()


def import_bytes(
    data: bytes | memoryview, options: ImportOptions, sink: BlockSink | None = None
) -> ImportedNode:
    builder = BalancedFileBuilder(options, sink)
    view = memoryview(data)
    for start in range(0, len(view), options.chunk_size):
        builder.add_chunk(view[start : start + options.chunk_size])
    return builder.finish()
