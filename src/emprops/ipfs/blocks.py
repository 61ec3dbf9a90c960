"""What the importer hands its blocks to: nothing (hash only) or a sink such as a CAR writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from emprops.ipfs.cid import CID

ProgressCallback = Callable[[int], None]
"""Called with the number of input bytes just consumed, for progress bars."""


class BlockSink(Protocol):
    def put(self, cid: CID, *parts: bytes | memoryview) -> None:
        """Receive one block as consecutive parts. The parts may be reused buffers: consume them
        before returning."""


@dataclass(frozen=True, slots=True)
class ImportedNode:
    """The root of an imported file, directory or symlink: what a parent directory links to."""

    cid: CID
    tsize: int
