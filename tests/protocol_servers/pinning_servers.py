"""Local servers speaking the three pinning APIs the uploader uses, answering as the real services
do: the IPFS Pinning Service API (POST/GET /pins, GET /pins/{requestid}, statuses queued → pinning
→ pinned | failed, bearer auth, `{"error": {"reason", "details"}}`), Pinata's upload API
(`/pinning/pinFileToIPFS` multipart with `pinataOptions`/`pinataMetadata`, `/data/pinList`) and a
Kubo node's RPC (`/api/v0/add`, `/dag/import`, `/pin/add`, `/pin/ls`, all POST; errors as
`{"Message", "Code", "Type": "error"}` with HTTP 500).

CIDs come from our importer (the one tested against real Kubo), and the Kubo server keeps the blocks
it receives and walks the DAG before it pins, as Kubo does: a folder whose blocks are missing cannot
be pinned. `inject(...)` queues faults for the next matching requests: "429" (with Retry-After),
"500", "503", "wrong_cid" (answer another CID), "hang" (answer after `hang_s`), "lost" (store,
then answer 503, as when the response is lost).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from emprops.ipfs import (
    CID,
    DirectoryTree,
    ImportedNode,
    ImportOptions,
    import_tree,
    iter_car_blocks,
    read_car_header,
)
from tests.ipfs.dag_blocks import reachable

_PARAM = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_multipart(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """(headers with lower-case names plus `name`/`filename` from Content-Disposition, data)."""
    match = re.search(r"boundary=\"?([^\";]+)\"?", content_type)
    if match is None:
        raise ValueError("no multipart boundary")
    delimiter = b"--" + match.group(1).encode()
    parts: list[tuple[dict[str, str], bytes]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        for key, value in _PARAM.findall(headers.get("content-disposition", "")):
            headers[key] = value.replace('\\"', '"').replace("\\\\", "\\")
        parts.append((headers, data.removesuffix(b"\r\n")))
    return parts


def other_cid(cid: CID) -> CID:
    """A well-formed CID that is not `cid` (what a misbehaving service might answer)."""
    return CID.of_block(cid.version, cid.codec, cid.binary + b"!")


class BlockStore:
    """A BlockSink that keeps blocks, like a node's blockstore."""

    def __init__(self) -> None:
        self.blocks: dict[CID, bytes] = {}

    def put(self, cid: CID, *parts: bytes | memoryview) -> None:
        data = b"".join(bytes(p) for p in parts)
        assert hashlib.sha256(data).digest() == cid.digest
        self.blocks[cid] = data

    def missing(self, root: CID) -> CID | None:
        """The first block of the DAG under `root` that is not here, or None."""
        try:
            for _ in reachable(self.blocks, root):
                pass
        except KeyError as exc:
            return exc.args[0] if isinstance(exc.args[0], CID) else root
        return None


