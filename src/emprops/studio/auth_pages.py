"""Signing in to the Studio: an API key pasted into a form (local use), or Sign-In with Ethereum
from a wallet the browser injects (`window.ethereum`), both checked by the API's auth code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emprops.api.dependencies import State
from emprops.auth.dependencies import AuthServiceDep, current_principal
from emprops.auth.endpoints import siwe_verify
from emprops.auth.errors import UnauthorizedError
from emprops.auth.schemas import SiweVerify
from emprops.core.errors import InvalidInputError
from emprops.studio.forms import FieldErrors, add_validation_errors, read_form, same_name
from emprops.studio.rendering import StudioRoute, redirect, render
from emprops.studio.session import (
    check_csrf,
    clear_session_cookies,
    safe_next,
    set_session_cookies,
)

router = APIRouter(route_class=StudioRoute)
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
M = TypeVar("M", bound=BaseModel)


class ApiKeySignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(
        min_length=10, max_length=200, pattern=r"^emp_[A-Za-z0-9_-]+$",
        description="An API key (emp_…), as `emprops users create` or POST /auth/api-keys give it.",
    )  # fmt: skip


class SiweMessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(pattern=ADDRESS)


def siwe_message_text(
    domain: str, address: str, uri: str, chain_id: int, nonce: str, issued: datetime
) -> str:
    """An EIP-4361 message for the API's domain, URI and chain (what /auth/siwe/verify checks)."""
    stamp = issued.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f"{domain} wants you to sign in with your Ethereum account:\n{address}\n\n"
        f"Sign in to EmProps Studio\n\nURI: {uri}\nVersion: 1\nChain ID: {chain_id}\n"
        f"Nonce: {nonce}\nIssued At: {stamp}"
    )


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", None, next=safe_next(next), errors=FieldErrors(),
                  api_key="")  # fmt: skip


@router.post("/sign-in")
async def sign_in_with_api_key(request: Request, auth: AuthServiceDep, state: State) -> Response:
    form = await read_form(request)
    target = safe_next(form.get("next"))
    errors = FieldErrors()
    try:
        body = ApiKeySignIn.model_validate({"api_key": form.get("api_key").strip()})
        await current_principal(request, auth, state, None, body.api_key)
    except ValidationError as exc:
        add_validation_errors(errors, exc, same_name(["api_key"]))
    except UnauthorizedError as exc:
        errors.add("api_key", exc.message)
    if errors:
        return render(request, "sign_in.html", None, status_code=422, next=target,
                      errors=errors, api_key="")  # fmt: skip
    response = redirect(request, target)
    set_session_cookies(request, response, body.api_key)
    return response


async def _json_body(request: Request) -> Any:
    check_csrf(request, None)
    try:
        return await request.json()
    except ValueError:
        raise InvalidInputError("expected a JSON body") from None


def _checked(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInputError(f"{where}: {first['msg']}", details={"field": where}) from None


@router.post("/sign-in/siwe/message")
async def siwe_message(request: Request, auth: AuthServiceDep, state: State) -> JSONResponse:
    """The message the wallet signs: this API's domain, URI and chain, and a one-time nonce."""
    from eth_utils.address import to_checksum_address  # the wallet may give it in lower case

    body = _checked(SiweMessageRequest, await _json_body(request))
    nonce = await auth.new_nonce()
    settings = state.settings
    message = siwe_message_text(
        settings.siwe_domain, to_checksum_address(body.address), settings.siwe_uri,
        settings.chain_id, nonce.nonce, datetime.now(UTC),
    )  # fmt: skip
    return JSONResponse({"message": message, "chain_id": settings.chain_id})


@router.post("/sign-in/siwe")
async def sign_in_with_ethereum(request: Request, auth: AuthServiceDep) -> JSONResponse:
    """Verified by the API's own /auth/siwe/verify; the session's tokens go into the cookies."""
    raw = await _json_body(request)
    target = safe_next(raw.pop("next", None) if isinstance(raw, dict) else None)
    pair = await siwe_verify(_checked(SiweVerify, raw), auth)
    response = JSONResponse({"location": target})
    set_session_cookies(request, response, pair.access_token, pair.refresh_token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await read_form(request)
    response = redirect(request, "/studio/sign-in")
    clear_session_cookies(response)
    return response
