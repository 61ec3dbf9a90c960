"""Registered components: what a step's `nodeName` may name beyond the built-ins. Never commits.

Every write makes an immutable version (addressed by its digest) and the row points at the latest;
runs pin the version they were accepted with, so editing a component never changes a paid run.
Deleting a component is a real delete: collections that name it stay as they are, and their next
data update, publish or run reports the unknown workflow with its path.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.components.compile import StepCompileError, compile_test_values
from emprops.components.cost import check_cost_expression
from emprops.components.digest import component_digest
from emprops.components.importer import ComponentImportError, import_component_files
from emprops.components.repository import WorkflowRepository
from emprops.components.schemas import ComponentFiles, WorkflowCreate, WorkflowOut, WorkflowUpdate
from emprops.components.templates import (
    RegisteredType,
    TemplateData,
    parse_workflow_data,
    service_for,
)
from emprops.core.errors import ConflictError, InvalidInputError, NotFoundError
from emprops.db.models import ComponentVersion, WorkflowRecord
from emprops.workflows import (
    BUILTIN_WORKFLOWS,
    WorkflowCatalog,
    WorkflowDefinition,
    builtin_catalog,
)

BUILTIN_NAMES = frozenset(w.name for w in BUILTIN_WORKFLOWS)


def _problem(location: str, message: str) -> InvalidInputError:
    return InvalidInputError(
        f"{location}: {message}", details={"problems": [{"location": location, "message": message}]}
    )


def _checked_definition(
    workflow_type: RegisteredType, data: dict[str, Any], service: str | None
) -> tuple[dict[str, Any], str, TemplateData]:
    """Parsed data (as stored), the service it runs on and the typed template."""
    parsed = parse_workflow_data(workflow_type, data)
    default = service_for(workflow_type, parsed)
    if workflow_type == "direct_job" and service is not None and service != default:
        raise _problem("service", f"{service!r} must equal data.service_required {default!r}")
    stored = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return stored, service or default, parsed


def _check_cost(cost: str | None, template: TemplateData) -> None:
    if cost is None:
        return
    problems = check_cost_expression(cost, {f.id for f in template.effective_form().fields})
    if problems:
        raise InvalidInputError(
            f"cost: {problems[0]}",
            details={"problems": [{"location": "cost", "message": p} for p in problems]},
        )


def _check_test_values(record: WorkflowRecord) -> None:
    """A component's own sample values must compile: found at registration, not in a run."""
    if record.test_values is None:
        return
    try:
        compile_test_values(
            record.type, record.name, record.service, record.data, record.test_values
        )
    except StepCompileError as exc:
        raise InvalidInputError(
            exc.message,
            details={
                "problems": [
                    {"location": f"test_values.{p['field']}", "message": p["message"]}
                    for p in exc.details["problems"]
                ]
            },
        ) from None


def version_definition(record: WorkflowRecord) -> dict[str, Any]:
    """What a version is: everything that decides the jobs it compiles to and what they cost."""
    return {
        "type": record.type,
        "service": record.service,
        "data": record.data,
        "cost": record.cost,
        "credit_cost": record.credit_cost,
        "models": record.models.get("models", []) if isinstance(record.models, dict) else [],
        "min_vram_gb": record.min_vram_gb,
        "output_mime_type": record.output_mime_type,
        "test_values": record.test_values,
    }


