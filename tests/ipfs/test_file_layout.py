"""Files: the streaming balanced builder against a plain bottom-up reference, read-back of every
block, chunking that ignores how reads are split, and memory that does not grow with the file."""

from __future__ import annotations

import io
import random
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from emprops.ipfs import CID, ImportOptions, cid_of_bytes
from emprops.ipfs.cid import DAG_PB, RAW
from emprops.ipfs.dagpb import PBLink, encode_node
from emprops.ipfs.file_layout import import_bytes, import_stream
from emprops.ipfs.unixfs import UnixFSData, UnixFSType, file_leaf_affixes
from tests.ipfs.dag_blocks import BlockCollector, decode, read_file, tsize


def reference_root(data: bytes, options: ImportOptions) -> CID:
    """Group leaves max_links at a time, level by level, until one node is left: the textbook
    balanced layout, holding everything in memory (fine for test sizes)."""
    size = options.chunk_size
    chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    level: list[tuple[CID, int, int]] = []  # (cid, tsize, filesize)
    for chunk in chunks:
        if options.uses_raw_leaves:
            level.append((CID.of_block(1, RAW, chunk), len(chunk), len(chunk)))
        else:
            prefix, suffix = file_leaf_affixes(len(chunk))
            block = prefix + chunk + suffix
            level.append((CID.of_block(options.cid_version, DAG_PB, block), len(block), len(chunk)))
    while len(level) > 1:
        parents = []
        for start in range(0, len(level), options.max_links):
            group = level[start : start + options.max_links]
            data_field = UnixFSData(
                UnixFSType.FILE,
                filesize=sum(g[2] for g in group),
                blocksizes=tuple(g[2] for g in group),
            ).encode()
            block = encode_node([PBLink(g[0], b"", g[1]) for g in group], data_field)
            cid = CID.of_block(options.cid_version, DAG_PB, block)
            parents.append((cid, len(block) + sum(g[1] for g in group), sum(g[2] for g in group)))
        level = parents
    return level[0][0]


small_options = st.builds(
    ImportOptions,
    cid_version=st.sampled_from([0, 1]),
    raw_leaves=st.sampled_from([None, True, False]),
    chunk_size=st.integers(min_value=1, max_value=64),
    max_links=st.integers(min_value=2, max_value=5),
)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=1500), small_options)
def test_streaming_builder_matches_reference(data: bytes, options: ImportOptions) -> None:
    assert cid_of_bytes(data, options) == reference_root(data, options)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=1200), small_options)
def test_blocks_read_back_to_the_input(data: bytes, options: ImportOptions) -> None:
    sink = BlockCollector()
    root = import_bytes(data, options, sink)
    assert read_file(sink.blocks, root.cid) == data
    assert root.tsize == tsize(sink.blocks, root.cid)
    depths = set()

    def walk(cid: CID, depth: int) -> None:
        if cid.codec == RAW or not decode(sink.blocks, cid).node.links:
            depths.add(depth)
            return
        links = decode(sink.blocks, cid).node.links
        assert len(links) <= options.max_links
        for link in links:
            assert link.name == b""
            walk(link.cid, depth + 1)

    walk(root.cid, 0)
    assert len(depths) == 1, "balanced: every leaf at the same depth"


class ChoppyStream:
    """A reader that returns random short reads, as pipes and sockets do."""

    def __init__(self, data: bytes, seed: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._rng = random.Random(seed)

    def readinto(self, buffer: memoryview, /) -> int:
        n = min(len(buffer), self._rng.randint(1, 97), len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=2**32), small_options)
def test_short_reads_do_not_move_chunk_boundaries(
    data: bytes, seed: int, options: ImportOptions
) -> None:
    streamed = import_stream(ChoppyStream(data, seed), options)
    assert streamed.cid == cid_of_bytes(data, options)


def test_progress_reports_every_byte() -> None:
    data = bytes(range(256)) * 5000
    seen: list[int] = []
    import_stream(io.BytesIO(data), ImportOptions(chunk_size=1000), progress=seen.append)
    assert sum(seen) == len(data) and max(seen) == 1000


class Zeros:
    """`size` zero bytes, never materialized."""

    def __init__(self, size: int) -> None:
        self._left = size

    def readinto(self, buffer: memoryview, /) -> int:
        n = min(len(buffer), self._left)
        buffer[:n] = bytes(n)
        self._left -= n
        return n


def test_memory_does_not_grow_with_file_size() -> None:
    size = 256 * 1024 * 1024
    tracemalloc.start()
    try:
        node = import_stream(Zeros(size), ImportOptions())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One 256 KiB chunk buffer, a transient chunk of zeros in Zeros, and one row of links.
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while hashing {size} bytes"
    leaves = size // 262144
    assert node.tsize > size + leaves * 10  # every leaf's dag-pb framing is counted
