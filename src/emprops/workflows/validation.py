"""Validation that finds every problem of a GenerationInput at once, each with where it is.

Structure is checked piece by piece (each step, variable and the generations block on its own)
so one malformed step does not hide the rest, then the meaning is checked on what parsed:
workflow names, `$ref`s and prompt mentions (missing, later, cyclic), jq paths, weights, hashes.

Decisions: steps run in the order written, so a reference to a later step is an error (the
original ran such a step early; we keep one rule that a reader can check by eye). A locked
variable whose test value is not among its values is a warning: the run is well defined (the
test value is used) but the lock is probably stale.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from emprops.components.compile import precheck_step
from emprops.workflows.catalog import WorkflowDefinition, as_catalog
from emprops.workflows.errors import GenerationInputInvalid, Severity, ValidationProblem
from emprops.workflows.generation_input import (
    VARIABLES_STEP_ID,
    VARIABLES_WORKFLOW,
    GenerationInput,
    GenerationsSpec,
    Variable,
    WorkflowStep,
)
from emprops.workflows.location import Location, format_location
from emprops.workflows.prompt_document import is_prompt_document, prompt_variable_names
from emprops.workflows.refs import PATH_KEY, REF_KEY, compile_jq, scan_payload
from emprops.workflows.seeding import MAX_GENERATIONS, is_well_formed_hash

M = TypeVar("M", bound=BaseModel)

_TOP_LEVEL_KEYS = ("version", "steps", "generations", "variables")
_UNION_TAGS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean"}
_REFERABLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_VARIABLE_PATH = re.compile(r"^\.data\.([A-Za-z0-9_]+)$")


@dataclass
class ValidationResult:
    problems: list[ValidationProblem]
    generation_input: GenerationInput | None

    @property
    def errors(self) -> list[ValidationProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ValidationProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.generation_input is not None and not self.errors


@dataclass
class _Collector:
    problems: list[ValidationProblem] = field(default_factory=list)

    def add(self, location: Location, message: str, severity: Severity = "error") -> None:
        self.problems.append(
            ValidationProblem(path=format_location(location), message=message, severity=severity)
        )

    def pydantic_errors(self, prefix: Location, exc: ValidationError) -> None:
        """One problem per location; a union's per-member errors become one message."""
        merged: dict[Location, list[str]] = {}
        for error in exc.errors():
            loc: Location = tuple(error["loc"])
            if loc and loc[-1] in _UNION_TAGS and error["type"].endswith("_type"):
                merged.setdefault(loc[:-1], []).append(_UNION_TAGS[str(loc[-1])])
            else:
                self.add((*prefix, *loc), error["msg"])
        for loc, kinds in merged.items():
            self.add((*prefix, *loc), f"Input should be {' or '.join(kinds)}")


def _parse(model: type[M], value: Any, location: Location, out: _Collector) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        out.pydantic_errors(location, exc)
        return None


def _parse_list(
    model: type[M], document: dict[str, Any], key: str, out: _Collector
) -> list[tuple[int, M]]:
    raw = document.get(key, [])
    if not isinstance(raw, list):
        out.add((key,), "must be a list")
        return []
    parsed = [(i, _parse(model, item, (key, i), out)) for i, item in enumerate(raw)]
    return [(i, item) for i, item in parsed if item is not None]


def validate_generation_input(
    document: Any, workflows: Mapping[str, WorkflowDefinition] | None = None
) -> ValidationResult:
    """Every problem of `document` (errors and warnings) and, when it parses, the model."""
    out = _Collector()
    if not isinstance(document, dict):
        out.add((), "a GenerationInput must be a JSON object")
        return ValidationResult(out.problems, None)
    for key in document:
        if key not in _TOP_LEVEL_KEYS:
            out.add((key,), "unknown key")
    if document.get("version") != "v2":
        out.add(("version",), 'version must be "v2"')
    steps = _parse_list(WorkflowStep, document, "steps", out)
    variables = _parse_list(Variable, document, "variables", out)
    generations = None
    if "generations" not in document:
        out.add(("generations",), "required")
    else:
        generations = _parse(GenerationsSpec, document["generations"], ("generations",), out)

    parsed_ok = not out.problems
    _check_steps(steps, as_catalog(workflows), {v.name for _, v in variables}, out)
    _check_variables(variables, out)
    if generations is not None:
        _check_generations(generations, out)

    model = GenerationInput.model_validate(document) if parsed_ok else None
    return ValidationResult(out.problems, model)


