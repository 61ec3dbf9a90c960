"""Uploads files, folders and CARs to one pinning service through the upload cache, checking
every CID the service reports against the one we computed.

How a folder goes up depends on what the service can do:
- `per_file` (Kubo): each file added on its own, in parallel (bounded), each confirmed upload
  cached at once; then the folder's directory nodes as a small CAR, then a recursive pin. An
  interrupted upload resumes at the next file, not at the start of the folder.
- `one_request` (Pinata; Kubo if asked): every file in one multipart request; the folder is the
  unit of resume.
- `pin` (Pinning Service API): a pin request for the folder's CID, polled until pinned; the
  request id is cached so a re-run keeps waiting on it instead of asking again.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emprops.core.errors import EmpropsError
from emprops.ipfs import CID, ImportOptions, cid_of_file
from emprops.pinning.directory_car import FolderBlocks, write_directory_car
from emprops.pinning.errors import (
    CidMismatchError,
    ContentChangedError,
    PinFailedError,
    PinningRejected,
    PinningUnavailable,
    UnsupportedUploadError,
)
from emprops.pinning.http_service import check_cid, same_content
from emprops.pinning.service import ByteCallback, PinningService, PinState, PinStatus
from emprops.pinning.upload_cache import CacheState, UploadCache

FolderMode = Literal["auto", "per_file", "one_request"]
Outcome = Literal["uploaded", "cached", "pinned", "requested"]


@dataclass(frozen=True)
class UploadEvent:
    name: str
    cid: str
    outcome: Outcome
    bytes: int = 0


EventCallback = Callable[[UploadEvent], None]


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first of our errors inside a task group's failure (others died with it)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return first_error(exc)
        if isinstance(exc, EmpropsError):
            return exc
    return group.exceptions[0]


class Uploader:
    def __init__(
        self,
        service: PinningService,
        cache: UploadCache,
        *,
        import_options: ImportOptions,
        concurrency: int = 4,
        folder_mode: FolderMode = "auto",
        pin_timeout_s: float = 600.0,
        poll_s: float = 2.0,
        on_bytes: ByteCallback | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        self.service = service
        self.cache = cache
        self.options = import_options
        self.folder_mode = folder_mode
        self.pin_timeout_s = pin_timeout_s
        self.poll_s = poll_s
        self.on_bytes = on_bytes
        self.on_event = on_event
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def _service_id(self) -> str:
        return self.service.identity

    def _emit(self, name: str, cid: CID, outcome: Outcome, size: int = 0) -> None:
        if self.on_event is not None:
            self.on_event(UploadEvent(name, str(cid), outcome, size))

    def _skip_bytes(self, size: int) -> None:
        if self.on_bytes is not None and size:
            self.on_bytes(size)

    def _what(self, action: str) -> str:
        return f"{action} ({self.service.kind} {self.service.endpoint})"

    def folder_strategy(self) -> Literal["per_file", "one_request", "pin"]:
        caps = self.service.capabilities
        per_file = {"upload_file", "import_car", "pin_cid"} <= caps
        if self.folder_mode in ("auto", "per_file") and per_file:
            return "per_file"
        if self.folder_mode != "per_file" and "upload_folder" in caps:
            return "one_request"
        if "pin_cid" in caps and not {"upload_file", "upload_folder"} & caps:
            return "pin"
        raise UnsupportedUploadError(
            f"{self.service.kind} cannot upload folders {self.folder_mode.replace('_', ' ')}"
        )

    @staticmethod
    def _check_expected(name: str, cid: CID, expected: CID | None) -> None:
        if expected is not None and not same_content(expected, cid):
            raise ContentChangedError(
                f"{name} now has CID {cid}, not {expected} as packaged: it changed since it was "
                "packaged (package again, then upload)",
                details={"name": name, "expected": str(expected), "actual": str(cid)},
            )

    async def file(self, path: Path, name: str, expected: CID | None = None) -> CID:
        """Upload (or pin) one file; returns its CID. With `expected`, a file whose content no
        longer has that CID is refused before anything is sent."""
        cid = await asyncio.to_thread(cid_of_file, path, self.options)
        self._check_expected(name, cid, expected)
        size = (await asyncio.to_thread(path.stat)).st_size
        if self.cache.is_pinned(self._service_id, str(cid)):
            self._skip_bytes(size)
            self._emit(name, cid, "cached", size)
            return cid
        if "upload_file" in self.service.capabilities:
            await self._upload_one(path, name, cid, size)
        else:
            await self._pin(cid, name, "pin")
        return cid

    async def _upload_one(self, path: Path, name: str, cid: CID, size: int) -> None:
        async with self._slots:
            theirs = await self.service.upload_file(
                path, name=name, cid_version=self.options.cid_version, on_bytes=self.on_bytes
            )
        check_cid(cid, theirs, self._what(f"upload {name}"))
        self.cache.record(self._service_id, str(cid), name=name, kind="file", size=size)
        self._emit(name, cid, "uploaded", size)

    async def folder(self, folder: Path, name: str, expected: CID | None = None) -> CID:
        """Upload (or pin) a folder as `ipfs add -r` would make it; returns its CID."""
        with tempfile.TemporaryDirectory(prefix="emprops-dirs-") as scratch:
            car = Path(scratch) / "directories.car"
            blocks = await asyncio.to_thread(write_directory_car, folder, car, self.options)
            self._check_expected(f"{name}/", blocks.root, expected)
            total = sum(blocks.sizes.values())
            if self.cache.is_pinned(self._service_id, str(blocks.root)):
                self._skip_bytes(total)
                self._emit(name, blocks.root, "cached", total)
                return blocks.root
            strategy = self.folder_strategy()
            if strategy == "per_file":
                await self._folder_per_file(folder, name, blocks, car)
            elif strategy == "one_request":
                await self._folder_one_request(folder, name, blocks, total)
            else:
                await self._pin(blocks.root, name, "pin")
            return blocks.root

    async def _folder_per_file(
        self, folder: Path, name: str, blocks: FolderBlocks, car: Path
    ) -> None:
        async def one(relative: str, cid: CID) -> None:
            size = blocks.sizes[relative]
            if self.cache.is_pinned(self._service_id, str(cid)):
                self._skip_bytes(size)
                self._emit(f"{name}/{relative}", cid, "cached", size)
                return
            await self._upload_one(folder / relative, f"{name}/{relative}", cid, size)

        try:
            async with asyncio.TaskGroup() as group:
                for relative, cid in sorted(blocks.files.items()):
                    group.create_task(one(relative, cid))
        except BaseExceptionGroup as failure:
            raise first_error(failure) from None
        async with self._slots:
            roots = await self.service.import_car(car, pin_roots=False)
        if roots and not any(same_content(blocks.root, r) for r in roots):
            raise CidMismatchError(
                self._what(f"import the directory nodes of {name}/")
                + f": the service reports roots {', '.join(map(str, roots))}, not {blocks.root}"
            )
        await self._pin(blocks.root, name, "folder", size=sum(blocks.sizes.values()))

    async def _folder_one_request(
        self, folder: Path, name: str, blocks: FolderBlocks, total: int
    ) -> None:
        files = [(relative, folder / relative) for relative in sorted(blocks.files)]
        async with self._slots:
            theirs = await self.service.upload_folder(
                files, name=name, cid_version=self.options.cid_version, on_bytes=self.on_bytes,
                expected_files=blocks.files,
            )  # fmt: skip
        check_cid(blocks.root, theirs, self._what(f"upload {name}/ ({len(files)} files)"))
        self.cache.record(self._service_id, str(blocks.root), name=name, kind="folder", size=total)
        self._emit(name, blocks.root, "uploaded", total)

    async def car(self, car: Path, name: str, root: CID) -> CID:
        """Import a CAR and pin its root (Kubo `dag/import`)."""
        size = (await asyncio.to_thread(car.stat)).st_size
        if self.cache.is_pinned(self._service_id, str(root)):
            self._skip_bytes(size)
            self._emit(name, root, "cached", size)
            return root
        if "import_car" not in self.service.capabilities:
            raise UnsupportedUploadError(
                f"{self.service.kind} ({self.service.endpoint}) takes no CAR files: upload "
                "the package without --car"
            )
        async with self._slots:
            roots = await self.service.import_car(car, pin_roots=True, on_bytes=self.on_bytes)
        if not any(same_content(root, r) for r in roots):
            raise CidMismatchError(
                self._what(f"import {name}")
                + f": the service pinned {', '.join(map(str, roots)) or 'nothing'}, not {root}",
                details={"expected": str(root), "actual": [str(r) for r in roots]},
            )
        self.cache.record(self._service_id, str(root), name=name, kind="car", size=size)
        self._emit(name, root, "uploaded", size)
        return root

    async def _pin(self, cid: CID, name: str, kind: str, *, size: int = 0) -> None:
        """Request a pin (or find the request a previous run made) and wait until it is pinned."""
        entry = self.cache.get(self._service_id, str(cid))
        status: PinStatus | None = None
        if entry is not None and entry.state == CacheState.REQUESTED and entry.request_id:
            try:
                async with self._slots:
                    status = await self.service.pin_status(cid, entry.request_id)
            except PinningRejected as exc:
                if exc.details.get("status") != 404:
                    raise
                self.cache.forget(self._service_id, str(cid))  # the request is gone: ask again
        if status is None or status.state == PinState.NOT_PINNED:
            async with self._slots:
                status = await self.service.pin_cid(cid, name=name)
        deadline = time.monotonic() + self.pin_timeout_s
        while status.state in (PinState.QUEUED, PinState.PINNING):
            self.cache.record(self._service_id, str(cid), name=name, kind=kind,
                              state=CacheState.REQUESTED, request_id=status.request_id, size=size)  # fmt: skip
            if time.monotonic() >= deadline:
                raise PinningUnavailable(
                    self._what(f"pin {name} ({cid})")
                    + f": still {status.state} after {self.pin_timeout_s:.0f} s; the request "
                    f"({status.request_id}) is saved: run the upload again to keep waiting",
                    details={"request_id": status.request_id, "state": str(status.state)},
                )
            await asyncio.sleep(self.poll_s)
            async with self._slots:
                status = await self.service.pin_status(cid, status.request_id)
        if status.state != PinState.PINNED:
            self.cache.forget(self._service_id, str(cid))
            raise PinFailedError(
                self._what(f"pin {name} ({cid})") + f": the service says {status.state}"
                + (f" ({status.info})" if status.info else ""),
                details={"request_id": status.request_id, "state": str(status.state)},
            )  # fmt: skip
        self.cache.record(self._service_id, str(cid), name=name, kind=kind, size=size)
        self._emit(name, cid, "pinned", size)
