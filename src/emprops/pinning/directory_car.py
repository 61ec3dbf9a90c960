"""A folder's directory nodes alone, as a CAR: once every file of a folder is on a Kubo node
(added one by one, each upload confirmed and cached), importing these few blocks completes the
folder's DAG there without sending any file byte twice. That is what makes a folder upload
resumable file by file.

Reads a folder once: every file's CID (for checking each upload) and the directory blocks
(UnixFS Directory and HAMT shard nodes), written to a CARv1 whose root is the folder's CID."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from emprops.ipfs import CID, ImportedNode, ImportOptions, import_path
from emprops.ipfs.car import CarWriter
from emprops.ipfs.cid import RAW
from emprops.ipfs.dagpb import decode_node
from emprops.ipfs.unixfs import UnixFSType, decode_unixfs

_DIRECTORY_TYPES = (UnixFSType.DIRECTORY, UnixFSType.HAMT_SHARD)


@dataclass
class FolderBlocks:
    root: CID
    files: dict[str, CID] = field(default_factory=dict)  # relative path -> file CID
    sizes: dict[str, int] = field(default_factory=dict)  # relative path -> bytes
    directory_blocks: int = 0


class _DirectorySink:
    """Keeps directory blocks, drops file blocks (decided from the UnixFS type in the block)."""

    def __init__(self) -> None:
        self.blocks: dict[bytes, tuple[CID, bytes]] = {}

    def put(self, cid: CID, *parts: bytes | memoryview) -> None:
        if cid.codec == RAW or cid.binary in self.blocks:
            return
        block = b"".join(bytes(part) for part in parts)
        node = decode_node(block)
        if node.data is None or (not node.links and len(block) > 65_536):
            return  # a file leaf (big, no links) cannot be a directory worth keeping
        if decode_unixfs(node.data).type in _DIRECTORY_TYPES:
            self.blocks[cid.binary] = (cid, block)


def write_directory_car(folder: Path, out: Path, options: ImportOptions) -> FolderBlocks:
    """Import `folder` (as `ipfs add -r` would), write its directory blocks to `out`."""
    sink = _DirectorySink()
    files: dict[str, CID] = {}
    sizes: dict[str, int] = {}

    def on_entry(relative: str, node: ImportedNode) -> None:
        path = folder / relative
        if path.is_file() and not path.is_symlink():
            files[relative] = node.cid
            sizes[relative] = path.stat().st_size

    root = import_path(folder, options, sink, on_entry=on_entry).cid
    partial = out.with_name(out.name + ".part")
    with open(partial, "wb") as stream:
        writer = CarWriter(stream, len(root.binary))
        for cid, block in sink.blocks.values():
            writer.put(cid, block)
        writer.set_root(root)
    os.replace(partial, out)
    return FolderBlocks(root=root, files=files, sizes=sizes, directory_blocks=len(sink.blocks))
