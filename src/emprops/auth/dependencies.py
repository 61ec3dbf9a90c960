"""`CurrentUser`: the authenticated caller of a route, by bearer JWT or API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from emprops.api.dependencies import DbSession, State
from emprops.auth.errors import ForbiddenError, UnauthorizedError
from emprops.auth.repository import AuthRepository
from emprops.auth.service import AuthService, Principal
from emprops.auth.tokens import API_KEY_PREFIX, decode_access_token

bearer = HTTPBearer(auto_error=False, description="A JWT access token or an `emp_…` API key.")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def auth_service(session: DbSession, state: State) -> AuthService:
    return AuthService(AuthRepository(session), state.secret, state.settings)


AuthServiceDep = Annotated[AuthService, Depends(auth_service)]


async def current_principal(
    request: Request,
    service: AuthServiceDep,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    token = api_key or (credentials.credentials if credentials else None)
    if not token:
        raise UnauthorizedError("authentication required: a bearer token or an X-API-Key")
    if token.startswith(API_KEY_PREFIX):
        principal = await service.principal_for_api_key(token)
    else:
        principal = await service.principal_for_user_id(decode_access_token(state.secret, token))
    needed = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
    if needed not in principal.scopes and "admin" not in principal.scopes:
        raise ForbiddenError(f"this credential lacks the {needed!r} scope")
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def admin_principal(principal: CurrentPrincipal) -> Principal:
    if not principal.user.is_admin or "admin" not in principal.scopes:
        raise ForbiddenError("administrators only")
    return principal


AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
