"""What every HTTP pinning backend shares: one httpx client, a bearer token, retries, and the
refusal of operations its API does not have."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx

from emprops.ipfs import CID
from emprops.pinning.errors import CidMismatchError, PinningRejected, UnsupportedUploadError
from emprops.pinning.http_retry import RETRY_STATUSES, RetryPolicy, send_with_retry
from emprops.pinning.multipart import MultipartBody
from emprops.pinning.service import ByteCallback, Capability, PinStatus


def same_content(ours: CID, theirs: CID) -> bool:
    """Same codec and multihash: a CIDv0 and the CIDv1 of the same dag-pb node name the same
    bytes. A different multihash means different bytes or a different DAG layout."""
    return ours.codec == theirs.codec and ours.multihash == theirs.multihash


def parse_service_cid(text: object, what: str) -> CID:
    if not isinstance(text, str):
        raise PinningRejected(f"{what}: the service answered no CID (got {text!r})")
    try:
        return CID.parse(text)
    except Exception as exc:
        raise PinningRejected(f"{what}: the service answered an unreadable CID {text!r}") from exc


def check_cid(ours: CID, theirs: CID, what: str) -> CID:
    if not same_content(ours, theirs):
        raise CidMismatchError(
            f"{what}: the service stored it as {theirs}, but its CID is {ours}: published links "
            "would not resolve to these bytes (different chunking, CID version or file contents)",
            details={"expected": str(ours), "actual": str(theirs)},
        )
    return theirs


class AttemptBytes:
    """Byte progress for one upload that may be sent several times: a retry takes back what the
    failed attempt reported, so a progress bar never counts a byte twice."""

    def __init__(self, on_bytes: ByteCallback | None) -> None:
        self.on_bytes = on_bytes
        self.sent = 0

    def restart(self) -> None:
        if self.sent and self.on_bytes is not None:
            self.on_bytes(-self.sent)
        self.sent = 0

    def __call__(self, count: int) -> None:
        self.sent += count
        if self.on_bytes is not None:
            self.on_bytes(count)


class HttpPinningService:
    kind: ClassVar[str] = "http"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    retry_statuses: ClassVar[frozenset[int]] = RETRY_STATUSES

    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        *,
        policy: RetryPolicy | None = None,
        timeout_s: float = 300.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.policy = policy or RetryPolicy()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = client or httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0))
        )
        self._owns_client = client is None
        if client is not None and token:
            self._client.headers.update(headers)

    @property
    def identity(self) -> str:
        return f"{self.kind} {self.endpoint}"

    def describe(self, action: str) -> str:
        return f"{action} ({self.kind} {self.endpoint})"

    async def send(self, build: Callable[[], httpx.Request], what: str) -> httpx.Response:
        return await send_with_retry(
            self._client, build, what, self.policy, retry_statuses=self.retry_statuses
        )

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Callable[[], httpx.Request]:
        url = f"{self.endpoint}{path}"
        return lambda: self._client.build_request(method, url, params=params, json=json)

    def multipart_request(
        self,
        path: str,
        body: MultipartBody,
        progress: AttemptBytes,
        params: dict[str, Any] | None = None,
    ) -> Callable[[], httpx.Request]:
        url = f"{self.endpoint}{path}"

        def build() -> httpx.Request:
            progress.restart()
            return self._client.build_request(
                "POST", url, params=params, content=body.stream(progress), headers=body.headers()
            )

        return build

    def _unsupported(self, operation: str) -> UnsupportedUploadError:
        return UnsupportedUploadError(
            f"{self.kind} ({self.endpoint}) cannot {operation}; its API only offers "
            f"{', '.join(sorted(self.capabilities)) or 'nothing we use'}"
        )

    async def upload_file(
        self, path: Path, *, name: str, cid_version: int, on_bytes: ByteCallback | None = None
    ) -> CID:
        raise self._unsupported("upload a file")

    async def upload_folder(
        self,
        files: Sequence[tuple[str, Path]],
        *,
        name: str,
        cid_version: int,
        on_bytes: ByteCallback | None = None,
        expected_files: Mapping[str, CID] | None = None,
    ) -> CID:
        raise self._unsupported("upload a folder")

    async def import_car(
        self, car: Path, *, pin_roots: bool, on_bytes: ByteCallback | None = None
    ) -> list[CID]:
        raise self._unsupported("import a CAR")

    async def pin_cid(self, cid: CID, *, name: str) -> PinStatus:
        raise self._unsupported("pin a CID it does not hold")

    async def pin_status(self, cid: CID, request_id: str | None = None) -> PinStatus:
        raise self._unsupported("report pin status")

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
