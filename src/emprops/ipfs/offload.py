"""Async faces of the importer: hashing is CPU-bound, so it runs in a worker thread (hashlib and
file reads release the GIL) and never blocks the event loop."""

from __future__ import annotations

import asyncio
import os

from emprops.ipfs.cid import CID
from emprops.ipfs.importer import ImportSource, cid_of_path, write_car
from emprops.ipfs.options import ImportOptions


async def cid_of_path_async(
    path: str | os.PathLike[str], options: ImportOptions | None = None
) -> CID:
    return await asyncio.to_thread(cid_of_path, path, options or ImportOptions())


async def write_car_async(
    source: ImportSource, out: str | os.PathLike[str], options: ImportOptions | None = None
) -> CID:
    return await asyncio.to_thread(write_car, source, out, options or ImportOptions())
