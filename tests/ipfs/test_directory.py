"""Folders: sorted flat nodes, the sharding threshold rules, and HAMT shards whose every entry is
found again by following its name's hash, one byte per level."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emprops.ipfs import (
    CID,
    DirectoryTree,
    HamtRule,
    ImportOptions,
    UnsupportedInputError,
    cid_of_path,
    import_path,
    import_tree,
)
from emprops.ipfs.directory import build_directory, flat_node_size
from emprops.ipfs.file_layout import import_bytes
from emprops.ipfs.hamt import name_hash
from emprops.ipfs.unixfs import MURMUR3_X64_64, UnixFSType
from tests.ipfs.dag_blocks import BlockCollector, decode, reachable, read_file


def _root_type(tree: dict[str, bytes], options: ImportOptions) -> UnixFSType:
    sink = BlockCollector()
    root = import_tree(tree, options, sink)
    return decode(sink.blocks, root.cid).unixfs.type


def test_flat_directory_links_sorted_bytewise() -> None:
    tree = {"b": b"2", "a": b"1", "B": b"3", "é": b"4", "aa": b"5"}
    sink = BlockCollector()
    root = import_tree(tree, ImportOptions(), sink)
    names = [link.name for link in decode(sink.blocks, root.cid).node.links]
    assert names == sorted(n.encode() for n in tree)
    assert names[0] == b"B"  # bytewise, not case-folded


@pytest.mark.parametrize(
    ("threshold", "rule", "sharded"),
    [
        (80, HamtRule.KUBO_0_22, True),  # estimate == threshold: Kubo 0.22 shards
        (80, HamtRule.NEWER, False),  # ... newer boxo does not
        (81, HamtRule.KUBO_0_22, False),
        (79, HamtRule.NEWER, True),
    ],
)
def test_threshold_rules(threshold: int, rule: HamtRule, sharded: bool) -> None:
    # Two 6-byte names with 34-byte CIDv0 links: the links-bytes estimate is exactly 80.
    tree = {"aaaaaa": b"x", "bbbbbb": b"y"}
    options = ImportOptions(hamt_rule=rule, hamt_threshold=threshold)
    expected = UnixFSType.HAMT_SHARD if sharded else UnixFSType.DIRECTORY
    assert _root_type(tree, options) == expected


def test_block_bytes_rule_uses_the_exact_node_size() -> None:
    options = ImportOptions(cid_version=1, hamt_threshold=0)  # never shard: measure the flat node
    entries = [(f"{i}.json".encode(), import_bytes(b"{}" * i, options)) for i in range(20)]
    sink = BlockCollector()
    flat = build_directory(entries, options, sink)
    size = len(sink.blocks[flat.cid])
    assert flat_node_size(entries) == size
    tree = {name.decode(): b"{}" * i for i, (name, _node) in enumerate(entries)}
    at = ImportOptions(cid_version=1, hamt_rule=HamtRule.BLOCK_BYTES, hamt_threshold=size)
    below = ImportOptions(cid_version=1, hamt_rule=HamtRule.BLOCK_BYTES, hamt_threshold=size - 1)
    assert _root_type(tree, at) == UnixFSType.DIRECTORY
    assert _root_type(tree, below) == UnixFSType.HAMT_SHARD


def test_zero_threshold_disables_sharding() -> None:
    tree = {f"{i}": b"" for i in range(300)}
    assert _root_type(tree, ImportOptions(hamt_threshold=0)) == UnixFSType.DIRECTORY


def _hamt_entries(sink: BlockCollector, cid: CID, depth: int) -> dict[bytes, CID]:
    """List a shard by following the format, checking each link sits where its hash says."""
    decoded = decode(sink.blocks, cid)
    unixfs = decoded.unixfs
    assert unixfs.type == UnixFSType.HAMT_SHARD
    assert (unixfs.fanout, unixfs.hash_type) == (256, MURMUR3_X64_64)
    bitfield = unixfs.data or b""
    assert bitfield and bitfield[0] != 0, "bitfield must drop leading zero bytes"
    used = {i for i in range(256) if int.from_bytes(bitfield, "big") >> i & 1}
    found: dict[bytes, CID] = {}
    indexes = []
    for link in decoded.node.links:
        index = int(link.name[:2], 16)
        assert link.name[:2] == f"{index:02X}".encode()
        indexes.append(index)
        if len(link.name) == 2:
            for name, child in _hamt_entries(sink, link.cid, depth + 1).items():
                assert name_hash(name)[depth] == index
                found[name] = child
        else:
            name = link.name[2:]
            assert name_hash(name)[depth] == index
            found[name] = link.cid
    assert indexes == sorted(used)
    return found


@settings(max_examples=25, deadline=None)
@given(
    st.sets(
        st.text(
            st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=12
        ).filter(lambda n: n not in (".", "..")),
        min_size=1,
        max_size=400,
    ),
    st.sampled_from([0, 1]),
)
def test_hamt_lists_every_entry_where_its_hash_says(names: set[str], version: int) -> None:
    tree = {name: name.encode() for name in names}
    sink = BlockCollector()
    root = import_tree(tree, ImportOptions(cid_version=version, hamt_threshold=1), sink)
    entries = _hamt_entries(sink, root.cid, 0)
    assert set(entries) == {n.encode() for n in names}
    for name, cid in entries.items():
        assert read_file(sink.blocks, cid) == name
    assert set(reachable(sink.blocks, root.cid)) == set(sink.blocks)


def test_nested_tree_and_entry_callback() -> None:
    tree: DirectoryTree = {
        "images": {"1.png": b"png"},
        "metadata": {"1": b"{}", "empty": {}},
        "top": b"",
    }
    seen: dict[str, CID] = {}
    root = import_tree(tree, ImportOptions(), on_entry=lambda p, n: seen.setdefault(p, n.cid))
    assert set(seen) == {
        "images",
        "images/1.png",
        "metadata",
        "metadata/1",
        "metadata/empty",
        "top",
    }
    assert str(seen["metadata/empty"]) == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    assert str(seen["top"]) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    assert root.cid.version == 0


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "nul\0"])
def test_invalid_names_rejected(bad: str) -> None:
    with pytest.raises(UnsupportedInputError, match="invalid UnixFS entry name"):
        import_tree({bad: b""}, ImportOptions())


def test_non_bytes_values_rejected() -> None:
    with pytest.raises(UnsupportedInputError, match="not bytes or a mapping"):
        import_tree({"a.json": "text"}, ImportOptions())  # type: ignore[dict-item]


def test_disk_walk_like_ipfs_add_r(tmp_path: Path) -> None:
    """Dot-files skipped unless asked for, symlinks kept as UnixFS symlinks, empty folders kept."""
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / ".hidden").write_bytes(b"secret")
    (tmp_path / "empty").mkdir()
    os.symlink("a.txt", tmp_path / "link")
    sink = BlockCollector()
    seen: dict[str, CID] = {}
    import_path(tmp_path, ImportOptions(), sink, on_entry=lambda p, n: seen.setdefault(p, n.cid))
    assert set(seen) == {"a.txt", "empty", "link"}
    link = decode(sink.blocks, seen["link"]).unixfs
    assert (link.type, link.data) == (UnixFSType.SYMLINK, b"a.txt")
    with_hidden = ImportOptions(include_hidden=True)
    assert cid_of_path(tmp_path, with_hidden) != cid_of_path(tmp_path)
    (tmp_path / "link").unlink()
    assert cid_of_path(tmp_path) == import_tree({"a.txt": b"a", "empty": {}}, ImportOptions()).cid


def test_special_files_rejected(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UnsupportedInputError, match="neither a file"):
        cid_of_path(tmp_path)
    with pytest.raises(UnsupportedInputError, match="no such file"):
        cid_of_path(tmp_path / "missing")


def test_duplicate_names_rejected() -> None:
    node = import_bytes(b"x", ImportOptions())
    with pytest.raises(UnsupportedInputError, match="two entries named"):
        build_directory([(b"a", node), (b"a", node)], ImportOptions())
