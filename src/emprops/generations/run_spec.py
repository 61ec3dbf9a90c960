"""What a run is, frozen when it is accepted and kept in its `jobs` row.

The runner (now, or after a restart) reads only this: the collection may be edited and a
workflow re-registered meanwhile without changing a run that was already paid for.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from emprops.workflows import GenerationInput, WorkflowCatalog, WorkflowDefinition
from emprops.workflows.run_journal import RunHeader

JOB_TYPE = "generation_run"


class RunSpec(BaseModel):
    run_id: uuid.UUID
    user_id: uuid.UUID
    collection_id: uuid.UUID
    input_digest: str
    hashes: list[str]
    created_ms: int
    priority: int
    generation_input: dict[str, Any] = Field(description="The GenerationInput document run.")
    workflows: list[WorkflowDefinition] = Field(description="The workflows its steps name.")
    cost_per_generation: int
    # The whole credits each generation holds and is charged (costs vary with the picks and may
    # be fractions); runs accepted before this was kept charge cost_per_generation each.
    generation_costs: list[int] | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> RunSpec:
        return cls.model_validate(data["run"])

    def as_job_data(self) -> dict[str, Any]:
        return {"run": self.model_dump(mode="json")}

    @property
    def generations(self) -> int:
        return len(self.hashes)

    def cost_of(self, generation: int) -> int:
        if self.generation_costs is not None:
            return self.generation_costs[generation]
        return self.cost_per_generation

    def header(self) -> RunHeader:
        return RunHeader(
            run_id=str(self.run_id),
            user_id=str(self.user_id),
            input_digest=self.input_digest,
            hashes=list(self.hashes),
            created_ms=self.created_ms,
            priority=self.priority,
        )

    def parsed_input(self) -> GenerationInput:
        return GenerationInput.model_validate(self.generation_input)

    def catalog(self) -> WorkflowCatalog:
        catalog = WorkflowCatalog()
        for definition in self.workflows:
            catalog.register(definition)
        return catalog
