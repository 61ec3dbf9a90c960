"""The Studio's routes under /studio (left out of the OpenAPI document: they are pages), and its
stylesheet and script served from the package's data."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from emprops.studio import (
    auth_pages,
    collection_pages,
    operator_pages,
    project_pages,
    publish_pages,
)

router = APIRouter(prefix="/studio", include_in_schema=False)
# Served by a route rather than a mount: mounts inside an included router are not reached.
static_files = StaticFiles(packages=[("emprops.studio", "static")])


@router.get("")
async def studio_home() -> RedirectResponse:
    return RedirectResponse("/studio/projects", status_code=303)


@router.get("/static/{name}")
async def studio_static(
    request: Request, name: str = Path(pattern=r"^[a-z0-9_-]+\.(css|js|svg|png)$")
) -> Response:
    response = await static_files.get_response(name, request.scope)
    response.headers.setdefault("Cache-Control", "public, max-age=3600")
    return response


for pages in (auth_pages, project_pages, collection_pages, publish_pages, operator_pages):
    router.include_router(pages.router)