def parse_generation_input(
    document: Any, workflows: Mapping[str, WorkflowDefinition] | None = None
) -> GenerationInput:
    """The model of a document with no errors; otherwise GenerationInputInvalid with all of them."""
    result = validate_generation_input(document, workflows)
    if result.errors or result.generation_input is None:
        raise GenerationInputInvalid(result.problems)
    return result.generation_input


def _check_steps(
    steps: Sequence[tuple[int, WorkflowStep]],
    workflows: Mapping[str, WorkflowDefinition],
    variable_names: set[str],
    out: _Collector,
) -> None:
    position: dict[int, int] = {}
    for i, step in steps:
        if step.id == VARIABLES_STEP_ID:
            out.add(
                ("steps", i, "id"), f"id {VARIABLES_STEP_ID} is reserved for the variables step"
            )
        elif step.id in position:
            out.add(
                ("steps", i, "id"),
                f"duplicate step id {step.id} (also steps[{position[step.id]}])",
            )
        else:
            position[step.id] = i
        if step.node_name == VARIABLES_WORKFLOW:
            out.add(("steps", i, "nodeName"), "the variables step is built in; do not declare it")
        elif step.node_name not in workflows:
            out.add(("steps", i, "nodeName"), f"unknown workflow {step.node_name!r}")
        elif not step.skip:
            _check_step_fields(i, step, workflows[step.node_name], out)

    edges: dict[int, set[int]] = {}
    for i, step in steps:
        deps = _check_step_references(i, step, position, variable_names, out)
        if position.get(step.id) == i:
            edges[step.id] = deps
    _report_cycles(edges, position, out)


def _check_step_fields(
    i: int, step: WorkflowStep, definition: WorkflowDefinition, out: _Collector
) -> None:
    """The step's values against its component's form: a step may set only declared fields."""
    found = precheck_step(
        definition.type, definition.data, step.node_payload, is_dynamic=_known_when_run
    )
    for problem in found:
        shown = "" if problem.value is None else f" (value {_short(problem.value)})"
        out.add(("steps", i, "nodePayload", problem.field), f"{problem.message}{shown}")