class FaultyServer:
    """Shared fault injection, auth and request log."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.faults: deque[tuple[str | None, str]] = deque()
        self.requests: list[str] = []
        self.retry_after = "0"
        self.hang_s = 5.0
        self.app = FastAPI()

    def inject(self, *faults: str, route: str | None = None) -> None:
        for fault in faults:
            self.faults.append((route, fault))

    def take_fault(self, route: str) -> str | None:
        for i, (wanted, fault) in enumerate(self.faults):
            if wanted is None or wanted == route:
                del self.faults[i]
                return fault
        return None

    def authorized(self, request: Request) -> bool:
        return self.token is None or request.headers.get("authorization") == f"Bearer {self.token}"

    async def early_fault(self, fault: str | None) -> Response | None:
        """Faults that replace the answer before any work is done."""
        if fault == "hang":
            await asyncio.sleep(self.hang_s)
        if fault == "429":
            return JSONResponse(self.error_body(429, "rate limited"), status_code=429,
                                headers={"Retry-After": self.retry_after})  # fmt: skip
        if fault in ("500", "503"):
            return JSONResponse(self.error_body(int(fault), "try later"), status_code=int(fault))
        return None

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"reason": "ERROR", "details": message}}


def _tree_from(files: list[tuple[str, bytes]], directories: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for directory in directories:
        node = tree
        for segment in directory.split("/"):
            node = node.setdefault(segment, {})
    for path, data in files:
        *parents, name = path.split("/")
        node = tree
        for segment in parents:
            node = node.setdefault(segment, {})
        node[name] = data
    return tree


class PsaServer(FaultyServer):
    """IPFS Pinning Service API. A pin advances one state per status read: queued, pinning, then
    pinned (or failed for CIDs in `fail_cids`, or stays pinning while `fetchable(cid)` is False,
    as a provider that cannot find the content)."""

    def __init__(self, token: str | None = "psa-secret") -> None:
        super().__init__(token)
        self.pins: dict[str, dict[str, Any]] = {}
        self.fail_cids: set[str] = set()
        self.fetchable: Callable[[str], bool] = lambda cid: True
        self.post_count = 0
        self._routes()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        reasons = {401: "UNAUTHORIZED", 404: "NOT_FOUND", 429: "RATE_LIMIT", 400: "BAD_REQUEST"}
        return {"error": {"reason": reasons.get(status, "INTERNAL_SERVER_ERROR"),
                          "details": message}}  # fmt: skip

    def _advance(self, pin: dict[str, Any]) -> None:
        cid = pin["pin"]["cid"]
        if pin["status"] == "queued":
            pin["status"] = "pinning"
        elif pin["status"] == "pinning":
            if cid in self.fail_cids:
                pin["status"] = "failed"
                pin["info"] = {"status_details": "could not fetch the DAG"}
            elif self.fetchable(cid):
                pin["status"] = "pinned"

    def _routes(self) -> None:
        app = self.app

        @app.middleware("http")
        async def guard(request: Request, call_next: Any) -> Response:
            self.requests.append(f"{request.method} {request.url.path}")
            if not self.authorized(request):
                return JSONResponse(self.error_body(401, "invalid token"), status_code=401)
            fault = self.take_fault(request.method)
            early = await self.early_fault(fault)
            if early is not None:
                return early
            request.state.fault = fault
            response: Response = await call_next(request)
            return response

        @app.post("/pins")
        async def add_pin(request: Request) -> Response:
            body = await request.json()
            try:
                cid = CID.parse(str(body.get("cid")))
            except Exception:
                return JSONResponse(self.error_body(400, "invalid cid"), status_code=400)
            self.post_count += 1
            answer = other_cid(cid) if request.state.fault == "wrong_cid" else cid
            pin = {
                "requestid": uuid.uuid4().hex, "status": "queued",
                "created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "pin": {"cid": str(answer), "name": body.get("name"),
                        "origins": body.get("origins", []), "meta": body.get("meta", {})},
                "delegates": ["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWtest"], "info": {},
            }  # fmt: skip
            self.pins[pin["requestid"]] = pin
            return JSONResponse(pin, status_code=202)

        @app.get("/pins")
        async def list_pins(request: Request) -> Response:
            cids = set(filter(None, request.query_params.get("cid", "").split(",")))
            statuses = set(request.query_params.get("status", "pinned").split(","))
            results = []
            for pin in self.pins.values():
                if cids and pin["pin"]["cid"] not in cids:
                    continue
                self._advance(pin)
                if pin["status"] in statuses:
                    results.append(pin)
            limit = int(request.query_params.get("limit", "10"))
            return JSONResponse({"count": len(results), "results": results[:limit]})

        @app.get("/pins/{requestid}")
        async def get_pin(requestid: str) -> Response:
            pin = self.pins.get(requestid)
            if pin is None:
                return JSONResponse(self.error_body(404, "no such pin request"), status_code=404)
            self._advance(pin)
            return JSONResponse(pin)

        @app.delete("/pins/{requestid}")
        async def delete_pin(requestid: str) -> Response:
            if self.pins.pop(requestid, None) is None:
                return JSONResponse(self.error_body(404, "no such pin request"), status_code=404)
            return Response(status_code=202)


class PinataServer(FaultyServer):
    def __init__(self, token: str | None = "pinata-jwt") -> None:
        super().__init__(token)
        self.pins: dict[str, dict[str, Any]] = {}
        self.uploads = 0
        self.uploaded_bytes = 0
        self._routes()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        if status == 401:
            return {"error": {"reason": "INVALID_CREDENTIALS", "details": message}}
        return {"error": message}

    def _routes(self) -> None:
        app = self.app

        @app.middleware("http")
        async def guard(request: Request, call_next: Any) -> Response:
            self.requests.append(f"{request.method} {request.url.path}")
            if not self.authorized(request):
                return JSONResponse(self.error_body(401, "Invalid/expired credentials provided."),
                                    status_code=401)  # fmt: skip
            fault = self.take_fault(request.url.path)
            early = await self.early_fault(fault)
            if early is not None:
                return early
            request.state.fault = fault
            response: Response = await call_next(request)
            return response

        @app.get("/data/testAuthentication")
        async def test_auth() -> Response:
            return JSONResponse({"message": "Congratulations! You are communicating with the "
                                            "Pinata API!"})  # fmt: skip

        @app.post("/pinning/pinFileToIPFS")
        async def pin_file(request: Request) -> Response:
            body = await request.body()
            parts = parse_multipart(body, request.headers["content-type"])
            files = [(h["filename"], d) for h, d in parts if h.get("name") == "file"]
            fields = {h["name"]: d for h, d in parts if h.get("name") != "file"}
            options = json.loads(fields.get("pinataOptions", b"{}"))
            metadata = json.loads(fields.get("pinataMetadata", b"{}"))
            import_options = ImportOptions(cid_version=int(options.get("cidVersion", 0)))
            if not files:
                return JSONResponse({"error": "Invalid request format."}, status_code=400)
            if len(files) == 1 and "/" not in files[0][0]:
                tree: DirectoryTree = {files[0][0]: files[0][1]}
                node = _single(tree, import_options, files[0][0])
            else:
                roots = {name.split("/", 1)[0] for name, _ in files}
                if len(roots) != 1 or any("/" not in name for name, _ in files):
                    return JSONResponse(
                        {"error": "More than one file and no directory"}, status_code=400
                    )
                inner = [(name.split("/", 1)[1], data) for name, data in files]
                tree = _tree_from(inner, [])
                if options.get("wrapWithDirectory"):
                    tree = {roots.pop(): tree}
                node = import_tree(tree, import_options)
            self.uploads += 1
            self.uploaded_bytes += sum(len(d) for _, d in files)
            cid = str(node.cid)
            duplicate = cid in self.pins
            self.pins[cid] = {"name": metadata.get("name"), "size": node.tsize}
            if request.state.fault == "lost":
                return JSONResponse({"error": "gateway timeout"}, status_code=503)
            answer = str(other_cid(node.cid)) if request.state.fault == "wrong_cid" else cid
            return JSONResponse({"IpfsHash": answer, "PinSize": node.tsize,
                                 "Timestamp": datetime.now(UTC).isoformat(),
                                 "isDuplicate": duplicate})  # fmt: skip

        @app.get("/data/pinList")
        async def pin_list(request: Request) -> Response:
            wanted = request.query_params.get("hashContains", "")
            rows = [
                {"id": uuid.uuid5(uuid.NAMESPACE_URL, cid).hex, "ipfs_pin_hash": cid,
                 "size": pin["size"], "date_pinned": "2025-01-01T00:00:00.000Z",
                 "metadata": {"name": pin["name"], "keyvalues": None}}
                for cid, pin in self.pins.items() if wanted in cid
            ]  # fmt: skip
            return JSONResponse({"count": len(rows), "rows": rows})


def _single(tree: DirectoryTree, options: ImportOptions, name: str) -> ImportedNode:
    found: dict[str, ImportedNode] = {}
    import_tree(tree, options, on_entry=lambda path, node: found.__setitem__(path, node))
    return found[name]


class KuboServer(FaultyServer):
    def __init__(self, token: str | None = None) -> None:
        super().__init__(token)
        self.store = BlockStore()
        self.pins: set[CID] = set()
        self.added_files = 0
        self.added_bytes = 0
        self._routes()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"Message": message, "Code": 0, "Type": "error"}

    def kubo_error(self, message: str, status: int = 500) -> Response:
        return JSONResponse(self.error_body(status, message), status_code=status)

    def pin(self, cid: CID) -> str | None:
        """Pin recursively; the error Kubo would give when a block is missing (offline)."""
        missing = self.store.missing(cid)
        if missing is not None:
            return f"pin: block was not found locally (offline): ipld: could not find {missing}"
        self.pins.add(cid)
        return None

    def _routes(self) -> None:
        app = self.app

        @app.middleware("http")
        async def guard(request: Request, call_next: Any) -> Response:
            self.requests.append(f"{request.method} {request.url.path}")
            if request.method != "POST":
                return PlainTextResponse("405 - Method Not Allowed", status_code=405)
            if not self.authorized(request):
                return PlainTextResponse("401 Unauthorized", status_code=401)
            fault = self.take_fault(request.url.path)
            early = await self.early_fault(fault)
            if early is not None:
                return early
            request.state.fault = fault
            response: Response = await call_next(request)
            return response

        @app.post("/api/v0/add")
        async def add(request: Request) -> Response:
            params = request.query_params
            options = ImportOptions(cid_version=int(params.get("cid-version", "0")))
            parts = parse_multipart(await request.body(), request.headers["content-type"])
            files: list[tuple[str, bytes]] = []
            directories: list[str] = []
            for headers, data in parts:
                name = unquote(headers.get("filename", ""))
                if headers.get("content-type") == "application/x-directory":
                    directories.append(name)
                else:
                    files.append((name, data))
            if not files and not directories:
                return self.kubo_error("no files given", 400)
            tree = _tree_from(files, directories)
            lines: list[dict[str, Any]] = []

            def on_entry(path: str, node: ImportedNode) -> None:
                lines.append({"Name": path, "Hash": str(node.cid), "Size": str(node.tsize)})

            root = import_tree(tree, options, self.store, on_entry=on_entry)
            wrap = params.get("wrap-with-directory") == "true"
            if wrap:
                lines.append({"Name": "", "Hash": str(root.cid), "Size": str(root.tsize)})
            self.added_files += len(files)
            self.added_bytes += sum(len(d) for _, d in files)
            if params.get("pin", "true") == "true":
                tops = [root.cid] if wrap else [CID.parse(line["Hash"]) for line in lines
                                                if "/" not in line["Name"]]  # fmt: skip
                for cid in tops:
                    self.pin(cid)
            if request.state.fault == "lost":
                return self.kubo_error("connection reset", 503)
            if request.state.fault == "wrong_cid":
                lines[-1]["Hash"] = str(other_cid(CID.parse(lines[-1]["Hash"])))
            text = "".join(json.dumps(line) + "\n" for line in lines)
            return PlainTextResponse(text, media_type="application/json")

        @app.post("/api/v0/dag/import")
        async def dag_import(request: Request) -> Response:
            parts = parse_multipart(await request.body(), request.headers["content-type"])
            if not parts:
                return self.kubo_error("no CAR given", 400)
            stream = io.BytesIO(parts[0][1])
            try:
                roots = read_car_header(stream)
                for block in iter_car_blocks(stream):
                    if hashlib.sha256(block.data).digest() != block.cid.digest:
                        return self.kubo_error(f"block {block.cid} does not match its hash")
                    self.store.blocks[block.cid] = block.data
            except Exception as exc:
                return self.kubo_error(f"invalid CAR: {exc}")
            if request.query_params.get("pin-roots", "true") != "true":
                return PlainTextResponse("", media_type="application/json")
            out = []
            for root in roots:
                error = self.pin(root) or ""
                answer = other_cid(root) if request.state.fault == "wrong_cid" else root
                out.append({"Root": {"Cid": {"/": str(answer)}, "PinErrorMsg": error}})
            text = "".join(json.dumps(line) + "\n" for line in out)
            return PlainTextResponse(text, media_type="application/json")

        @app.post("/api/v0/pin/add")
        async def pin_add(request: Request) -> Response:
            try:
                cid = CID.parse(request.query_params.get("arg", ""))
            except Exception as exc:
                return self.kubo_error(f"invalid path: {exc}", 400)
            error = self.pin(cid)
            if error is not None:
                return self.kubo_error(error)
            return JSONResponse({"Pins": [str(cid)]})

        @app.post("/api/v0/pin/ls")
        async def pin_ls(request: Request) -> Response:
            arg = request.query_params.get("arg", "")
            cid = CID.parse(arg)
            if cid not in self.pins:
                return self.kubo_error(f"path '{arg}' is not pinned")
            return JSONResponse({"Keys": {arg: {"Type": "recursive"}}})
