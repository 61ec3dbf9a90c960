"""Registered-workflow request and response bodies; `data` is checked per type by the service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from emprops.components.templates import SERVICE_PATTERN, RegisteredType

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
MIME_PATTERN = r"^[a-z0-9.+-]+/[a-zA-Z0-9.+*-]+$"
DATA_DESCRIPTION = (
    "By type, each with an optional form: {fields: [{id, kind, default, required, min, max, "
    "options, seed}]} (the only fields a step may set; without it, the fields the bindings name). "
    "comfy_workflow: {graph: API-format graph, inputs: {node: {input: {value: field id, default, "
    "is_required, type}}}, output_nodes?}. direct_job: {service_required, payload, requirements?, "
    "output_field?, inputs?: {field: payload path(s)}}. fetch_api: {request: {method, url, "
    "headers?, query?, body?, expect?}, poll?: {request, done, failed?, error?, progress?, ...}, "
    "output: jq, output_type?: data|file} (templates read the form's fields as `.field`)."
)
COST_DESCRIPTION = (
    "Credits per generation as an expression over the form's fields (e.g. "
    "`1 if steps < 20 else 1 + (steps - 20) * 0.1`); fractions allowed. Unset: credit_cost."
)


class _WorkflowFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str | None = Field(
        default=None,
        pattern=SERVICE_PATTERN,
        description="Queue service; default comfyui, http, or the direct job's service_required.",
    )
    output_mime_type: str | None = Field(default=None, max_length=120, pattern=MIME_PATTERN)
    models: list[str] | None = Field(default=None, max_length=100)
    min_vram_gb: int | None = Field(default=None, ge=0, le=4096)

    @field_validator("models")
    @classmethod
    def _model_names(cls, models: list[str] | None) -> list[str] | None:
        if models is not None and any(not m.strip() or len(m) > 500 for m in models):
            raise ValueError("model names must be non-empty and at most 500 characters")
        return models


class WorkflowCreate(_WorkflowFields):
    name: str = Field(pattern=NAME_PATTERN, description="What a step's nodeName names.")
    type: RegisteredType
    data: dict[str, JsonValue] = Field(description=DATA_DESCRIPTION)
    credit_cost: int = Field(default=1, ge=0, le=1_000_000, description="Per step per generation.")
    cost: str | None = Field(default=None, max_length=4000, description=COST_DESCRIPTION)
    test_values: dict[str, JsonValue] | None = Field(
        default=None, description="A sample set of form values; it must compile."
    )


class WorkflowUpdate(_WorkflowFields):
    """Fields left out stay; a new type needs new data (checked against the resulting type)."""

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    type: RegisteredType | None = None
    data: dict[str, JsonValue] | None = Field(default=None, description=DATA_DESCRIPTION)
    credit_cost: int | None = Field(default=None, ge=0, le=1_000_000)
    cost: str | None = Field(default=None, max_length=4000, description=COST_DESCRIPTION)
    test_values: dict[str, JsonValue] | None = None


class WorkflowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    type: RegisteredType
    service: str
    data: dict[str, Any]
    output_mime_type: str | None
    models: list[str]
    min_vram_gb: int | None
    credit_cost: int
    cost: str | None
    test_values: dict[str, Any] | None
    version: int
    digest: str | None
    created_at: datetime
    updated_at: datetime

    @field_validator("models", mode="before")
    @classmethod
    def _unwrap(cls, models: Any) -> Any:
        """Stored as {"models": [...]} (a JSON object column)."""
        return models.get("models", []) if isinstance(models, dict) else models


class ComponentFiles(BaseModel):
    """One component in the original format: its files by name (JSON values, or text for
    credits.js)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    files: dict[str, JsonValue] = Field(min_length=1, max_length=9)


class ComponentImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    components: list[ComponentFiles] = Field(min_length=1, max_length=200)
    form_confs: dict[str, JsonValue] = Field(
        default_factory=dict, max_length=200, description="_form_confs/ files by name."
    )
    dry_run: bool = False


class ImportedOut(BaseModel):
    name: str
    outcome: str = Field(
        description='created, new_version or unchanged ("... (dry run)": nothing was written)'
    )
    workflow: WorkflowOut
    notes: list[str]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    digest: str
    definition: dict[str, Any]
    created_at: datetime
