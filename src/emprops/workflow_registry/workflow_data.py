"""The `data` of each registered workflow type, checked when an administrator writes it.

A workflow is run long after it is registered, on a worker that cannot ask anyone what was meant;
a shape error found then costs a failed generation, so each type's data is parsed here first.
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

from emprops.core.errors import InvalidInputError
from emprops.worker.connectors.http_api import FetchApiPayload, PollSpec

RegisteredType = Literal["comfy_workflow", "direct_job", "fetch_api"]
SERVICE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
MAX_JQ_CHARS = 4000
_PAYLOAD_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")

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


class ComfyWorkflowData(BaseModel):
    model_config = _STRICT

    graph: dict[str, ComfyNode] = Field(min_length=1, description="API-format graph by node id.")
    inputs: dict[str, dict[str, ComfyInputBinding]] = Field(
        description="node id -> node input name -> the form field feeding it."
    )
    output_nodes: list[str] | None = None

    @model_validator(mode="after")
    def _nodes_exist(self) -> ComfyWorkflowData:
        missing = [n for n in [*self.inputs, *(self.output_nodes or [])] if n not in self.graph]
        if missing:
            raise ValueError(f"graph has no node {missing[0]!r} (named in inputs/output_nodes)")
        return self


class DirectJobData(BaseModel):
    model_config = _STRICT

    service_required: str = Field(pattern=SERVICE_PATTERN)
    payload: dict[str, JsonValue]
    requirements: dict[str, JsonValue] = Field(default_factory=dict)
    output_field: str | None = Field(default=None, min_length=1, max_length=200)
    inputs: dict[str, str] = Field(
        default_factory=dict, description="form field -> dotted path in the payload it fills."
    )

    @field_validator("inputs")
    @classmethod
    def _paths(cls, inputs: dict[str, str]) -> dict[str, str]:
        for field, path in inputs.items():
            if not _PAYLOAD_PATH.match(path):
                raise ValueError(f"input {field!r}: {path!r} is not a dotted payload path")
        return inputs


class FetchPoll(PollSpec):
    """The connector's poll spec, with every condition compiled at registration."""

    @field_validator("done", "failed", "error", "progress")
    @classmethod
    def _jq(cls, expression: str | None) -> str | None:
        return None if expression is None else check_jq(expression)


class FetchApiData(FetchApiPayload):
    """A registered fetch_api workflow: the HTTP connector's own payload model (so registration
    refuses what the worker would refuse), less `vars`, which the engine fills in per step."""

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


DATA_MODELS: dict[str, type[BaseModel]] = {
    "comfy_workflow": ComfyWorkflowData,
    "direct_job": DirectJobData,
    "fetch_api": FetchApiData,
}
DEFAULT_SERVICES = {"comfy_workflow": "comfyui", "fetch_api": "http"}


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(["data", *(str(part) for part in loc)])


def parse_workflow_data(workflow_type: RegisteredType, data: dict[str, Any]) -> BaseModel:
    """The typed data, or InvalidInputError listing every problem as `data.<path>`."""
    try:
        return DATA_MODELS[workflow_type].model_validate(data)
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