class WorkflowRegistryService:
    def __init__(self, repository: WorkflowRepository) -> None:
        self.repo = repository

    async def _free_name(self, name: str) -> None:
        if name in BUILTIN_NAMES:
            raise ConflictError(f"{name!r} is a built-in workflow", details={"name": name})
        if await self.repo.by_name(name) is not None:
            raise ConflictError(f"a workflow named {name!r} already exists", details={"name": name})

    async def _add_version(self, record: WorkflowRecord) -> None:
        definition = version_definition(record)
        digest = component_digest(definition)
        if record.digest == digest:
            return  # nothing that matters changed: no new version
        latest = await self.repo.latest_version(record.id)
        record.version = 1 if latest is None else latest + 1
        record.digest = digest
        await self.repo.add_version(
            ComponentVersion(
                id=uuid.uuid4(), workflow_id=record.id, version=record.version, digest=digest,
                definition=definition,
            )
        )  # fmt: skip

    async def create(self, body: WorkflowCreate) -> WorkflowRecord:
        await self._free_name(body.name)
        data, service, template = _checked_definition(body.type, body.data, body.service)
        _check_cost(body.cost, template)
        record = WorkflowRecord(
            id=uuid.uuid4(),
            name=body.name,
            type=body.type,
            service=service,
            data=data,
            output_mime_type=body.output_mime_type,
            models={"models": body.models or []},
            min_vram_gb=body.min_vram_gb,
            credit_cost=body.credit_cost,
            cost=body.cost,
            test_values=body.test_values,
            version=1,
        )
        _check_test_values(record)
        await self.repo.add(record)
        await self._add_version(record)
        return record

    async def get(self, workflow_id: uuid.UUID) -> WorkflowRecord:
        record = await self.repo.get(workflow_id)
        if record is None:
            raise NotFoundError("workflow not found", details={"id": str(workflow_id)})
        return record

    async def by_name(self, name: str) -> WorkflowRecord | None:
        return await self.repo.by_name(name)

    async def versions(self, workflow_id: uuid.UUID) -> list[ComponentVersion]:
        await self.get(workflow_id)
        return await self.repo.versions(workflow_id)

    async def list_workflows(
        self, *, workflow_type: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[WorkflowRecord]:
        return await self.repo.list_page(workflow_type=workflow_type, limit=limit, offset=offset)

    async def update(self, workflow_id: uuid.UUID, body: WorkflowUpdate) -> WorkflowRecord:
        record = await self.get(workflow_id)
        changes = body.model_dump(exclude_unset=True)
        for required in ("name", "type", "data", "credit_cost"):
            if required in changes and changes[required] is None:
                raise _problem(required, "cannot be null")
        if "name" in changes and changes["name"] != record.name:
            await self._free_name(changes["name"])
            record.name = changes["name"]
        if "type" in changes and changes["type"] != record.type and "data" not in changes:
            raise _problem("data", "changing the type needs data of the new type")
        workflow_type: RegisteredType = changes.get("type", record.type)
        if "service" in changes:
            service = changes["service"]  # null: back to the type's default
        elif workflow_type == record.type and workflow_type != "direct_job":
            service = record.service
        else:
            service = None
        data, new_service, template = _checked_definition(
            workflow_type, changes.get("data", record.data), service
        )
        if {"type", "data", "service"} & changes.keys():
            record.type, record.data, record.service = workflow_type, data, new_service
        if "models" in changes:
            record.models = {"models": changes["models"] or []}
        for field in ("output_mime_type", "min_vram_gb", "credit_cost", "cost", "test_values"):
            if field in changes:
                setattr(record, field, changes[field])
        _check_cost(record.cost, template)
        _check_test_values(record)
        record.updated_at = datetime.now(UTC)
        await self.repo.flush_unique(record.name)
        await self._add_version(record)
        return record

    async def register(self, body: WorkflowCreate) -> tuple[WorkflowRecord, str]:
        """Register a component by name: new, a new version of it, or unchanged (the same
        digest). Returns the record and which of "created", "new_version", "unchanged"."""
        existing = await self.repo.by_name(body.name)
        if existing is None:
            return await self.create(body), "created"
        before = existing.digest
        fields = body.model_dump(exclude={"name"})
        record = await self.update(existing.id, WorkflowUpdate.model_validate(fields))
        return record, "unchanged" if record.digest == before else "new_version"

    async def import_files(
        self,
        components: list[ComponentFiles],
        form_confs: dict[str, Any],
        *,
        dry_run: bool = False,
    ) -> list[tuple[WorkflowOut, str, list[str]]]:
        """Import every component or none: problems of all of them are reported together. A dry
        run registers inside a savepoint it rolls back, so it checks exactly what a real one
        would (names, versions, test values) and writes nothing."""
        imported, problems = [], []
        for item in components:
            try:
                imported.append(import_component_files(item.name, item.files, form_confs))
            except ComponentImportError as exc:
                problems.append({"location": f"components.{item.name}", **exc.details})
        if problems:
            first = problems[0]
            raise InvalidInputError(
                f"{len(problems)} of {len(components)} components refused; "
                f"{first['component']}: {first['file']}: {first['message']}",
                details={"problems": problems},
            )
        savepoint = await self.repo.session.begin_nested()
        results = []
        try:
            for component in imported:
                try:
                    body = WorkflowCreate.model_validate(component.body)
                except ValidationError as exc:
                    error = exc.errors()[0]
                    where = ".".join(str(p) for p in error["loc"])
                    raise _problem(f"components.{component.name}.{where}", error["msg"]) from None
                record, outcome = await self.register(body)
                out = WorkflowOut.model_validate(record)
                results.append(
                    (out, f"{outcome} (dry run)" if dry_run else outcome, component.notes)
                )
        except BaseException:
            await savepoint.rollback()
            raise
        if dry_run:
            await savepoint.rollback()
        else:
            await savepoint.commit()
        return results

    async def delete(self, workflow_id: uuid.UUID) -> None:
        await self.repo.delete(await self.get(workflow_id))


def definition_of(record: WorkflowRecord) -> WorkflowDefinition:
    """The pinned definition a run keeps: the latest version's data, digest and cost."""
    definition = version_definition(record)
    cost = record.cost if record.cost is not None else str(record.credit_cost)
    return WorkflowDefinition.model_validate(
        {
            "name": record.name, "type": record.type, "service": record.service,
            "version": record.version, "digest": record.digest or component_digest(definition),
            "data": record.data, "cost": cost,
        }
    )  # fmt: skip


async def load_workflow_catalog(
    session: AsyncSession, names: Collection[str] | None = None
) -> WorkflowCatalog:
    """The built-ins plus the registered components (only those in `names`, when given: a
    GenerationInput needs just the ones its steps name)."""
    catalog = builtin_catalog()
    wanted = None if names is None else set(names) - BUILTIN_NAMES
    for record in await WorkflowRepository(session).named(wanted):
        if record.name not in BUILTIN_NAMES:
            catalog.register(definition_of(record))
    return catalog
