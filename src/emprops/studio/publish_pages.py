"""The Publish and On-chain tabs: the page is a client of the publishing and indexer routes
(called in process with the user's credential), rendering their JSON and their errors as they
come, a missing route included."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request, Response

from emprops.core.errors import EmpropsError
from emprops.studio.api_client import ApiReply, call_api
from emprops.studio.forms import FieldErrors, PostedForm, add_error_body, read_form, same_name
from emprops.studio.rendering import StudioRoute, Viewer, is_fragment, render
from emprops.studio.session import Credential, SignInRequired, StudioCredential

router = APIRouter(route_class=StudioRoute)
PublishAction = Literal["package", "deploy", "mint"]
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "package": ("symbol", "royalty_bps", "royalty_recipient"),
    "deploy": ("chain", "owner"),
    "mint": ("to", "quantity", "request_id"),
}
NUMBER_FIELDS = ("royalty_bps", "quantity")
BUSY = ("queued", "running")


class ApiCallFailed(EmpropsError):
    """An API call the page cannot do without (the collection itself) failed."""

    def __init__(self, reply: ApiReply) -> None:
        error = reply.error
        super().__init__(str(error["message"]), details=error["details"])
        self.http_status = reply.status
        self.code = error["code"]


async def _viewer_and_collection(
    request: Request, credential: StudioCredential, collection_id: uuid.UUID
) -> tuple[Viewer, dict[str, Any]]:
    me = await call_api(request, credential, "GET", "/me")
    if me.status == 401:
        raise SignInRequired(me.error["message"])
    if not me.ok:
        raise ApiCallFailed(me)
    collection = await call_api(request, credential, "GET", f"/collections/{collection_id}")
    if not collection.ok:
        raise ApiCallFailed(collection)
    return Viewer.from_me(me.body), collection.body


def _stage(status: ApiReply) -> str | None:
    return status.body.get("stage") if status.ok and isinstance(status.body, dict) else None


def _busy(status: ApiReply) -> bool:
    if not status.ok or not isinstance(status.body, dict):
        return False
    return any(op.get("status") in BUSY for op in status.body.get("operations") or [])


async def _publish_page(
    request: Request,
    credential: StudioCredential,
    collection_id: uuid.UUID,
    *,
    action: str | None = None,
    result: ApiReply | None = None,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    viewer, collection = await _viewer_and_collection(request, credential, collection_id)
    status = await call_api(request, credential, "GET", f"/collections/{collection_id}/publishing")
    template = "fragments/publish_panel.html" if is_fragment(request) else "collection_publish.html"
    return render(
        request, template, viewer, status_code=status_code,
        collection=collection, stage=_stage(status), tab="publish", status=status,
        busy=_busy(status), action=action, result=result, errors=errors or FieldErrors(),
        values=values or {"quantity": "1", "request_id": f"studio-{uuid.uuid4().hex[:8]}"},
    )  # fmt: skip


@router.get("/collections/{collection_id}/publish")
async def publish_tab(
    request: Request, collection_id: uuid.UUID, credential: Credential
) -> Response:
    return await _publish_page(request, credential, collection_id)


def _action_body(action: str, form: PostedForm, errors: FieldErrors) -> dict[str, Any]:
    """The route's JSON body from the form: blank fields left out, numbers as numbers (anything
    else is the API's to refuse, next to the field)."""
    body: dict[str, Any] = {}
    for name in FORM_FIELDS[action]:
        value = form.optional(name)
        if value is None:
            continue
        if name in NUMBER_FIELDS:
            if not value.lstrip("-").isdigit():
                errors.add(name, f"{value!r} is not a whole number")
                continue
            body[name] = int(value)
        else:
            body[name] = value
    return body


@router.post("/collections/{collection_id}/publish/{action}")
async def publish_action(
    request: Request, collection_id: uuid.UUID, action: PublishAction, credential: Credential
) -> Response:
    """`POST /collections/{id}/package|deploy|mint` with the form as its body."""
    form = await read_form(request)
    values = {name: form.get(name) for names in FORM_FIELDS.values() for name in names}
    errors = FieldErrors()
    body = _action_body(action, form, errors)
    reply: ApiReply | None = None
    if not errors:
        reply = await call_api(
            request, credential, "POST", f"/collections/{collection_id}/{action}", json=body
        )
        if not reply.ok:
            error = reply.error
            add_error_body(errors, str(error["message"]), error["details"],
                           same_name(FORM_FIELDS[action]))  # fmt: skip
    return await _publish_page(
        request, credential, collection_id, action=action, result=reply, errors=errors,
        values=values, status_code=200 if reply is not None and reply.ok else 422,
    )  # fmt: skip


@router.get("/collections/{collection_id}/chain")
async def chain_tab(
    request: Request,
    collection_id: uuid.UUID,
    credential: Credential,
    owner: str | None = None,
) -> Response:
    """What the indexer saw: the collection's mints, and the tokens an address holds."""
    viewer, collection = await _viewer_and_collection(request, credential, collection_id)
    status = await call_api(request, credential, "GET", f"/collections/{collection_id}/publishing")
    deployment = (
        status.body.get("deployment") if status.ok and isinstance(status.body, dict) else None
    )
    address = deployment.get("address") if isinstance(deployment, dict) else None
    mints = (
        await call_api(
            request, credential, "GET", f"/chain/collections/{address}/mints", params={"limit": 200}
        )
        if address
        else None
    )
    holdings: ApiReply | None = None
    errors = FieldErrors()
    owner = (owner or "").strip() or None
    if owner is not None:
        params = {"owner": owner, **({"collection": address} if address else {})}
        holdings = await call_api(request, credential, "GET", "/chain/tokens", params=params)
        if not holdings.ok:
            error = holdings.error
            add_error_body(errors, str(error["message"]), error["details"], lambda _: "owner")
    return render(
        request, "collection_chain.html", viewer, collection=collection, stage=_stage(status),
        tab="chain", status=status, deployment=deployment, mints=mints, holdings=holdings,
        owner=owner or "", errors=errors,
    )  # fmt: skip
