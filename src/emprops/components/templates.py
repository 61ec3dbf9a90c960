"""The template of each component kind, checked when an administrator registers it.

A component is run long after it is registered, on a worker that cannot ask anyone what was meant;
a shape error found then costs a failed generation, so each kind's data is parsed here first.
Every kind carries a `form` (the fields a step may set); where an older registration has none,
the form is derived from the template's bindings (fields of any JSON type).
The `fetch_api` shape is the HTTP connector's job payload without its per-step `vars`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import jq
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)

from emprops.components.form import Form, FormField
from emprops.core.errors import InvalidInputError
from emprops.worker.connectors.http_api import FetchApiPayload, PollSpec

RegisteredType = Literal["comfy_workflow", "direct_job", "fetch_api"]
SERVICE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
MAX_JQ_CHARS = 4000
_PATH_SEGMENT = re.compile(r"\.?([A-Za-z0-9_$-]+)|\.?\[(\d{1,6})\]|\.?\[\"([^\"]{1,200})\"\]")
# ComfyUI's editor (UI) format: what people export by mistake instead of the API format.
UI_FORMAT_HINT = (
    "this is a ComfyUI graph in the editor's format (nodes/links): export it in API format "
    "(Workflow → Export (API)) and register that"
)

_STRICT = ConfigDict(extra="forbid")


def check_jq(expression: str) -> str:
    """A jq expression that compiles; the worker evaluates it later (in its sandbox)."""
    if not expression.strip():
        raise ValueError("empty jq expression")
    if len(expression) > MAX_JQ_CHARS:
        raise ValueError(f"jq expression longer than {MAX_JQ_CHARS} characters")
    try:
        jq.compile(expression)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise ValueError(f"not a valid jq expression: {first}") from None
    return expression


class ComfyNode(BaseModel):
    """One node of a ComfyUI API-format graph."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    class_type: str = Field(min_length=1, max_length=200)
    inputs: dict[str, JsonValue] = Field(default_factory=dict)
    meta: dict[str, JsonValue] | None = Field(default=None, alias="_meta")


class ComfyInputBinding(BaseModel):
    """Which form field feeds a graph node input (the seed defaults to the generation seed)."""

    model_config = _STRICT

    value: str = Field(min_length=1, max_length=200, description="The form field id.")
    default: JsonValue = None
    is_required: bool = False
    type: str = Field(default="string", min_length=1, max_length=40)


def parse_path(path: str) -> list[str | int]:
    """`a.b[0].c` / `.a.[0]` / `["a b"]` (the jq paths the original inputs use) as keys and
    indexes; ValueError for anything else."""
    text = path.strip()
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_SEGMENT.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"{path!r} is not a path like a.b[0].c")
        name, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (name if name is not None else quoted))
        position = match.end()
    if not parts:
        raise ValueError("empty path")
    return parts


def is_ui_format(graph: Any) -> bool:
    return isinstance(graph, dict) and isinstance(graph.get("nodes"), list) and "links" in graph


def _form_or(form: Form | None, field_ids: list[str]) -> Form:
    if form is not None:
        return form
    return Form(fields=[FormField(id=f) for f in dict.fromkeys(field_ids)])


class ComfyWorkflowData(BaseModel):
    model_config = _STRICT

    form: Form | None = None
    graph: dict[str, ComfyNode] = Field(min_length=1, description="API-format graph by node id.")
    inputs: dict[str, dict[str, ComfyInputBinding]] = Field(
        description="node id -> node input name -> the form field feeding it."
    )
    output_nodes: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _api_format(cls, data: Any) -> Any:
        if isinstance(data, dict) and is_ui_format(data.get("graph")):
            raise ValueError(UI_FORMAT_HINT)
        return data

    @model_validator(mode="after")
    def _nodes_exist(self) -> ComfyWorkflowData:
        missing = [n for n in [*self.inputs, *(self.output_nodes or [])] if n not in self.graph]
        if missing:
            raise ValueError(f"graph has no node {missing[0]!r} (named in inputs/output_nodes)")
        fields = self.effective_form().by_id()
        for node, bindings in self.inputs.items():
            for name, binding in bindings.items():
                if binding.value not in fields:
                    raise ValueError(
                        f"inputs.{node}.{name}: field {binding.value!r} is not in the form"
                    )
        return self

    def effective_form(self) -> Form:
        if self.form is not None:
            return self.form
        bindings = [b for node in self.inputs.values() for b in node.values()]
        seeds = {b.value for b in bindings if b.type == "seed" or b.value == "seed"}
        ids = dict.fromkeys(b.value for b in bindings)
        return Form(fields=[FormField(id=i, seed=i in seeds) for i in ids])


