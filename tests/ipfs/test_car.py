"""CAR export: the header names the root we computed, every block is present once and hashes to
its CID, and the JS `ipfs-car` tool unpacks our CARs to byte-identical files."""

from __future__ import annotations

import filecmp
import hashlib
import subprocess
from pathlib import Path

import pytest

from emprops.ipfs import (
    CID,
    DirectoryTree,
    ImportOptions,
    ImportSource,
    UnsupportedInputError,
    cid_of_bytes,
    cid_of_directory,
    cid_of_path,
    cid_of_path_async,
    iter_car_blocks,
    read_car_header,
    write_car,
    write_car_async,
)
from tests.ipfs.dag_blocks import reachable


def read_car(path: Path) -> tuple[list[CID], list[tuple[CID, bytes]]]:
    with open(path, "rb") as stream:
        roots = read_car_header(stream)
        return roots, [(block.cid, block.data) for block in iter_car_blocks(stream)]


def check_car(path: Path, expected_root: CID) -> int:
    roots, sections = read_car(path)
    assert roots == [expected_root]
    cids = [cid for cid, _ in sections]
    assert len(cids) == len(set(cids)), "a block was written twice"
    blocks = dict(sections)
    for cid, data in sections:
        assert hashlib.sha256(data).digest() == cid.digest
    assert set(reachable(blocks, expected_root)) == set(blocks), "missing or stray blocks"
    return len(sections)


BIG = bytes(range(256)) * 4000
TREE: DirectoryTree = {
    "1.json": b'{"name":"Token #1"}',
    "empty.bin": b"",
    "sub": {"big.bin": BIG, "nothing": {}},
}
OPTIONS = {
    "v0": ImportOptions(),
    "v1": ImportOptions(cid_version=1),
    "v0-raw-leaves": ImportOptions(raw_leaves=True),
    "v1-no-raw-leaves": ImportOptions(cid_version=1, raw_leaves=False),
}


@pytest.mark.parametrize("label", OPTIONS)
def test_tree_car(tmp_path: Path, label: str) -> None:
    options = OPTIONS[label]
    root = write_car(TREE, tmp_path / "t.car", options)
    assert root == cid_of_directory(TREE, options)
    check_car(tmp_path / "t.car", root)
    assert not (tmp_path / "t.car.part").exists()


@pytest.mark.parametrize("label", OPTIONS)
@pytest.mark.parametrize("size", [0, 5, 262144, 262145, 600_000])
def test_bytes_car_root_of_every_shape(tmp_path: Path, label: str, size: int) -> None:
    # Covers the root whose length is only known from the size: a raw single leaf under CIDv0.
    options = OPTIONS[label]
    data = hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1)
    data = data[:size]
    root = write_car(data, tmp_path / "b.car", options)
    assert root == cid_of_bytes(data, options)
    check_car(tmp_path / "b.car", root)


def test_identical_chunks_written_once(tmp_path: Path) -> None:
    options = ImportOptions(chunk_size=1024)
    root = write_car(b"z" * 1024 * 50, tmp_path / "d.car", options)
    assert check_car(tmp_path / "d.car", root) == 2  # one leaf, one parent


def test_failed_export_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.car"
    with pytest.raises(UnsupportedInputError):
        write_car(tmp_path / "missing", out)
    assert list(tmp_path.iterdir()) == []


def _unpack(ipfs_car: list[str], car: Path, out: Path) -> None:
    result = subprocess.run(
        [*ipfs_car, "unpack", str(car), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def _same_tree(a: Path, b: Path) -> None:
    cmp = filecmp.dircmp(a, b)
    assert not (cmp.left_only or cmp.right_only or cmp.funny_files), (
        f"{a}: only ours {cmp.left_only}, only unpacked {cmp.right_only}, odd {cmp.funny_files}"
    )
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    assert not mismatch and not errors
    for sub in cmp.common_dirs:
        _same_tree(a / sub, b / sub)


@pytest.mark.parametrize(
    ("source", "cid_version"),
    [
        ("dirs/nested", 0),
        ("dirs/dir_10000", 0),  # a HAMT-sharded folder, as Kubo makes it
        ("files/odd_2000000.bin", 1),  # raw leaves under a dag-pb root
        ("files/hello.txt", 1),  # a single raw block
        ("files/large_2MiB.bin", 0),
    ],
)
def test_ipfs_car_unpacks_to_identical_files(
    ipfs_car: list[str], vector_root: Path, tmp_path: Path, source: str, cid_version: int
) -> None:
    src: ImportSource = vector_root / source
    options = ImportOptions(cid_version=cid_version)
    car = tmp_path / "out.car"
    root = write_car(src, car, options)
    assert root == cid_of_path(vector_root / source, options)
    out = tmp_path / "unpacked"
    _unpack(ipfs_car, car, out)
    if (vector_root / source).is_dir():
        _same_tree(vector_root / source, out)
    else:
        assert out.read_bytes() == (vector_root / source).read_bytes()


def test_ipfs_car_unpacks_in_memory_tree(ipfs_car: list[str], tmp_path: Path) -> None:
    car = tmp_path / "tree.car"
    write_car(TREE, car)
    _unpack(ipfs_car, car, tmp_path / "unpacked")
    assert (tmp_path / "unpacked" / "sub" / "big.bin").read_bytes() == BIG
    assert (tmp_path / "unpacked" / "empty.bin").read_bytes() == b""
    assert (tmp_path / "unpacked" / "sub" / "nothing").is_dir()


async def test_async_faces_agree(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.json").write_bytes(b"{}")
    root = await write_car_async(tmp_path / "in", tmp_path / "a.car")
    assert root == await cid_of_path_async(tmp_path / "in")
    check_car(tmp_path / "a.car", root)
