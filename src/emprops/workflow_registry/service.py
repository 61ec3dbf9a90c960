"""Registered workflows: what a step's `nodeName` may name beyond the built-ins. Never commits.

Deleting a workflow is a real delete: collections that name it stay as they are, and their next
data update, publish or run reports the unknown workflow with its path.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emprops.core.errors import ConflictError, InvalidInputError, NotFoundError
from emprops.db.models import WorkflowRecord
from emprops.workflow_registry.repository import WorkflowRepository
from emprops.workflow_registry.schemas import WorkflowCreate, WorkflowUpdate
from emprops.workflow_registry.workflow_data import (
    RegisteredType,
    parse_workflow_data,
    service_for,
)
from emprops.workflows import (
    BUILTIN_WORKFLOWS,
    WorkflowCatalog,
    WorkflowDefinition,
    builtin_catalog,
)

BUILTIN_NAMES = frozenset(w.name for w in BUILTIN_WORKFLOWS)


def _checked_definition(
    workflow_type: RegisteredType, data: dict[str, Any], service: str | None
) -> tuple[dict[str, Any], str]:
    """Parsed data (as stored) and the service it runs on."""
    parsed = parse_workflow_data(workflow_type, data)
    default = service_for(workflow_type, parsed)
    if workflow_type == "direct_job" and service is not None and service != default:
        problem = {"location": "service", "message": "must equal data.service_required"}
        raise InvalidInputError(
            f"service {service!r} differs from data.service_required {default!r}",
            details={"problems": [problem]},
        )
    stored = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return stored, service or default


class WorkflowRegistryService:
    def __init__(self, repository: WorkflowRepository) -> None:
        self.repo = repository

    async def _free_name(self, name: str) -> None:
        if name in BUILTIN_NAMES:
            raise ConflictError(f"{name!r} is a built-in workflow", details={"name": name})
        if await self.repo.by_name(name) is not None:
            raise ConflictError(f"a workflow named {name!r} already exists", details={"name": name})

    async def create(self, body: WorkflowCreate) -> WorkflowRecord:
        await self._free_name(body.name)
        data, service = _checked_definition(body.type, body.data, body.service)
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
        )
        await self.repo.add(record)
        return record

    async def get(self, workflow_id: uuid.UUID) -> WorkflowRecord:
        record = await self.repo.get(workflow_id)
        if record is None:
            raise NotFoundError("workflow not found", details={"id": str(workflow_id)})
        return record

    async def list_workflows(
        self, *, workflow_type: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[WorkflowRecord]:
        return await self.repo.list_page(workflow_type=workflow_type, limit=limit, offset=offset)

    async def update(self, workflow_id: uuid.UUID, body: WorkflowUpdate) -> WorkflowRecord:
        record = await self.get(workflow_id)
        changes = body.model_dump(exclude_unset=True)
        for required in ("name", "type", "data", "credit_cost"):
            if required in changes and changes[required] is None:
                raise InvalidInputError(
                    f"{required} cannot be null",
                    details={"problems": [{"location": required, "message": "cannot be null"}]},
                )
        if "name" in changes and changes["name"] != record.name:
            await self._free_name(changes["name"])
            record.name = changes["name"]
        if "type" in changes and changes["type"] != record.type and "data" not in changes:
            raise InvalidInputError(
                "changing the type needs data of the new type",
                details={"problems": [{"location": "data", "message": "required with type"}]},
            )
        if {"type", "data", "service"} & changes.keys():
            workflow_type: RegisteredType = changes.get("type", record.type)
            if "service" in changes:
                service = changes["service"]  # null: back to the type's default
            elif workflow_type == record.type and workflow_type != "direct_job":
                service = record.service
            else:
                service = None
            data, record.service = _checked_definition(
                workflow_type, changes.get("data", record.data), service
            )
            record.type, record.data = workflow_type, data
        if "models" in changes:
            record.models = {"models": changes["models"] or []}
        for field in ("output_mime_type", "min_vram_gb", "credit_cost"):
            if field in changes:
                setattr(record, field, changes[field])
        record.updated_at = datetime.now(UTC)
        await self.repo.flush_unique(record.name)
        return record

    async def delete(self, workflow_id: uuid.UUID) -> None:
        await self.repo.delete(await self.get(workflow_id))


async def load_workflow_catalog(
    session: AsyncSession, names: Collection[str] | None = None
) -> WorkflowCatalog:
    """The built-ins plus the registered workflows (only those in `names`, when given: a
    GenerationInput needs just the ones its steps name)."""
    catalog = builtin_catalog()
    wanted = None if names is None else set(names) - BUILTIN_NAMES
    for record in await WorkflowRepository(session).named(wanted):
        if record.name not in BUILTIN_NAMES:
            catalog.register(
                WorkflowDefinition.model_validate(
                    {"name": record.name, "type": record.type, "service": record.service}
                )
            )
    return catalog
