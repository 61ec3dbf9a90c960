"""Which components a step may name: their kind, queue service and, for registered ones, the
pinned version (its digest and data: form, template, cost) the engine compiles jobs from.

Registered components (ComfyUI graphs, direct jobs, HTTP APIs) come from the database, so the
catalog is plain data a caller extends with `register`; a run keeps the definitions it used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emprops.workflows.generation_input import VARIABLES_WORKFLOW

WorkflowType = Literal["builtin", "renderer", "comfy_workflow", "direct_job", "fetch_api"]
# The original's built-in step whose output is its rendered prompt text (made in-process).
PROMPT_WORKFLOW = "prompt"


class WorkflowDefinition(BaseModel):
    """A component a step can name: its kind and the queue service running it (None: in-process),
    and for a registered one the version a run pins (data holds its form and template)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: WorkflowType
    service: str | None = None
    version: int | None = None
    digest: str | None = None
    data: dict[str, Any] | None = None
    cost: str | None = Field(default=None, description="Cost expression over the form's fields.")


BUILTIN_WORKFLOWS: tuple[WorkflowDefinition, ...] = (
    WorkflowDefinition(name=VARIABLES_WORKFLOW, type="builtin", service=None),
    WorkflowDefinition(name=PROMPT_WORKFLOW, type="builtin", service=None),
    WorkflowDefinition(name="layers", type="renderer", service="render"),
    WorkflowDefinition(name="animate", type="renderer", service="render"),
)


class WorkflowCatalog(Mapping[str, WorkflowDefinition]):
    """Workflow definitions by name: the built-ins plus whatever the caller registers."""

    def __init__(self, definitions: Iterable[WorkflowDefinition] = BUILTIN_WORKFLOWS) -> None:
        self._by_name: dict[str, WorkflowDefinition] = {}
        for definition in definitions:
            self.register(definition)

    def register(self, definition: WorkflowDefinition) -> None:
        """Add or replace a workflow (a later registration of the same name wins)."""
        self._by_name[definition.name] = definition

    def __getitem__(self, name: str) -> WorkflowDefinition:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)


def builtin_catalog() -> WorkflowCatalog:
    """A fresh catalog holding only the built-in workflows."""
    return WorkflowCatalog(BUILTIN_WORKFLOWS)


def as_catalog(
    workflows: Mapping[str, WorkflowDefinition] | None,
) -> Mapping[str, WorkflowDefinition]:
    """None means the built-ins; any mapping of name -> definition is taken as is."""
    return builtin_catalog() if workflows is None else workflows
