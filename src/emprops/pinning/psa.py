"""The IPFS Pinning Service API (the standard several providers implement): POST /pins with
{cid, name, origins}, GET /pins?cid=... and GET /pins/{requestid}; statuses queued, pinning,
pinned, failed; a bearer token. The provider fetches the content itself (from `origins`, or the
public network), so nothing is uploaded: the bytes must already be reachable, e.g. on your own
Kubo node (`--to kubo` first) whose multiaddrs you pass as origins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from emprops.ipfs import CID
from emprops.pinning.errors import PinningRejected
from emprops.pinning.http_service import HttpPinningService, check_cid, parse_service_cid
from emprops.pinning.service import Capability, PinState, PinStatus

_STATES = {state.value: state for state in PinState}
_PREFERENCE = {PinState.PINNED: 0, PinState.PINNING: 1, PinState.QUEUED: 2}
MAX_NAME_LENGTH = 255


class PinningServiceApi(HttpPinningService):
    kind: ClassVar[str] = "psa"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"pin_cid"})

    def __init__(self, endpoint: str, token: str | None = None, *, origins: Sequence[str] = (),
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(endpoint, token, **kwargs)
        self.origins = list(origins)

    def _status(self, body: Any, expected: CID, what: str) -> PinStatus:
        if not isinstance(body, dict) or not isinstance(body.get("pin"), dict):
            raise PinningRejected(f"{what}: not a PinStatus object: {str(body)[:200]}")
        theirs = check_cid(expected, parse_service_cid(body["pin"].get("cid"), what), what)
        state = _STATES.get(str(body.get("status")))
        if state is None or state == PinState.NOT_PINNED:
            raise PinningRejected(f"{what}: unknown pin status {body.get('status')!r}")
        info = body.get("info")
        return PinStatus(
            cid=theirs,
            state=state,
            request_id=str(body.get("requestid")) if body.get("requestid") else None,
            info=str(info) if info else None,
        )

    async def find(self, cid: CID) -> PinStatus | None:
        """The most advanced existing, not failed, pin request for `cid`: asking twice for the
        same pin (a re-run) reuses it instead of queueing a duplicate."""
        what = self.describe(f"look up pins of {cid}")
        params = {"cid": str(cid), "status": "queued,pinning,pinned", "limit": 10}
        response = await self.send(self.request("GET", "/pins", params=params), what)
        body = response.json()
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise PinningRejected(f"{what}: no `results` list in {str(body)[:200]}")
        statuses = [self._status(item, cid, what) for item in results]
        statuses = [s for s in statuses if s.state in _PREFERENCE]
        return min(statuses, key=lambda s: _PREFERENCE[s.state]) if statuses else None

    async def pin_cid(self, cid: CID, *, name: str) -> PinStatus:
        existing = await self.find(cid)
        if existing is not None:
            return existing
        what = self.describe(f"pin {name} ({cid})")
        payload: dict[str, Any] = {"cid": str(cid), "name": name[:MAX_NAME_LENGTH]}
        if self.origins:
            payload["origins"] = self.origins
        response = await self.send(self.request("POST", "/pins", json=payload), what)
        return self._status(response.json(), cid, what)

    async def pin_status(self, cid: CID, request_id: str | None = None) -> PinStatus:
        if request_id is None:
            found = await self.find(cid)
            return found or PinStatus(cid=cid, state=PinState.NOT_PINNED)
        what = self.describe(f"check pin request {request_id} ({cid})")
        response = await self.send(self.request("GET", f"/pins/{request_id}"), what)
        return self._status(response.json(), cid, what)
