"""Auth routes: Sign-In with Ethereum, token refresh, API keys, and `/me`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, status

from emprops.api.errors import ErrorResponse
from emprops.auth.dependencies import AuthServiceDep, CurrentPrincipal
from emprops.auth.errors import UnauthorizedError
from emprops.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    MeOut,
    NonceOut,
    RefreshRequest,
    SiweVerify,
    TokenPair,
)
from emprops.auth.siwe_verification import verified_siwe_message

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422, 429)}
router = APIRouter(tags=["auth"], responses=ERRORS)  # type: ignore[arg-type]


@router.post("/auth/siwe/nonce", status_code=status.HTTP_201_CREATED)
async def siwe_nonce(service: AuthServiceDep) -> NonceOut:
    """A one-time nonce to put in the Sign-In with Ethereum message."""
    return await service.new_nonce()


@router.post("/auth/siwe/verify")
async def siwe_verify(body: SiweVerify, service: AuthServiceDep) -> TokenPair:
    """Exchange a signed message for an access token (short-lived) and a refresh token."""
    message = await verified_siwe_message(body.message, body.signature, service.settings)
    if not await service.repo.use_nonce(message.nonce, datetime.now(UTC)):
        raise UnauthorizedError("nonce unknown, expired or already used")
    user = await service.user_for_wallet(message.address)
    return await service.issue_tokens(user)


@router.post("/auth/refresh")
async def refresh(body: RefreshRequest, service: AuthServiceDep) -> TokenPair:
    """Rotate a refresh token: the old one is spent, a new pair is issued."""
    return await service.refresh(body.refresh_token)


@router.get("/me")
async def me(principal: CurrentPrincipal, service: AuthServiceDep) -> MeOut:
    wallets = await service.repo.wallets_of(principal.user.id)
    return MeOut(
        id=principal.user.id, display_name=principal.user.display_name,
        is_admin=principal.user.is_admin, wallets=wallets, auth=principal.auth,
        scopes=sorted(principal.scopes),
    )  # fmt: skip


@router.post("/auth/api-keys", status_code=status.HTTP_201_CREATED)
async def create_api_key(
    body: ApiKeyCreate, principal: CurrentPrincipal, service: AuthServiceDep
) -> ApiKeyCreated:
    """Create an API key; the token is shown once."""
    if "admin" in body.scopes and not principal.user.is_admin:
        from emprops.auth.errors import ForbiddenError

        raise ForbiddenError("only administrators can create admin keys")
    return await service.create_api_key(principal.user, body)


@router.get("/auth/api-keys")
async def list_api_keys(principal: CurrentPrincipal, service: AuthServiceDep) -> list[ApiKeyOut]:
    return await service.list_api_keys(principal.user)


@router.delete("/auth/api-keys/{key_id}")
async def revoke_api_key(
    key_id: uuid.UUID, principal: CurrentPrincipal, service: AuthServiceDep
) -> ApiKeyOut:
    return await service.revoke_api_key(principal.user, key_id)
