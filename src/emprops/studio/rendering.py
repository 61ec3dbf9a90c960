"""Pages and fragments from the package's Jinja2 templates, and the route class every Studio
route uses: a signed-out visitor is sent to the sign-in page, and an error becomes a page (or an
inline message in a fragment) instead of the API's JSON body.

A request made by the Studio's own script carries `X-Studio-Fragment: 1`; routes answer it with
the part of the page that changed, and everyone else with the whole page (it works without
JavaScript).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jinja2
import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from emprops import __version__
from emprops.auth.service import Principal
from emprops.core.errors import EmpropsError
from emprops.studio.session import (
    SignInRequired,
    csrf_token,
    ensure_csrf_cookie,
    renewed_session,
    set_session_cookies,
    sign_in_url,
)

FRAGMENT_HEADER = "x-studio-fragment"


@dataclass(frozen=True)
class Viewer:
    """Who the page is shown to (the header's user chip and the admin-only navigation)."""

    user_id: uuid.UUID
    display_name: str
    is_admin: bool
    auth: str

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        user = principal.user
        return cls(
            user_id=user.id,
            display_name=user.display_name or f"user {str(user.id)[:8]}",
            is_admin=user.is_admin and "admin" in principal.scopes,
            auth=principal.auth,
        )

    @classmethod
    def from_me(cls, me: Mapping[str, Any]) -> Viewer:
        """From the API's `GET /me` body."""
        user_id = uuid.UUID(str(me["id"]))
        return cls(
            user_id=user_id,
            display_name=me.get("display_name") or f"user {str(user_id)[:8]}",
            is_admin=bool(me.get("is_admin")) and "admin" in me.get("scopes", []),
            auth=str(me.get("auth", "")),
        )


def _ago(ms: int | float | None, now_ms: int | float | None = None) -> str:
    if ms is None:
        return "never"
    now = now_ms if now_ms is not None else datetime.now(UTC).timestamp() * 1000
    seconds = max(0.0, (now - ms) / 1000)
    if seconds < 60:
        return f"{seconds:.1f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def _short(value: Any, keep: int = 8) -> str:
    text = str(value)
    return text if len(text) <= keep + 3 else text[:keep] + "…"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("emprops.studio", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ago=_ago, when=_when, pretty_json=_pretty_json, short=_short)
    env.globals.update(version=__version__)
    return env


templates = Jinja2Templates(env=_environment())


def is_fragment(request: Request) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A template with what every page needs: the viewer, the CSRF token, the current path."""
    base = {"viewer": viewer, "csrf": csrf_token(request), "path": request.url.path,
            "fragment": is_fragment(request)}  # fmt: skip
    return templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


def redirect(request: Request, url: str) -> Response:
    """After a successful form post: the page to show next (see-other, or told to the script)."""
    if is_fragment(request):
        return Response(status_code=204, headers={"X-Studio-Location": url})
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    template = "fragments/error.html" if is_fragment(request) else "error.html"
    return render(request, template, None, status_code=status, code=code, message=message)


def _finish(request: Request, response: Response) -> Response:
    pair = renewed_session(request)
    if pair is not None:
        set_session_cookies(request, response, pair.access_token, pair.refresh_token)
    if "text/html" in response.headers.get("content-type", ""):
        ensure_csrf_cookie(request, response)
    return response


class StudioRoute(APIRoute):
    """Turns the API's failures into pages: sign-in redirects, error pages, inline errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def studio_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                target = sign_in_url(request)
                if is_fragment(request):
                    return Response(status_code=401, headers={"X-Studio-Location": target})
                return RedirectResponse(target, status_code=303)
            except EmpropsError as exc:
                response = error_page(request, exc.http_status, str(exc.code), exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
                where = ".".join(str(p) for p in first["loc"])
                response = error_page(request, 422, "invalid_input", f"{where}: {first['msg']}")
            return _finish(request, response)

        return studio_handler
