"""One interface over every pinning service. A backend does what its API can:

- `upload_file` / `upload_folder`: send bytes (a folder as one multipart request, file by file);
- `import_car`: send blocks as a CAR (Kubo's `dag/import`);
- `pin_cid`: ask the service to pin a CID it fetches itself (the IPFS Pinning Service API), or
  to pin recursively what it already holds (Kubo's `pin/add`);
- `pin_status`: where a pin stands.

Each returns the CID the service reports; the caller compares it with the CID it computed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

from emprops.ipfs import CID

Capability = Literal["upload_file", "upload_folder", "import_car", "pin_cid"]
ByteCallback = Callable[[int], None]


class PinState(StrEnum):
    QUEUED = "queued"
    PINNING = "pinning"
    PINNED = "pinned"
    FAILED = "failed"
    NOT_PINNED = "not_pinned"  # the service has no pin for the CID (Kubo, Pinata)


@dataclass(frozen=True)
class PinStatus:
    cid: CID
    state: PinState
    request_id: str | None = None
    info: str | None = None


class PinningService(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def identity(self) -> str:
        """`kind endpoint`: what the upload cache keys its entries by (never the token)."""
        ...

    async def upload_file(
        self, path: Path, *, name: str, cid_version: int, on_bytes: ByteCallback | None = None
    ) -> CID: ...

    async def upload_folder(
        self,
        files: Sequence[tuple[str, Path]],
        *,
        name: str,
        cid_version: int,
        on_bytes: ByteCallback | None = None,
        expected_files: Mapping[str, CID] | None = None,
    ) -> CID:
        """`files` are (path relative to the folder, file on disk); returns the folder's CID.
        A service that answers per file checks each against `expected_files` (naming the file
        that differs)."""
        ...

    async def import_car(
        self, car: Path, *, pin_roots: bool, on_bytes: ByteCallback | None = None
    ) -> list[CID]: ...

    async def pin_cid(self, cid: CID, *, name: str) -> PinStatus: ...

    async def pin_status(self, cid: CID, request_id: str | None = None) -> PinStatus: ...

    async def aclose(self) -> None: ...