def _known_when_run(value: Any) -> bool:
    """A `$ref` or a prompt document: its value is known only when the generation runs."""
    if isinstance(value, dict) and REF_KEY in value:
        return True
    return isinstance(value, str) and is_prompt_document(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _check_target(
    target: int, here: int, step: WorkflowStep, position: Mapping[int, int], what: str
) -> str | None:
    """Why `step` (at index `here`) may not depend on `target`, or None if it may."""
    if target == VARIABLES_STEP_ID:
        return None
    if target not in position:
        return f"{what} missing step {target}"
    if target == step.id:
        return f"{what} its own step {target} (a cycle)"
    if position[target] > here:
        return (
            f"{what} step {target}, which comes later (steps[{position[target]}]); "
            "a step may only use steps before it"
        )
    return None


def _check_step_references(
    i: int,
    step: WorkflowStep,
    position: Mapping[int, int],
    variable_names: set[str],
    out: _Collector,
) -> set[int]:
    """Report bad refs and mentions of one step; return the declared steps it depends on."""
    base: Location = ("steps", i, "nodePayload")
    found = scan_payload(step.node_payload)
    for bad in found.malformed:
        out.add((*base, *bad.location), bad.message)
    for ref in found.refs:
        reason = _check_target(ref.step_id, i, step, position, "`$ref` to")
        if reason:
            out.add((*base, *ref.location, REF_KEY), reason)
        try:
            compile_jq(ref.path)
        except ValueError as exc:
            detail = str(exc).splitlines()[0] if str(exc) else "syntax error"
            out.add((*base, *ref.location, PATH_KEY), f"not a valid jq expression: {detail}")
        else:
            match = _VARIABLE_PATH.match(ref.path)
            if ref.step_id == VARIABLES_STEP_ID and match and match[1] not in variable_names:
                out.add(
                    (*base, *ref.location, PATH_KEY),
                    f"no variable named {match[1]!r}",
                    "warning",
                )
    for mention in found.mentions:
        if mention.in_text and (mention.step_id not in position or mention.step_id == step.id):
            continue  # plain text that happens to look like "#123"
        reason = _check_target(mention.step_id, i, step, position, "prompt mentions")
        if reason:
            out.add((*base, *mention.location), reason)
    _check_prompt_variables(step.node_payload, base, variable_names, out)
    # Edges for cycle detection: every reference to another declared step, later ones included.
    targets = [ref.step_id for ref in found.refs] + [m.step_id for m in found.mentions]
    return {t for t in targets if t in position and t != step.id}


def _check_prompt_variables(
    value: Any, location: Location, variable_names: set[str], out: _Collector
) -> None:
    if isinstance(value, dict) and REF_KEY not in value:
        for key, item in value.items():
            _check_prompt_variables(item, (*location, key), variable_names, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_prompt_variables(item, (*location, index), variable_names, out)
    elif isinstance(value, str) and is_prompt_document(value):
        for name in prompt_variable_names(value):
            if name not in variable_names:
                out.add(location, f"prompt uses undeclared variable ${name}", "warning")


def _report_cycles(
    edges: Mapping[int, set[int]], position: Mapping[int, int], out: _Collector
) -> None:
    """One problem per strongly connected group of steps (Tarjan); self-references are reported
    where they are written."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    components: list[list[int]] = []

    def visit(node: int) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(edges.get(node, ())):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(edges, key=position.__getitem__):
        if node not in index:
            visit(node)
    for component in components:
        members = sorted(component, key=position.__getitem__)
        chain = " → ".join(str(m) for m in [*members, members[0]])
        out.add(("steps", position[members[0]]), f"steps {chain} depend on each other (a cycle)")


def _check_variables(variables: Sequence[tuple[int, Variable]], out: _Collector) -> None:
    seen: dict[str, int] = {}
    for i, variable in variables:
        where: Location = ("variables", i)
        if variable.name in seen:
            out.add(
                (*where, "name"),
                f"duplicate variable {variable.name!r} (also variables[{seen[variable.name]}])",
            )
        else:
            seen[variable.name] = i
        if not variable.name:
            out.add((*where, "name"), "a variable needs a name")
        elif not _REFERABLE_NAME.match(variable.name):
            out.add(
                (*where, "name"),
                "only letters, digits and _ can be referenced as $name in prompts",
                "warning",
            )
        value = variable.value
        values_at: Location = (*where, "value", "values")
        if not value.values and not variable.is_locked:
            out.add(values_at, "no values to pick from")
        if len(value.display_names) != len(value.values):
            out.add(
                (*where, "value", "display_names"),
                f"{len(value.display_names)} display names for {len(value.values)} values",
            )
        _check_weights(variable, (*where, "value", "weights"), out)
        if variable.lock_value and variable.test_value is None:
            out.add(
                (*where, "lock_value"), "lock_value has no effect without a test_value", "warning"
            )
        elif variable.is_locked and variable.test_value not in value.values:
            out.add(
                (*where, "test_value"),
                f"locked test value {variable.test_value!r} is not one of the values",
                "warning",
            )


def _check_weights(variable: Variable, at: Location, out: _Collector) -> None:
    weights, values = variable.value.weights, variable.value.values
    if variable.type != "weighted_pick":
        if weights and len(weights) != len(values):
            out.add(
                at, f"{len(weights)} weights for {len(values)} values (unused by pick)", "warning"
            )
        return
    if len(weights) != len(values):
        out.add(at, f"{len(weights)} weights for {len(values)} values")
    bad = False
    for k, weight in enumerate(weights):
        if not math.isfinite(weight) or weight < 0:
            out.add((*at, k), f"weight {weight} must be a finite number ≥ 0")
            bad = True
    if weights and not bad and sum(weights) <= 0:
        out.add(at, "weights add up to 0; nothing can be picked")


def _check_generations(spec: GenerationsSpec, out: _Collector) -> None:
    # Listed hashes are used whatever use_custom_hashes says (as on the original platform).
    at: Location = ("generations",)
    if not spec.has_custom_hashes:
        if spec.generations < 1:
            out.add((*at, "generations"), "at least 1 generation is needed (or custom hashes)")
        elif spec.generations > MAX_GENERATIONS:
            out.add((*at, "generations"), f"at most {MAX_GENERATIONS} generations per run")
        if spec.use_custom_hashes:
            out.add(
                (*at, "hashes"),
                "use_custom_hashes is true but there are no hashes; random ones are made",
                "warning",
            )
        return
    first: dict[str, int] = {}
    for k, hash_ in enumerate(spec.hashes):
        if not is_well_formed_hash(hash_):
            out.add(
                (*at, "hashes", k),
                "malformed hash: 6 to 256 letters, digits, '_' or '-' (e.g. 0x + 64 hex)",
            )
        elif hash_ in first:
            out.add((*at, "hashes", k), f"same hash as hashes[{first[hash_]}]", "warning")
        else:
            first[hash_] = k
    if spec.generations != len(spec.hashes):
        out.add(
            (*at, "generations"),
            f"{spec.generations} generations but {len(spec.hashes)} custom hashes; the hashes win",
            "warning",
        )
