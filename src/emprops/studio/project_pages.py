"""Projects and the collections in them: lists and the forms that create them."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter, ValidationError

from emprops.api.dependencies import DbSession
from emprops.collection.repository import CollectionRepository
from emprops.collection.schemas import CollectionCreate
from emprops.collection.service import CollectionService
from emprops.core.errors import EmpropsError
from emprops.projects.repository import ProjectRepository
from emprops.projects.schemas import ProjectCreate
from emprops.projects.service import ProjectService
from emprops.studio.forms import (
    FieldErrors,
    PostedForm,
    add_api_error,
    add_validation_errors,
    read_form,
    same_name,
)
from emprops.studio.rendering import StudioRoute, Viewer, redirect, render
from emprops.studio.repository import StudioRepository
from emprops.studio.session import StudioPrincipal
from emprops.workflows.catalog import BUILTIN_WORKFLOWS

router = APIRouter(route_class=StudioRoute)
COLLECTION_CREATE: TypeAdapter[Any] = TypeAdapter(CollectionCreate)
SOURCE_TAGS = ("empty", "template", "asset", "custom")
EMPTY_DOCUMENT = {"version": "v2", "steps": [],
                  "generations": {"hashes": [], "generations": 1, "use_custom_hashes": False},
                  "variables": []}  # fmt: skip


async def _projects_page(
    request: Request,
    principal: StudioPrincipal,
    session: DbSession,
    *,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    projects = await ProjectService(ProjectRepository(session)).list_projects(principal.user)
    return render(
        request, "projects.html", Viewer.of(principal), status_code=status_code,
        projects=projects, errors=errors or FieldErrors(), values=values or {},
    )  # fmt: skip


@router.get("/projects")
async def projects_page(
    request: Request, principal: StudioPrincipal, session: DbSession
) -> Response:
    return await _projects_page(request, principal, session)


@router.post("/projects")
async def create_project(
    request: Request, principal: StudioPrincipal, session: DbSession
) -> Response:
    form = await read_form(request)
    values = {"name": form.get("name"), "description": form.get("description")}
    errors = FieldErrors()
    try:
        body = ProjectCreate.model_validate(
            {"name": values["name"].strip(), "description": form.optional("description")}
        )
        project = await ProjectService(ProjectRepository(session)).create(principal.user, body)
    except ValidationError as exc:
        add_validation_errors(errors, exc, same_name(values))
    except EmpropsError as exc:
        add_api_error(errors, exc, same_name(values))
    if errors:
        return await _projects_page(
            request, principal, session, errors=errors, values=values, status_code=422
        )
    return redirect(request, f"/studio/projects/{project.id}")


async def _project_page(
    request: Request,
    principal: StudioPrincipal,
    session: DbSession,
    project_id: uuid.UUID,
    *,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    project = await ProjectService(ProjectRepository(session)).get(principal.user, project_id)
    collections = await CollectionService(CollectionRepository(session)).list_in_project(
        principal.user, project.id, limit=200
    )
    studio = StudioRepository(session)
    latest = {
        c.id: (await studio.runs_of_collection(principal.user.id, c.id, 1)) for c in collections
    }
    return render(
        request, "project.html", Viewer.of(principal), status_code=status_code,
        project=project, collections=collections,
        latest_runs={cid: runs[0] if runs else None for cid, runs in latest.items()},
        errors=errors or FieldErrors(),
        values=values or {"source": "empty", "data": orjson.dumps(EMPTY_DOCUMENT, option=orjson.OPT_INDENT_2).decode()},
        workflows=[w.name for w in BUILTIN_WORKFLOWS],
    )  # fmt: skip


@router.get("/projects/{project_id}")
async def project_page(
    request: Request, project_id: uuid.UUID, principal: StudioPrincipal, session: DbSession
) -> Response:
    return await _project_page(request, principal, session, project_id)


def _create_body(form: PostedForm, errors: FieldErrors) -> dict[str, Any]:
    """The API's create body from the form: an empty draft, or the pasted GenerationInput."""
    body: dict[str, Any] = {"source": form.get("source", "empty"), "title": form.optional("title"),
                            "description": form.optional("description")}  # fmt: skip
    if body["source"] == "custom":
        try:
            body["data"] = orjson.loads(form.get("data") or "null")
        except orjson.JSONDecodeError as exc:
            errors.add("data", f"not JSON: {exc}")
    return body


@router.post("/projects/{project_id}/collections")
async def create_collection(
    request: Request, project_id: uuid.UUID, principal: StudioPrincipal, session: DbSession
) -> Response:
    form = await read_form(request)
    values = {k: form.get(k) for k in ("title", "description", "source", "data")}
    errors = FieldErrors()
    body = _create_body(form, errors)
    field_of = same_name(values)
    if not errors:
        try:
            create = COLLECTION_CREATE.validate_python(body)
            service = CollectionService(CollectionRepository(session))
            collection = await service.create(principal.user, project_id, create)
        except ValidationError as exc:
            add_validation_errors(errors, exc, field_of, SOURCE_TAGS)
        except EmpropsError as exc:
            add_api_error(errors, exc, lambda where: "data" if where else None)
    if errors:
        return await _project_page(
            request, principal, session, project_id, errors=errors, values=values, status_code=422
        )
    return redirect(request, f"/studio/collections/{collection.id}/edit")
