"""Compile, don't forward: a step becomes a queue job only through its component.

The step's values are checked against the component's form; only declared fields are filled
into a copy of the component's template, at the places its bindings name; then what the platform
owns is added (the seed from the hash, where outputs go, the files of earlier steps the job may
read). Nothing else of a step's `nodePayload` reaches a worker: not a URL, a header, a secret, a
blob path, a service or a renderer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from emprops.components.form import FieldProblem, Form, FormField, check_form_values
from emprops.components.templates import (
    ComfyWorkflowData,
    DirectJobData,
    FetchApiData,
    RegisteredType,
    parse_workflow_data,
)
from emprops.core.errors import InvalidInputError

RENDERERS = ("layers", "animate")
# Keys of a renderer job the platform sets; a step naming them is refused, not overridden.
RENDERER_OWNED = {
    "renderer": "the component decides which renderer runs",
    "hash": "set by the platform from the generation hash",
    "output_path": "set by the platform (where outputs go)",
}


@dataclass(frozen=True)
class PlatformInputs:
    """What the platform adds to every job of one step of one generation."""

    seed: int
    hash: str
    output_path: str
    # Blob path prefixes this job may read inputs from (the run's own folder).
    input_roots: Sequence[str] = ()
    # The src URL of each file an earlier step of this generation stored -> its blob path.
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledJob:
    service: str
    payload: dict[str, Any]


class StepCompileError(InvalidInputError):
    """Every problem of one step; `details.problems` carries field, message and value."""

    def __init__(self, label: str, problems: list[FieldProblem]) -> None:
        first = problems[0]
        super().__init__(
            f"{label}: field {first.field!r}: {first.message}"
            + (f" (value {first.value!r})" if first.value is not None else ""),
            details={
                "problems": [
                    {"field": p.field, "message": p.message, "value": _shown(p.value)}
                    for p in problems
                ]
            },
        )
        self.problems = problems


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value


def component_form(workflow_type: str, data: Mapping[str, Any] | None) -> Form | None:
    """The form of a component (None for built-ins, and for a definition that carries no
    template: a catalog made for validation only)."""
    if data is not None and workflow_type in ("comfy_workflow", "direct_job", "fetch_api"):
        parsed = parse_workflow_data(workflow_type, dict(data or {}))  # type: ignore[arg-type]
        return parsed.effective_form()
    return None


def _set_path(target: Any, path: list[str | int], value: Any) -> None:
    for key in path[:-1]:
        if isinstance(key, int):
            if not isinstance(target, list):
                raise ValueError("path indexes into something that is not a list")
            while len(target) <= key:
                target.append({})
            target = target[key]
        else:
            if not isinstance(target, dict):
                raise ValueError("path names a key of something that is not an object")
            target = target.setdefault(key, {})
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(target, list):
            raise ValueError("path indexes into something that is not a list")
        while len(target) <= last:
            target.append(None)
        target[last] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise ValueError("path names a key of something that is not an object")


def _file_reference(
    form_field: FormField, value: Any, platform: PlatformInputs, problems: list[FieldProblem]
) -> dict[str, str] | None:
    """Where the worker gets a file field's bytes: an earlier step's stored output (by its blob
    path) or a public http(s) URL (fetched by the worker's outbound client, which refuses private
    addresses). Anything else, a blob key above all, is refused."""
    if not isinstance(value, str) or not value:
        problems.append(FieldProblem(form_field.id, "needs a file", value))
        return None
    if value in platform.files:
        return {"path": platform.files[value]}
    if value.startswith(("http://", "https://")):
        return {"url": value}  # a store URL here is refused by the worker (input_roots)
    problems.append(
        FieldProblem(
            form_field.id,
            "is neither a file an earlier step of this generation made nor an http(s) URL",
            value,
        )
    )
    return None


def _compile_comfy(
    data: ComfyWorkflowData,
    values: dict[str, Any],
    platform: PlatformInputs,
    problems: list[FieldProblem],
) -> dict[str, Any]:
    fields = data.effective_form().by_id()
    graph = {
        node_id: node.model_dump(mode="json", by_alias=True, exclude_none=True)
        for node_id, node in data.graph.items()
    }
    uploads: list[dict[str, str]] = []
    for node_id, bindings in data.inputs.items():
        for input_name, binding in bindings.items():
            form_field = fields[binding.value]
            value = values.get(binding.value)
            if value is None:
                value = binding.default  # the component's own default, as written
            if value is None and (form_field.seed or binding.type == "seed"):
                value = platform.seed
            if value is None:
                if binding.is_required:
                    problems.append(FieldProblem(binding.value, "required"))
                continue  # the graph keeps its own value
            if form_field.kind == "file":
                source = _file_reference(form_field, value, platform, problems)
                if source is not None:
                    uploads.append({"node": node_id, "input": input_name, **source})
                continue
            graph[node_id]["inputs"][input_name] = value
    payload: dict[str, Any] = {"prompt": graph}
    if uploads:
        payload["inputs"] = uploads
    if data.output_nodes:
        payload["output_nodes"] = list(data.output_nodes)
    return payload


def _compile_direct(
    data: DirectJobData,
    values: dict[str, Any],
    platform: PlatformInputs,
    problems: list[FieldProblem],
) -> dict[str, Any]:
    fields = data.effective_form().by_id()
    payload = copy.deepcopy(data.payload)
    for field_id in data.inputs:
        value = values.get(field_id)
        if value is None and fields[field_id].seed:
            value = platform.seed
        if value is None:
            continue
        if fields[field_id].kind == "file":
            source = _file_reference(fields[field_id], value, platform, problems)
            if source is None:
                continue
            value = source.get("url") or value  # a stored file goes by its store URL
        for path in data.paths(field_id):
            try:
                _set_path(payload, path, value)
            except ValueError as exc:
                problems.append(FieldProblem(field_id, f"cannot be placed: {exc}"))
    return payload


def _compile_fetch(
    data: FetchApiData,
    values: dict[str, Any],
    platform: PlatformInputs,
    problems: list[FieldProblem],
) -> dict[str, Any]:
    fields = data.effective_form().by_id()
    variables: dict[str, Any] = {}
    for field_id, value in values.items():
        file_field = fields[field_id].kind == "file"
        if file_field and _file_reference(fields[field_id], value, platform, problems) is None:
            continue
        variables[field_id] = value
    for field_id, form_field in fields.items():
        if form_field.seed and field_id not in variables:
            variables[field_id] = platform.seed
    payload = data.model_dump(mode="json", exclude={"form"}, exclude_none=True)
    payload["vars"] = variables
    return payload


def _renderer_model(name: str) -> type[BaseModel]:
    from emprops.art import AnimateRenderRequest, LayersRenderRequest  # only renderer runs

    return LayersRenderRequest if name == "layers" else AnimateRenderRequest


def _compile_renderer(
    name: str, values: Mapping[str, Any], platform: PlatformInputs, label: str
) -> CompiledJob:
    """A renderer's form is its request model: the step's values must parse as one."""
    owned = [
        FieldProblem(key, why, values[key]) for key, why in RENDERER_OWNED.items() if key in values
    ]
    if owned:
        raise StepCompileError(label, owned)
    payload = {**values, "hash": platform.hash}
    try:
        _renderer_model(name).model_validate(payload)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                ".".join(str(p) for p in e["loc"]) or "(payload)", e["msg"], e.get("input")
            )
            for e in exc.errors()
        ]
        raise StepCompileError(label, problems) from None
    return CompiledJob(
        service="render",
        payload={"renderer": name, **payload, "output_path": platform.output_path},
    )


def compile_step(
    workflow_type: str,
    name: str,
    service: str | None,
    data: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    platform: PlatformInputs,
    *,
    label: str,
) -> CompiledJob:
    """The job for one step of one generation, or StepCompileError with every problem.

    `values` are the step's values with references resolved and prompts rendered."""
    if workflow_type == "renderer":
        return _compile_renderer(name, values, platform, label)
    if workflow_type not in ("comfy_workflow", "direct_job", "fetch_api"):
        raise InvalidInputError(f"{label}: {name!r} is not a component that runs as a job")
    template = parse_workflow_data(workflow_type, dict(data or {}))  # type: ignore[arg-type]
    checked, problems = check_form_values(template.effective_form(), values)
    if isinstance(template, ComfyWorkflowData):
        payload = _compile_comfy(template, checked, platform, problems)
        job_service = service or "comfyui"
    elif isinstance(template, DirectJobData):
        payload = _compile_direct(template, checked, platform, problems)
        job_service = template.service_required
    else:
        payload = _compile_fetch(template, checked, platform, problems)
        job_service = service or "http"
    if problems:
        raise StepCompileError(label, problems)
    return CompiledJob(service=job_service, payload=payload)


