"""The entry points: CIDs of files, bytes, folders and in-memory trees, and CAR export of any of
them. Synchronous and CPU-bound: async callers run them in a worker thread (see `offload`)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

from emprops.ipfs.blocks import ImportedNode, ProgressCallback
from emprops.ipfs.car import CarWriter
from emprops.ipfs.cid import CID
from emprops.ipfs.directory import build_directory
from emprops.ipfs.errors import UnsupportedInputError
from emprops.ipfs.file_layout import import_bytes, import_stream
from emprops.ipfs.options import ImportOptions
from emprops.ipfs.tree import DirectoryTree, EntryCallback, entry_name, import_path, import_tree

ImportSource: TypeAlias = "str | os.PathLike[str] | bytes | DirectoryTree"
"""A path on disk, the bytes of one file, or an in-memory folder."""

_DEFAULT = ImportOptions()


def cid_of_bytes(data: bytes | memoryview, options: ImportOptions = _DEFAULT) -> CID:
    return import_bytes(data, options).cid


def cid_of_file(
    path: str | os.PathLike[str],
    options: ImportOptions = _DEFAULT,
    progress: ProgressCallback | None = None,
) -> CID:
    """Stream a regular file chunk by chunk; memory use does not grow with the file."""
    path = Path(path)
    if not path.is_file():
        raise UnsupportedInputError(f"not a regular file: {path}")
    with open(path, "rb", buffering=0) as stream:
        return import_stream(stream, options, progress=progress).cid


def cid_of_directory(
    source: str | os.PathLike[str] | DirectoryTree,
    options: ImportOptions = _DEFAULT,
    on_entry: EntryCallback | None = None,
) -> CID:
    """A folder on disk or in memory; `on_entry` receives every entry's CID on the way. A symlink
    given as the folder itself is followed (cid_of_path keeps it as a symlink, as `ipfs add`)."""
    if isinstance(source, Mapping):
        return import_tree(source, options, on_entry=on_entry).cid
    path = Path(os.path.realpath(source))
    if not path.is_dir():
        raise UnsupportedInputError(f"not a folder: {path}")
    return import_path(path, options, on_entry=on_entry).cid


def cid_of_path(
    path: str | os.PathLike[str],
    options: ImportOptions = _DEFAULT,
    progress: ProgressCallback | None = None,
    wrap_with_directory: bool = False,
) -> CID:
    """What `ipfs add --only-hash -Q [-r] [-w] PATH` prints."""
    path = Path(path)
    node = import_path(path, options, progress=progress)
    if wrap_with_directory:
        node = build_directory([(entry_name(path.name, ""), node)], options)
    return node.cid


def write_car(
    source: ImportSource,
    out: str | os.PathLike[str],
    options: ImportOptions = _DEFAULT,
    progress: ProgressCallback | None = None,
) -> CID:
    """Export `source` as a CARv1 with its root CID in the header. Written to `out.part` and
    renamed into place, so a crash never leaves a truncated CAR under the final name."""
    out = Path(out)
    partial = out.with_name(out.name + ".part")
    try:
        with open(partial, "wb") as stream:
            writer = CarWriter(stream, _root_length(source, options))
            node = _import_into(source, options, writer, progress)
            writer.set_root(node.cid)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return node.cid


def _import_into(
    source: ImportSource,
    options: ImportOptions,
    writer: CarWriter,
    progress: ProgressCallback | None,
) -> ImportedNode:
    if isinstance(source, bytes):
        node = import_bytes(source, options, writer)
        if progress is not None:
            progress(len(source))
        return node
    if isinstance(source, Mapping):
        return import_tree(source, options, writer)
    return import_path(Path(source), options, writer, progress)


def _root_length(source: ImportSource, options: ImportOptions) -> int:
    """Byte length of the root CID before importing: a raw block (CIDv1, 36 bytes) when the input
    is one chunk of a file with raw leaves, otherwise a dag-pb node of the chosen version."""
    dag_pb_length = 34 if options.cid_version == 0 else 36
    if not options.uses_raw_leaves or isinstance(source, Mapping):
        return dag_pb_length
    if isinstance(source, bytes):
        size = len(source)
    else:
        info = os.lstat(source)
        if not stat.S_ISREG(info.st_mode):
            return dag_pb_length
        size = info.st_size
    return 36 if size <= options.chunk_size else dag_pb_length
