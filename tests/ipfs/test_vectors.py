"""Every CID in the golden vectors: CIDv0 from real Kubo 0.22, CIDv1 with raw leaves, and the
IPIP-499 unixfs-v1-2025 profile, computed from the regenerated inputs on disk and in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emprops.ipfs import (
    DirectoryTree,
    HamtRule,
    ImportOptions,
    cid_of_bytes,
    cid_of_directory,
    cid_of_file,
    cid_of_path,
)
from tests.ipfs.vectors import load_vectors

VECTORS = load_vectors()
PROFILES: dict[str, ImportOptions] = {
    "cid_v0_kubo_default": ImportOptions(),
    "cid_v1_kubo_cid_version_1": ImportOptions(cid_version=1),
    "cid_unixfs_v1_2025_profile": ImportOptions.unixfs_v1_2025(),
}


def _cases(section: str, max_size: int | None = None) -> list[Any]:
    return [
        pytest.param(entry, column, id=f"{entry['path']}-{column}")
        for entry in VECTORS[section]
        if max_size is None or entry["size"] <= max_size
        for column in PROFILES
    ]


def test_vectors_cover_files_and_folders() -> None:
    # Guards against a vectors file that silently lost its entries (then nothing below runs).
    assert len(VECTORS["files"]) >= 10 and len(VECTORS["dirs"]) >= 7


@pytest.mark.parametrize(("entry", "column"), _cases("files"))
def test_file_cid(vector_root: Path, entry: dict[str, Any], column: str) -> None:
    path = vector_root / entry["path"]
    assert path.stat().st_size == entry["size"]
    assert str(cid_of_file(path, PROFILES[column])) == entry[column]


@pytest.mark.parametrize(("entry", "column"), _cases("files", max_size=4_000_000))
def test_bytes_cid(vector_root: Path, entry: dict[str, Any], column: str) -> None:
    data = (vector_root / entry["path"]).read_bytes()
    assert str(cid_of_bytes(data, PROFILES[column])) == entry[column]


@pytest.mark.parametrize(("entry", "column"), _cases("dirs"))
def test_directory_cid(vector_root: Path, entry: dict[str, Any], column: str) -> None:
    assert str(cid_of_path(vector_root / entry["path"], PROFILES[column])) == entry[column]


def _load_tree(path: Path) -> DirectoryTree:
    return {
        child.name: _load_tree(child) if child.is_dir() else child.read_bytes()
        for child in path.iterdir()
    }


@pytest.mark.parametrize(("entry", "column"), _cases("dirs"))
def test_in_memory_tree_cid(vector_root: Path, entry: dict[str, Any], column: str) -> None:
    tree = _load_tree(vector_root / entry["path"])
    assert str(cid_of_directory(tree, PROFILES[column])) == entry[column]


THRESHOLD_NOTES = [
    pytest.param(entry, key, value, id=f"{entry['path']}-{key}")
    for entry in VECTORS["dirs"]
    for key, value in entry.get("note_threshold", {}).items()
    if key.startswith("boxo_current_gt_rule_v")
]


@pytest.mark.parametrize(("entry", "key", "expected"), THRESHOLD_NOTES)
def test_newer_hamt_rule(vector_root: Path, entry: dict[str, Any], key: str, expected: str) -> None:
    options = ImportOptions(cid_version=int(key[-1]), hamt_rule=HamtRule.NEWER)
    assert str(cid_of_path(vector_root / entry["path"], options)) == expected


def test_threshold_notes_present() -> None:
    assert len(THRESHOLD_NOTES) == 2


def test_wrap_with_directory_matches_wrapped_folder(vector_root: Path) -> None:
    wrapped = next(e for e in VECTORS["dirs"] if e["path"] == "dirs/wrap_metadata")
    for column, options in PROFILES.items():
        cid = cid_of_path(
            vector_root / "files" / "metadata_1.json", options, wrap_with_directory=True
        )
        assert str(cid) == wrapped[column]
