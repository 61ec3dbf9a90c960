"""Pinata's upload API: `POST /pinning/pinFileToIPFS`, multipart, every file a `file` part.
A folder is sent as files named `<folder>/<path>`; Pinata answers the CID of the folder (its own
name is not part of the CID). `pinataOptions.cidVersion` picks CIDv0 or v1, `pinataMetadata.name`
labels the pin. Status: `GET /data/pinList?hashContains=<cid>&status=pinned`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import orjson

from emprops.ipfs import CID
from emprops.pinning.errors import PinningRejected
from emprops.pinning.http_service import AttemptBytes, HttpPinningService, parse_service_cid
from emprops.pinning.multipart import FormPart, MultipartBody
from emprops.pinning.service import ByteCallback, Capability, PinState, PinStatus

DEFAULT_ENDPOINT = "https://api.pinata.cloud"
UPLOAD_PATH = "/pinning/pinFileToIPFS"


class PinataService(HttpPinningService):
    kind: ClassVar[str] = "pinata"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"upload_file", "upload_folder"})

    def _options(self, name: str, cid_version: int) -> list[FormPart]:
        options = {"cidVersion": cid_version, "wrapWithDirectory": False}
        return [
            FormPart("pinataOptions", data=orjson.dumps(options)),
            FormPart("pinataMetadata", data=orjson.dumps({"name": name})),
        ]

    async def _upload(self, parts: list[FormPart], what: str, on_bytes: ByteCallback | None) -> CID:
        body = MultipartBody(parts)
        response = await self.send(
            self.multipart_request(UPLOAD_PATH, body, AttemptBytes(on_bytes)), what
        )
        answer = response.json()
        if not isinstance(answer, dict):
            raise PinningRejected(f"{what}: unexpected answer {str(answer)[:200]}")
        return parse_service_cid(answer.get("IpfsHash"), what)

    async def upload_file(
        self, path: Path, *, name: str, cid_version: int, on_bytes: ByteCallback | None = None
    ) -> CID:
        part = FormPart("file", filename=path.name, path=path,
                        content_type="application/octet-stream")  # fmt: skip
        what = self.describe(f"upload {name}")
        return await self._upload([part, *self._options(name, cid_version)], what, on_bytes)

    async def upload_folder(
        self,
        files: Sequence[tuple[str, Path]],
        *,
        name: str,
        cid_version: int,
        on_bytes: ByteCallback | None = None,
        expected_files: Mapping[str, CID] | None = None,
    ) -> CID:
        folder = Path(name).name or "folder"
        parts = [
            FormPart("file", filename=f"{folder}/{relative}", path=path,
                     content_type="application/octet-stream")
            for relative, path in files
        ]  # fmt: skip
        what = self.describe(f"upload {name}/ ({len(files)} files)")
        return await self._upload([*parts, *self._options(name, cid_version)], what, on_bytes)

    async def pin_status(self, cid: CID, request_id: str | None = None) -> PinStatus:
        what = self.describe(f"check pin of {cid}")
        params = {"hashContains": str(cid), "status": "pinned", "pageLimit": 1}
        response = await self.send(self.request("GET", "/data/pinList", params=params), what)
        body = response.json()
        rows = body.get("rows") if isinstance(body, dict) else None
        pinned = isinstance(rows, list) and any(
            isinstance(row, dict) and row.get("ipfs_pin_hash") == str(cid) for row in rows
        )
        return PinStatus(cid=cid, state=PinState.PINNED if pinned else PinState.NOT_PINNED)
