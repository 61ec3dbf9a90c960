"""A Kubo node's RPC API (`/api/v0/...`, every call a POST). `add` takes multipart files
(a folder: its files and `application/x-directory` parts, names URL-escaped, with
`wrap-with-directory` so the last line is the folder) and answers one JSON line per entry;
`dag/import` takes a CAR; `pin/add` pins a CID recursively; `pin/ls` says whether it is pinned.
Command errors come back as HTTP 500 with `{"Message", "Code", "Type": "error"}`: they are final,
so 500 is not retried here (unlike other services)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import quote

import orjson

from emprops.ipfs import CID
from emprops.pinning.errors import PinningRejected
from emprops.pinning.http_service import (
    AttemptBytes,
    HttpPinningService,
    check_cid,
    parse_service_cid,
)
from emprops.pinning.multipart import FormPart, MultipartBody
from emprops.pinning.service import ByteCallback, Capability, PinState, PinStatus

DEFAULT_ENDPOINT = "http://127.0.0.1:5001"
DIRECTORY_TYPE = "application/x-directory"


def _lines(text: str, what: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise PinningRejected(f"{what}: not a JSON line: {line[:200]!r}") from None
        if isinstance(item, dict):
            out.append(item)
    return out


class KuboRpc(HttpPinningService):
    kind: ClassVar[str] = "kubo"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"upload_file", "upload_folder", "import_car", "pin_cid"}
    )
    retry_statuses: ClassVar[frozenset[int]] = frozenset({429, 502, 503, 504})

    async def _add(
        self,
        parts: list[FormPart],
        params: dict[str, Any],
        what: str,
        on_bytes: ByteCallback | None,
    ) -> list[dict[str, Any]]:
        body = MultipartBody(parts)
        request = self.multipart_request("/api/v0/add", body, AttemptBytes(on_bytes), params)
        response = await self.send(request, what)
        lines = _lines(response.text, what)
        if not lines:
            raise PinningRejected(f"{what}: Kubo answered nothing")
        return lines

    async def upload_file(
        self, path: Path, *, name: str, cid_version: int, on_bytes: ByteCallback | None = None
    ) -> CID:
        part = FormPart("file", filename=quote(path.name, safe=""), path=path,
                        content_type="application/octet-stream")  # fmt: skip
        params = {"cid-version": cid_version, "pin": "true", "progress": "false"}
        what = self.describe(f"add {name}")
        lines = await self._add([part], params, what, on_bytes)
        return parse_service_cid(lines[-1].get("Hash"), what)

    async def upload_folder(
        self,
        files: Sequence[tuple[str, Path]],
        *,
        name: str,
        cid_version: int,
        on_bytes: ByteCallback | None = None,
        expected_files: Mapping[str, CID] | None = None,
    ) -> CID:
        """One request: every file, with directory parts for sub-folders, wrapped so the last
        line is the folder itself; every file's line is checked against `expected_files`."""
        parts: list[FormPart] = []
        made: set[str] = set()
        for relative, path in sorted(files):
            for parent in reversed(PurePosixPath(relative).parents[:-1]):
                key = parent.as_posix()
                if key not in made:
                    made.add(key)
                    parts.append(
                        FormPart("file", filename=quote(key, safe=""), content_type=DIRECTORY_TYPE)
                    )
            parts.append(FormPart("file", filename=quote(relative, safe=""), path=path,
                                  content_type="application/octet-stream"))  # fmt: skip
        params = {"cid-version": cid_version, "pin": "true", "progress": "false",
                  "wrap-with-directory": "true"}  # fmt: skip
        what = self.describe(f"add {name}/ ({len(files)} files)")
        lines = await self._add(parts, params, what, on_bytes)
        for line in lines[:-1]:
            entry = str(line.get("Name", ""))
            if expected_files is not None and entry in expected_files:
                check_cid(expected_files[entry], parse_service_cid(line.get("Hash"), what),
                          self.describe(f"add {name}/{entry}"))  # fmt: skip
        return parse_service_cid(lines[-1].get("Hash"), what)

    async def import_car(
        self, car: Path, *, pin_roots: bool, on_bytes: ByteCallback | None = None
    ) -> list[CID]:
        part = FormPart("file", filename=car.name, path=car,
                        content_type="application/vnd.ipld.car")  # fmt: skip
        params = {"pin-roots": "true" if pin_roots else "false"}
        what = self.describe(f"import {car.name}")
        body = MultipartBody([part])
        request = self.multipart_request("/api/v0/dag/import", body, AttemptBytes(on_bytes), params)
        response = await self.send(request, what)
        roots: list[CID] = []
        for line in _lines(response.text, what):
            root = line.get("Root")
            if not isinstance(root, dict):
                continue
            cid_field = root.get("Cid")
            text = cid_field.get("/") if isinstance(cid_field, dict) else cid_field
            cid = parse_service_cid(text, what)
            if root.get("PinErrorMsg"):
                raise PinningRejected(
                    f"{what}: Kubo could not pin root {cid}: {root['PinErrorMsg']}"
                )
            roots.append(cid)
        return roots

    async def pin_cid(self, cid: CID, *, name: str) -> PinStatus:
        what = self.describe(f"pin {name} ({cid})")
        params = {"arg": str(cid), "recursive": "true"}
        response = await self.send(self.request("POST", "/api/v0/pin/add", params=params), what)
        body = response.json()
        pins = body.get("Pins") if isinstance(body, dict) else None
        if not isinstance(pins, list) or not pins:
            raise PinningRejected(f"{what}: unexpected answer {str(body)[:200]}")
        check_cid(cid, parse_service_cid(pins[0], what), what)
        return PinStatus(cid=cid, state=PinState.PINNED)

    async def pin_status(self, cid: CID, request_id: str | None = None) -> PinStatus:
        what = self.describe(f"check pin of {cid}")
        params = {"arg": str(cid), "type": "recursive"}
        try:
            response = await self.send(self.request("POST", "/api/v0/pin/ls", params=params), what)
        except PinningRejected as exc:
            if "not pinned" in exc.message:
                return PinStatus(cid=cid, state=PinState.NOT_PINNED)
            raise
        keys = response.json().get("Keys") or {}
        pinned = any(same == str(cid) or _same(same, cid) for same in keys)
        return PinStatus(cid=cid, state=PinState.PINNED if pinned else PinState.NOT_PINNED)


def _same(text: str, cid: CID) -> bool:
    try:
        other = CID.parse(text)
    except Exception:
        return False
    return other.multihash == cid.multihash and other.codec == cid.codec
