"""What a GenerationInput costs: each step's workflow declares its credit cost as data.

A step costs its workflow's `credit_cost` per generation; built-ins and workflows not (or no
longer) registered cost 1, the default. A skipped step does not run and costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from emprops.credits.repository import CreditRepository
from emprops.workflows import GenerationInput

DEFAULT_STEP_COST = 1


@dataclass(frozen=True)
class RunPrice:
    steps: list[tuple[int, str, int]]  # (step id, workflow name, credits per generation)

    @property
    def per_generation(self) -> int:
        return sum(cost for _, _, cost in self.steps)

    def total(self, generations: int) -> int:
        return self.per_generation * generations


async def price_generation_input(
    repository: CreditRepository, generation_input: GenerationInput
) -> RunPrice:
    costs = await repository.workflow_costs({s.node_name for s in generation_input.steps})
    return RunPrice(
        steps=[
            (s.id, s.node_name, 0 if s.skip else costs.get(s.node_name, DEFAULT_STEP_COST))
            for s in generation_input.steps
        ]
    )


def generation_count(generation_input: GenerationInput, requested: int | None = None) -> int:
    """How many generations a run of this document makes (custom hashes fix the number)."""
    spec = generation_input.generations
    if spec.use_custom_hashes:
        return len(spec.hashes)
    return requested if requested is not None else spec.generations
