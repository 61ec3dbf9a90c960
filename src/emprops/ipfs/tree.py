"""Whole inputs: a path on disk (as `ipfs add -r` walks it) or a tree built in memory
(name -> bytes | subtree), e.g. a metadata folder that never needs to touch the disk."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeAlias

from emprops.ipfs.blocks import BlockSink, ImportedNode, ProgressCallback
from emprops.ipfs.directory import build_directory, build_symlink
from emprops.ipfs.errors import UnsupportedInputError
from emprops.ipfs.file_layout import import_bytes, import_stream
from emprops.ipfs.options import ImportOptions

DirectoryTree: TypeAlias = Mapping[str, "bytes | DirectoryTree"]
"""An in-memory folder: file name -> file bytes, or sub-folder name -> another DirectoryTree."""

EntryCallback = Callable[[str, ImportedNode], object]
"""Called with each entry's path relative to the import root ('/'-separated) and its node."""


def entry_name(name: str, where: str) -> bytes:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise UnsupportedInputError(f"invalid UnixFS entry name {name!r} in {where or '/'}")
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsupportedInputError(f"entry name {name!r} in {where or '/'} is not UTF-8") from exc


def import_tree(
    tree: DirectoryTree,
    options: ImportOptions,
    sink: BlockSink | None = None,
    on_entry: EntryCallback | None = None,
    _where: str = "",
) -> ImportedNode:
    entries: list[tuple[bytes, ImportedNode]] = []
    for name, value in tree.items():
        raw_name = entry_name(name, _where)
        where = f"{_where}/{name}" if _where else name
        if isinstance(value, bytes | bytearray | memoryview):
            node = import_bytes(value, options, sink)
        elif isinstance(value, Mapping):
            node = import_tree(value, options, sink, on_entry, where)
        else:
            kind = type(value).__name__
            raise UnsupportedInputError(f"tree entry {where!r} is {kind}, not bytes or a mapping")
        if on_entry is not None:
            on_entry(where, node)
        entries.append((raw_name, node))
    return build_directory(entries, options, sink)


def import_path(
    path: Path,
    options: ImportOptions,
    sink: BlockSink | None = None,
    progress: ProgressCallback | None = None,
    on_entry: EntryCallback | None = None,
) -> ImportedNode:
    """Import a file, symlink or folder. Like `ipfs add -r`: symlinks stay symlinks, dot-files
    inside folders are skipped unless `include_hidden`, the top folder's own name is not used."""
    return _import_any(Path(path), "", options, sink, progress, on_entry)


def _import_any(
    path: Path,
    where: str,
    options: ImportOptions,
    sink: BlockSink | None,
    progress: ProgressCallback | None,
    on_entry: EntryCallback | None,
) -> ImportedNode:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError as exc:
        raise UnsupportedInputError(f"no such file or folder: {path}") from exc
    if stat.S_ISREG(mode):
        with open(path, "rb", buffering=0) as stream:
            return import_stream(stream, options, sink, progress)
    if stat.S_ISLNK(mode):
        return build_symlink(os.fsencode(os.readlink(path)), options, sink)
    if stat.S_ISDIR(mode):
        entries: list[tuple[bytes, ImportedNode]] = []
        with os.scandir(path) as listing:
            names = sorted(entry.name for entry in listing)
        for name in names:
            if name.startswith(".") and not options.include_hidden:
                continue
            child_where = f"{where}/{name}" if where else name
            node = _import_any(path / name, child_where, options, sink, progress, on_entry)
            if on_entry is not None:
                on_entry(child_where, node)
            entries.append((entry_name(name, where), node))
        return build_directory(entries, options, sink)
    raise UnsupportedInputError(f"{path} is neither a file, a folder nor a symlink")


def input_size(path: Path, include_hidden: bool = False) -> int:
    """Total bytes of regular files under `path`, for sizing a progress bar before importing."""
    mode = os.lstat(path).st_mode
    if stat.S_ISREG(mode):
        return os.lstat(path).st_size
    if not stat.S_ISDIR(mode):
        return 0
    total = 0
    with os.scandir(path) as listing:
        for entry in listing:
            if entry.name.startswith(".") and not include_hidden:
                continue
            if entry.is_dir(follow_symlinks=False):
                total += input_size(Path(entry.path), include_hidden)
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total
