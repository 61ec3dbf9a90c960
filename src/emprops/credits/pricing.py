"""What a GenerationInput costs: each step's component declares its cost as data.

A registered component's cost is an expression over its form's fields (`2`, `0.25`,
`1 if steps < 20 else 1 + (steps - 20) * 0.1`), priced per generation with the values known when
the run is accepted: literals, the variables the generation's hash picks, rendered prompts; a
field fed by an earlier step's output takes its default. Renderers and workflows not (or no
longer) registered cost 1, the in-process built-ins 0; a skipped step costs nothing.

Credits are whole numbers and costs may be fractions: the run's exact costs are added up in
generation order and generation g is charged ceil(C[g+1]) - ceil(C[g]), so a run that completes
pays the ceiling of its exact total and never more than it holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emprops.components.compile import component_form
from emprops.components.cost import CostExpressionError, evaluate_cost
from emprops.components.form import check_form_values
from emprops.core.errors import InvalidInputError
from emprops.workflows import (
    VARIABLES_STEP_ID,
    GenerationInput,
    WorkflowDefinition,
    render_prompt_fields,
    resolve_variables,
)
from emprops.workflows.refs import REF_KEY, apply_jq

DEFAULT_STEP_COST = Decimal(1)


@dataclass(frozen=True)
class RunPrice:
    steps: list[tuple[int, str, Decimal]]  # (step id, workflow, exact cost of the first generation)
    exact: list[Decimal]  # each generation's exact cost
    generation_costs: list[int]  # the whole credits each generation is charged

    @property
    def per_generation(self) -> Decimal:
        """The first generation's exact cost (the same for every one unless variables change it)."""
        return self.exact[0] if self.exact else Decimal(0)

    @property
    def total(self) -> int:
        return sum(self.generation_costs)


def _known_values(payload: Mapping[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """What a step's fields are before it runs: references to the variables step resolved,
    prompts rendered; values fed by other steps are left out (their defaults price them)."""
    known: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, dict) and REF_KEY in value:
            if value.get(REF_KEY) != VARIABLES_STEP_ID or not isinstance(value.get("path"), str):
                continue
            try:
                known[key] = apply_jq(value["path"], {"data": variables})
            except ValueError:
                continue
        else:
            known[key] = value
    rendered = render_prompt_fields(known, variables, {})
    return rendered if isinstance(rendered, dict) else known


def _step_cost(
    definition: WorkflowDefinition | None, payload: Mapping[str, Any], variables: dict[str, Any]
) -> Decimal:
    if definition is None or definition.type == "renderer":
        return DEFAULT_STEP_COST
    if definition.type == "builtin":
        return Decimal(0)
    if definition.cost is None:
        return DEFAULT_STEP_COST
    values = _known_values(payload, variables)
    form = component_form(definition.type, definition.data)
    if form is not None:
        values, _ = check_form_values(form, values)  # types and defaults; problems come later
    return evaluate_cost(definition.cost, values)


def whole_credits(exact: Sequence[Decimal]) -> list[int]:
    """Each generation's whole credits, by cumulative rounding of the exact costs."""
    charged, running, before = [], Decimal(0), 0
    for cost in exact:
        running += cost
        after = math.ceil(running)
        charged.append(after - before)
        before = after
    return charged


def price_run(
    generation_input: GenerationInput,
    catalog: Mapping[str, WorkflowDefinition],
    hashes: Sequence[str],
) -> RunPrice:
    """Each generation's price; InvalidInputError naming the step when a cost cannot be had."""
    exact: list[Decimal] = []
    first: list[tuple[int, str, Decimal]] = []
    steps = [s for s in generation_input.steps if not s.skip]
    for g, hash_ in enumerate(hashes):
        variables: dict[str, Any] = dict(resolve_variables(generation_input.variables, hash_))
        total = Decimal(0)
        for step in steps:
            try:
                cost = _step_cost(catalog.get(step.node_name), step.node_payload, variables)
            except CostExpressionError as exc:
                raise InvalidInputError(
                    f"step {step.id} ({step.node_name}): its cost cannot be computed: {exc}",
                    details={"step_id": step.id, "generation": g},
                ) from None
            total += cost
            if g == 0:
                first.append((step.id, step.node_name, cost))
        exact.append(total)
    skipped = [(s.id, s.node_name, Decimal(0)) for s in generation_input.steps if s.skip]
    order = {s.id: i for i, s in enumerate(generation_input.steps)}
    listed = sorted(first + skipped, key=lambda item: order[item[0]])
    return RunPrice(steps=listed, exact=exact, generation_costs=whole_credits(exact))


def generation_count(generation_input: GenerationInput, requested: int | None = None) -> int:
    """How many generations a run of this document makes (its hashes, when it lists any, fix the
    number whatever `use_custom_hashes` says)."""
    spec = generation_input.generations
    if spec.has_custom_hashes:
        return len(spec.hashes)
    return requested if requested is not None else spec.generations
