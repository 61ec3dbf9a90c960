"""`$ref`: a payload value computed by a jq expression from an earlier step's output.

`{"$ref": <step id>, "path": "<jq>"}` may sit at any depth of a `nodePayload`; the original editor
also writes a `tag` (e.g. "vars"), a label that does not change the value. Prompt documents
mention steps too (`#id`); both make a step depend on another, which fixes the order steps run in.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jq
from pydantic import JsonValue

from emprops.workflows.errors import GenerationInputInvalid, RefResolutionError, ValidationProblem
from emprops.workflows.generation_input import VARIABLES_STEP_ID, GenerationInput, WorkflowStep
from emprops.workflows.location import Location, format_location
from emprops.workflows.prompt_document import is_prompt_document, prompt_component_mentions

REF_KEY = "$ref"
PATH_KEY = "path"
TAG_KEY = "tag"


@dataclass(frozen=True)
class StepRef:
    """A well-formed `$ref`; `location` leads from the payload to the ref object."""

    step_id: int
    path: str
    location: Location
    tag: str | None = None


@dataclass(frozen=True)
class MalformedRef:
    location: Location
    message: str


@dataclass(frozen=True)
class PromptMention:
    """A step named inside a prompt document string found at `location`."""

    step_id: int
    location: Location
    in_text: bool


@dataclass
class PayloadReferences:
    refs: list[StepRef] = field(default_factory=list)
    malformed: list[MalformedRef] = field(default_factory=list)
    mentions: list[PromptMention] = field(default_factory=list)


def _scan(value: Any, location: Location, found: PayloadReferences) -> None:
    if isinstance(value, dict):
        if REF_KEY in value:
            _scan_ref(value, location, found)
            return
        for key, item in value.items():
            _scan(item, (*location, key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _scan(item, (*location, index), found)
    elif isinstance(value, str) and is_prompt_document(value):
        for mention in prompt_component_mentions(value):
            found.mentions.append(PromptMention(mention.step_id, location, mention.in_text))


def _scan_ref(value: dict[str, Any], location: Location, found: PayloadReferences) -> None:
    target, path, tag = value.get(REF_KEY), value.get(PATH_KEY), value.get(TAG_KEY)
    ok = True
    if isinstance(target, bool) or not isinstance(target, int):
        found.malformed.append(MalformedRef((*location, REF_KEY), "`$ref` must be a step id"))
        ok = False
    if not isinstance(path, str):
        found.malformed.append(
            MalformedRef((*location, PATH_KEY), "`$ref` needs a `path` (a jq expression string)")
        )
        ok = False
    if tag is not None and not isinstance(tag, str):
        found.malformed.append(MalformedRef((*location, TAG_KEY), "`$ref` `tag` must be a string"))
        ok = False
    extra = sorted(set(value) - {REF_KEY, PATH_KEY, TAG_KEY})
    if extra:
        found.malformed.append(
            MalformedRef(location, f"`$ref` object has unexpected keys: {', '.join(extra)}")
        )
        ok = False
    if ok:
        assert isinstance(target, int) and isinstance(path, str)
        found.refs.append(StepRef(target, path, location, tag))


def scan_payload(payload: JsonValue) -> PayloadReferences:
    """Every `$ref` (well-formed or not) and every prompt-document mention in a payload."""
    found = PayloadReferences()
    _scan(payload, (), found)
    return found


def find_refs(payload: JsonValue) -> list[StepRef]:
    """The well-formed `$ref`s of a payload, in document order."""
    return scan_payload(payload).refs


def step_dependencies(step: WorkflowStep, step_ids: Collection[int]) -> set[int]:
    """Steps that must run before `step`: its `$ref` targets and the steps its prompts mention.

    A `#id` typed as plain text counts only when it names another declared step; otherwise it
    is just text.
    """
    found = scan_payload(step.node_payload)
    deps = {ref.step_id for ref in found.refs}
    for mention in found.mentions:
        if not mention.in_text or (mention.step_id in step_ids and mention.step_id != step.id):
            deps.add(mention.step_id)
    return deps


def dependency_order(generation_input: GenerationInput) -> list[int]:
    """Step ids in the order to run them: the variables step, then each step after its dependencies.

    Ties keep declaration order, so a valid document (which only refers backwards) runs exactly
    in the order written. Raises GenerationInputInvalid on a missing target or a cycle.
    """
    steps = generation_input.steps
    index = {step.id: i for i, step in enumerate(steps)}
    problems: list[ValidationProblem] = []
    if len(index) != len(steps):
        problems.append(ValidationProblem(path="steps", message="step ids are not unique"))
    waiting_on: dict[int, set[int]] = {}
    for i, step in enumerate(steps):
        deps = step_dependencies(step, index) - {VARIABLES_STEP_ID}
        for dep in sorted(deps - index.keys()):
            problems.append(
                ValidationProblem(path=f"steps[{i}]", message=f"refers to missing step {dep}")
            )
        waiting_on[step.id] = deps & index.keys()
    if problems:
        raise GenerationInputInvalid(problems)

    dependents: dict[int, list[int]] = {step_id: [] for step_id in index}
    for step_id, deps in waiting_on.items():
        for dep in deps:
            dependents[dep].append(step_id)
    ready = [index[s] for s, deps in waiting_on.items() if not deps]
    heapq.heapify(ready)
    order = [VARIABLES_STEP_ID]
    while ready:
        step_id = steps[heapq.heappop(ready)].id
        order.append(step_id)
        for dependent in dependents[step_id]:
            waiting_on[dependent].discard(step_id)
            if not waiting_on[dependent]:
                heapq.heappush(ready, index[dependent])
    if len(order) != len(steps) + 1:
        stuck = [s.id for s in steps if waiting_on[s.id]]
        raise GenerationInputInvalid(
            [
                ValidationProblem(
                    path="steps", message=f"steps {stuck} depend on each other (a cycle)"
                )
            ]
        )
    return order


@lru_cache(maxsize=512)
def compile_jq(path: str) -> Any:
    """Compile once per distinct expression; raises ValueError for a bad expression."""
    return jq.compile(path)


def apply_jq(path: str, value: JsonValue) -> JsonValue:
    """One result is the value; none is null; several are returned as a list."""
    results: list[JsonValue] = compile_jq(path).input_value(value).all()
    if not results:
        return None
    return results[0] if len(results) == 1 else results


def _substitute(value: Any, outputs: Mapping[int, JsonValue], location: Location) -> Any:
    if isinstance(value, dict):
        if REF_KEY in value:
            return _resolve_one(value, outputs, location)
        return {k: _substitute(v, outputs, (*location, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, outputs, (*location, i)) for i, v in enumerate(value)]
    return value


def _resolve_one(
    value: dict[str, Any], outputs: Mapping[int, JsonValue], location: Location
) -> Any:
    where = format_location(location) or "(payload)"
    target, path = value.get(REF_KEY), value.get(PATH_KEY)
    if isinstance(target, bool) or not isinstance(target, int) or not isinstance(path, str):
        raise RefResolutionError(f"{where}: malformed `$ref` {value!r}")
    # Any other key (the original's `tag`) is a label: validation vets it, the value ignores it.
    if target not in outputs:
        raise RefResolutionError(f"{where}: no output yet from step {target}")
    try:
        return apply_jq(path, outputs[target])
    except ValueError as exc:
        raise RefResolutionError(f"{where}: jq `{path}` on step {target} failed: {exc}") from exc


def resolve_refs(payload: JsonValue, outputs: Mapping[int, JsonValue]) -> JsonValue:
    """A copy of `payload` with each `$ref` replaced by its jq result on the target's output."""
    return _substitute(payload, outputs, ())  # type: ignore[no-any-return]


def resolve_step_payload(
    step: WorkflowStep, outputs: Mapping[int, JsonValue]
) -> dict[str, JsonValue]:
    """The step's payload with refs resolved; errors name the step and the key."""
    try:
        resolved = _substitute(step.node_payload, outputs, ("nodePayload",))
    except RefResolutionError as exc:
        raise RefResolutionError(f"step {step.id} ({step.node_name}): {exc.message}") from exc
    return resolved  # type: ignore[no-any-return]