def precheck_step(
    workflow_type: RegisteredType | str,
    data: Mapping[str, Any] | None,
    node_payload: Any,
    *,
    is_dynamic: Callable[[Any], bool],
) -> list[FieldProblem]:
    """What can be known wrong before a run: undeclared fields, literal values of the wrong type
    or out of bounds, required fields left out. Values `is_dynamic` names (references, prompt
    documents) are checked once they are resolved, at compile time."""
    if workflow_type == "renderer":
        if not isinstance(node_payload, dict):
            return []
        return [
            FieldProblem(key, why, node_payload[key])
            for key, why in RENDERER_OWNED.items()
            if key in node_payload
        ]
    form = component_form(workflow_type, data)
    if form is None or not isinstance(node_payload, dict):
        return []
    literal = {k: v for k, v in node_payload.items() if not is_dynamic(v)}
    _, problems = check_form_values(form, literal)
    dynamic = set(node_payload) - set(literal)
    fields = form.by_id()
    problems = [p for p in problems if not (p.message == "required" and p.field in dynamic)]
    problems += [
        FieldProblem(key, f"unknown field (this component's fields: {', '.join(sorted(fields))})")
        for key in sorted(dynamic)
        if key not in fields
    ]
    if workflow_type == "comfy_workflow":
        template = parse_workflow_data("comfy_workflow", dict(data or {}))
        assert isinstance(template, ComfyWorkflowData)
        given = set(node_payload)
        for bindings in template.inputs.values():
            for binding in bindings.values():
                form_field = fields[binding.value]
                if (
                    binding.is_required
                    and binding.value not in given
                    and binding.default is None
                    and form_field.default is None
                    and not (form_field.seed or binding.type == "seed")
                ):
                    problems.append(FieldProblem(binding.value, "required"))
    return _unique(problems)


def _unique(problems: list[FieldProblem]) -> list[FieldProblem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for problem in problems:
        key = (problem.field, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


# Where a component's own test values are compiled: a generation that is no generation.
TEST_PLATFORM = PlatformInputs(
    seed=1, hash="0x" + "0" * 64, output_path="components/test/output", input_roots=()
)


def compile_test_values(
    workflow_type: str,
    name: str,
    service: str | None,
    data: Mapping[str, Any] | None,
    values: Mapping[str, Any],
) -> CompiledJob:
    """A component's test value set as the job it makes (StepCompileError when it makes none)."""
    return compile_step(
        workflow_type, name, service, data, values, TEST_PLATFORM, label="test values"
    )
