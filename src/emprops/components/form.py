"""A component's form: the only fields a creator's step may set, with their types and bounds.

A step's `nodePayload` is checked against this before anything is built from it: a value for an
undeclared field, of the wrong type, out of bounds or not among the options is a problem naming
the field and the value, and every problem of a step is reported at once.

Values arrive as the original editor wrote them (numbers often as strings, "1024"); numeric fields
take numeric strings and hand on numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

FieldKind = Literal["text", "prompt", "number", "integer", "boolean", "select", "file", "json"]
FIELD_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
MAX_TEXT = 200_000
# The seed a graph takes: the UI bounds of the original forms (0..999999) are a hint only, its
# own test values and its random seeds go past them; ComfyUI accepts 64-bit seeds.
MAX_SEED = 2**64 - 1


class FormOption(BaseModel):
    """One choice of a select field: what is sent (`value`) and what a person reads."""

    model_config = ConfigDict(extra="forbid")

    value: JsonValue
    label: str | None = None


class FormField(BaseModel):
    """One field: its id (what `nodePayload` keys and template bindings name) and its rules."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=FIELD_ID_PATTERN)
    kind: FieldKind = "json"
    label: str | None = Field(default=None, max_length=200)
    default: JsonValue = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    step: float | None = Field(default=None, gt=0)
    options: list[FormOption] | None = Field(default=None, max_length=10_000)
    seed: bool = Field(default=False, description="Filled from the generation hash when unset.")
    ui: dict[str, JsonValue] = Field(
        default_factory=dict, description="How the editor shows it (type, group, display...)."
    )


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FormField] = Field(default_factory=list, max_length=500)
    ui: dict[str, JsonValue] = Field(default_factory=dict)

    def by_id(self) -> dict[str, FormField]:
        return {f.id: f for f in self.fields}


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    value: Any = None


def _number(field: FormField, value: Any) -> Any:
    """The number a value stands for, or an error message (a str starting with '!')."""
    raw = value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return f"!{raw!r} is not a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"!{raw!r} is not a number"
    if isinstance(value, float) and not math.isfinite(value):
        return f"!{raw!r} is not a finite number"
    if (field.kind == "integer" or field.seed) and isinstance(value, float):
        if not value.is_integer():
            return f"!{raw!r} is not a whole number"
        value = int(value)
    if field.seed:
        if not 0 <= value <= MAX_SEED:
            return f"!seed {raw!r} is outside 0..{MAX_SEED}"
        return value
    if field.min is not None and value < field.min:
        return f"!{raw!r} is below the minimum {field.min:g}"
    if field.max is not None and value > field.max:
        return f"!{raw!r} is above the maximum {field.max:g}"
    return value


def _boolean(value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return f"!{value!r} is not true or false"


def _option(field: FormField, value: Any) -> Any:
    assert field.options is not None
    for option in field.options:
        if option.value == value or (
            isinstance(option.value, int | float)
            and not isinstance(option.value, bool)
            and isinstance(value, str)
            and _same_number(option.value, value)
        ):
            return option.value
    shown = ", ".join(repr(o.value) for o in field.options[:12])
    more = "…" if len(field.options) > 12 else ""
    return f"!{value!r} is not one of the options ({shown}{more})"


def _same_number(number: float, text: str) -> bool:
    try:
        return float(text) == number
    except ValueError:
        return False


def check_value(field: FormField, value: Any) -> Any:
    """The value as the template gets it, or an error message starting with '!'."""
    if field.options is not None:
        return _option(field, value)
    kind = field.kind
    if field.seed or kind in ("number", "integer"):
        return _number(field, value)
    if kind == "boolean":
        return _boolean(value)
    if kind in ("text", "prompt", "file"):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return f"!{value!r} is not text"
        text = value if isinstance(value, str) else str(value)
        if len(text) > MAX_TEXT:
            return f"!{len(text)} characters, more than {MAX_TEXT}"
        return text
    return value


def check_form_values(
    form: Form, values: Mapping[str, Any], *, platform_owned: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The checked values (defaults filled in) and every problem. `platform_owned` names keys a
    step may not set, with why (e.g. `renderer`: chosen by the component)."""
    fields = form.by_id()
    owned = platform_owned or {}
    problems: list[FieldProblem] = []
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key in owned:
            problems.append(FieldProblem(key, owned[key], value))
            continue
        field = fields.get(key)
        if field is None:
            known = ", ".join(sorted(fields)) or "none"
            problems.append(
                FieldProblem(key, f"unknown field (this component's fields: {known})", value)
            )
            continue
        if value is None or (value == "" and field.kind not in ("text", "prompt")):
            continue  # left empty: the default applies
        result = check_value(field, value)
        if isinstance(result, str) and result.startswith("!"):
            problems.append(FieldProblem(key, result[1:], value))
        else:
            checked[key] = result
    for field in form.fields:
        if field.id in checked:
            continue
        if field.default is not None:
            checked[field.id] = field.default
        elif field.required and not field.seed:
            problems.append(FieldProblem(field.id, "required"))
    return checked, problems
