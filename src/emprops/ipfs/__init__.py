"""Content addressing identical to Kubo's `ipfs add`: UnixFS import (files, folders, HAMT shards),
CIDv0/CIDv1, and CARv1 export. Pure Python, streaming, no IPFS node needed."""

from emprops.ipfs.blocks import BlockSink, ImportedNode
from emprops.ipfs.car import CarBlock, iter_car_blocks, read_car_header
from emprops.ipfs.cid import CID
from emprops.ipfs.errors import InvalidCidError, MalformedBlockError, UnsupportedInputError
from emprops.ipfs.importer import (
    ImportSource,
    cid_of_bytes,
    cid_of_directory,
    cid_of_file,
    cid_of_path,
    write_car,
)
from emprops.ipfs.offload import cid_of_path_async, write_car_async
from emprops.ipfs.options import HamtRule, ImportOptions
from emprops.ipfs.tree import DirectoryTree, import_path, import_tree

__all__ = [
    "CID",
    "BlockSink",
    "CarBlock",
    "DirectoryTree",
    "HamtRule",
    "ImportOptions",
    "ImportSource",
    "ImportedNode",
    "InvalidCidError",
    "MalformedBlockError",
    "UnsupportedInputError",
    "cid_of_bytes",
    "cid_of_directory",
    "cid_of_file",
    "cid_of_path",
    "cid_of_path_async",
    "import_path",
    "import_tree",
    "iter_car_blocks",
    "read_car_header",
    "write_car",
    "write_car_async",
]
