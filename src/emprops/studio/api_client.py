"""The Studio calling the API's own routes, in process, with the signed-in user's credential.

Why: publishing and the indexer queries are other domains' HTTP contracts; calling the routes
(not their Python insides) keeps the Studio to exactly what any API client sees: the same
validation, the same error shape, and a missing route shown as the API's own 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from emprops.studio.session import StudioCredential

INTERNAL_BASE = "http://studio.internal"
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ApiReply:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> dict[str, Any]:
        """The API's `{"error": {"code", "message", "details"}}` part (or one made up for a
        body that is not in that shape)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            error: dict[str, Any] = self.body["error"]
            return {"code": error.get("code", "error"), "message": error.get("message", ""),
                    "details": error.get("details") or {}}  # fmt: skip
        return {"code": f"http_{self.status}", "message": str(self.body)[:500], "details": {}}


async def call_api(
    request: Request,
    credential: StudioCredential,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> ApiReply:
    """One API request through the same application (middleware, auth and all)."""
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(
        transport=transport, base_url=INTERNAL_BASE, timeout=TIMEOUT_S
    ) as client:
        response = await client.request(
            method, path, json=json, params=params, headers=credential.headers()
        )
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return ApiReply(status=response.status_code, body=body)