class DirectJobData(BaseModel):
    model_config = _STRICT

    form: Form | None = None
    service_required: str = Field(pattern=SERVICE_PATTERN)
    payload: dict[str, JsonValue]
    requirements: dict[str, JsonValue] = Field(default_factory=dict)
    output_field: str | None = Field(default=None, min_length=1, max_length=200)
    inputs: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="form field -> the payload path(s) it fills (a.b, a[0].b).",
    )

    @field_validator("inputs")
    @classmethod
    def _paths(cls, inputs: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for field, paths in inputs.items():
            for path in [paths] if isinstance(paths, str) else paths:
                try:
                    parse_path(path)
                except ValueError as exc:
                    raise ValueError(f"input {field!r}: {exc}") from None
        return inputs

    @model_validator(mode="after")
    def _declared(self) -> DirectJobData:
        fields = self.effective_form().by_id()
        for field in self.inputs:
            if field not in fields:
                raise ValueError(f"inputs.{field}: not a field of the form")
        return self

    def effective_form(self) -> Form:
        return _form_or(self.form, list(self.inputs))

    def paths(self, field: str) -> list[list[str | int]]:
        raw = self.inputs.get(field, [])
        return [parse_path(p) for p in ([raw] if isinstance(raw, str) else raw)]


class FetchPoll(PollSpec):
    """The connector's poll spec, with every condition compiled at registration."""

    @field_validator("done", "failed", "error", "progress")
    @classmethod
    def _jq(cls, expression: str | None) -> str | None:
        return None if expression is None else check_jq(expression)


_TEMPLATE_FIELD = re.compile(r"(?<![A-Za-z0-9_$\]])\.([A-Za-z_][A-Za-z0-9_]*)")


class FetchApiData(FetchApiPayload):
    """A registered fetch_api workflow: the HTTP connector's own payload model (so registration
    refuses what the worker would refuse), less `vars`, which the engine fills in per step from
    the form's fields only."""

    form: Form | None = None
    poll: FetchPoll | None = None
    output: str = Field(description="jq expression picking the step output from the response.")

    @model_validator(mode="before")
    @classmethod
    def _no_vars(cls, data: Any) -> Any:
        if isinstance(data, dict) and "vars" in data:
            raise ValueError("vars: not part of a registered workflow (the engine fills them in)")
        return data

    @field_validator("output")
    @classmethod
    def _jq(cls, expression: str) -> str:
        return check_jq(expression)

    def effective_form(self) -> Form:
        """The declared form, or (older registrations) the `.name`s the request templates read
        (not the poll's: those read the remote answer)."""
        if self.form is not None:
            return self.form
        names = [m for e in self.request.expressions() for m in _TEMPLATE_FIELD.findall(e)]
        return _form_or(None, names)


DATA_MODELS: dict[str, type[BaseModel]] = {
    "comfy_workflow": ComfyWorkflowData,
    "direct_job": DirectJobData,
    "fetch_api": FetchApiData,
}
DEFAULT_SERVICES = {"comfy_workflow": "comfyui", "fetch_api": "http"}


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(["data", *(str(part) for part in loc)])


TemplateData = ComfyWorkflowData | DirectJobData | FetchApiData


def parse_workflow_data(workflow_type: RegisteredType, data: dict[str, Any]) -> TemplateData:
    """The typed data, or InvalidInputError listing every problem as `data.<path>`."""
    try:
        return DATA_MODELS[workflow_type].model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        problems = [
            {"location": _where(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()
        ]
        first = problems[0]
        raise InvalidInputError(
            f"{workflow_type} data: {first['location']}: {first['message']}",
            details={"problems": problems},
        ) from None


def service_for(workflow_type: RegisteredType, data: BaseModel) -> str:
    """The queue service a workflow of this type runs on unless the writer names one."""
    if isinstance(data, DirectJobData):
        return data.service_required
    return DEFAULT_SERVICES[workflow_type]
