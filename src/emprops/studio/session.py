"""Who is using the Studio: the credential in an HttpOnly cookie (an API key, or the access token
of a Sign-In with Ethereum session with its refresh token beside it), checked by the API's own
auth code, and a double-submit token against cross-site form posts.

Why cookies: a browser cannot put an API key header on a page load, an image or an EventSource;
HttpOnly keeps the credential away from page scripts, SameSite=Strict away from other sites.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response

from emprops.api.dependencies import State
from emprops.auth.dependencies import AuthServiceDep, current_principal
from emprops.auth.errors import ForbiddenError, UnauthorizedError
from emprops.auth.schemas import TokenPair
from emprops.auth.service import Principal
from emprops.auth.tokens import API_KEY_PREFIX

CREDENTIAL_COOKIE = "emprops_studio"
REFRESH_COOKIE = "emprops_studio_refresh"
CSRF_COOKIE = "emprops_studio_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/studio"
SESSION_MAX_AGE_S = 30 * 24 * 3600
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in user; the Studio answers with the sign-in page."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "sign in to continue")
        self.reason = reason


@dataclass(frozen=True)
class StudioCredential:
    """The raw credential a request carries, as the API takes it in a header."""

    token: str

    @property
    def is_api_key(self) -> bool:
        return self.token.startswith(API_KEY_PREFIX)

    def headers(self) -> dict[str, str]:
        if self.is_api_key:
            return {"X-API-Key": self.token}
        return {"Authorization": f"Bearer {self.token}"}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a Studio path of this site (no open redirect)."""
    if not target:
        return "/studio/projects"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/studio") or "\\" in target:
        return "/studio/projects"
    return target


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/studio/sign-in?next={quote(here, safe='')}"


# --- cookies ----------------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookies(
    request: Request, response: Response, credential: str, refresh_token: str | None = None
) -> None:
    """Store the credential (and a fresh CSRF secret when there is none yet)."""
    options = {"httponly": True, "samesite": "strict", "secure": _secure(request),
               "path": COOKIE_PATH, "max_age": SESSION_MAX_AGE_S}  # fmt: skip
    response.set_cookie(CREDENTIAL_COOKIE, credential, **options)  # type: ignore[arg-type]
    if refresh_token is not None:
        response.set_cookie(REFRESH_COOKIE, refresh_token, **options)  # type: ignore[arg-type]
    else:
        response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH)
    if not request.cookies.get(CSRF_COOKIE):
        ensure_csrf_cookie(request, response)


def clear_session_cookies(response: Response) -> None:
    for name in (CREDENTIAL_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path=COOKIE_PATH)


def csrf_token(request: Request) -> str:
    """The token forms and scripts send back; made once per browser and kept in a cookie."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "studio_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.studio_csrf = token
    return str(token)


def ensure_csrf_cookie(request: Request, response: Response) -> None:
    if request.cookies.get(CSRF_COOKIE) is None:
        response.set_cookie(
            CSRF_COOKIE, csrf_token(request), httponly=True, samesite="strict",
            secure=_secure(request), path=COOKIE_PATH, max_age=SESSION_MAX_AGE_S,
        )  # fmt: skip


def check_csrf(request: Request, submitted: str | None) -> None:
    """Unsafe methods must send back the cookie's token (form field or header) and, when the
    browser says where it comes from, come from this site."""
    if request.method in _SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ForbiddenError("cross-site request refused")
    expected = request.cookies.get(CSRF_COOKIE)
    given = submitted or request.headers.get(CSRF_HEADER)
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise ForbiddenError("the form is stale or did not come from the Studio: reload the page")


# --- the caller -------------------------------------------------------------------------------


async def studio_credential(request: Request) -> StudioCredential:
    """The cookie's credential, unchecked (the API routes it is forwarded to check it)."""
    token = request.cookies.get(CREDENTIAL_COOKIE)
    if not token:
        raise SignInRequired()
    return StudioCredential(token)


async def studio_principal(request: Request, auth: AuthServiceDep, state: State) -> Principal:
    """The signed-in user, checked exactly as the API checks a header (scopes included). An
    expired session access token is renewed with the refresh token; the new pair is written to
    the cookies of whatever the page answers."""
    credential = await studio_credential(request)
    try:
        return await current_principal(request, auth, state, None, credential.token)
    except UnauthorizedError as exc:
        refresh = request.cookies.get(REFRESH_COOKIE)
        if credential.is_api_key or not refresh:
            raise SignInRequired(exc.message) from None
        try:
            pair: TokenPair = await auth.refresh(refresh)
        except UnauthorizedError as refused:
            if refused.keep_changes:  # a replayed token revoked its family: keep that
                await auth.repo.session.commit()
            raise SignInRequired(refused.message) from None
        request.state.studio_renewed = pair
        return await current_principal(request, auth, state, None, pair.access_token)


def renewed_session(request: Request) -> TokenPair | None:
    pair: TokenPair | None = getattr(request.state, "studio_renewed", None)
    return pair


async def studio_admin(principal: Annotated[Principal, Depends(studio_principal)]) -> Principal:
    if not principal.user.is_admin or "admin" not in principal.scopes:
        raise ForbiddenError("the operator page is for administrators")
    return principal


StudioPrincipal = Annotated[Principal, Depends(studio_principal)]
StudioAdmin = Annotated[Principal, Depends(studio_admin)]
Credential = Annotated[StudioCredential, Depends(studio_credential)]
