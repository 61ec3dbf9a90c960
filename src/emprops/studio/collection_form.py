"""The collection editor: a v2 GenerationInput as form rows (variables with their choices, steps
with their payloads) and back.

The form is only a way to type the document: it is checked by the collection service like any
API update, and each problem it reports (`variables[1].value.weights[2]`) is shown next to the
row it is about. What the form does not show (custom hashes, locked test values, `fromId`...) is
kept from the stored document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from emprops.studio.forms import FieldErrors, PostedForm
from emprops.workflows import VARIABLES_STEP_ID

VARIABLE_TYPES = ("pick", "weighted_pick")
VALUE_TYPES = ("strings", "integers", "images", "text", "video", "live_artifact")
MAX_ROWS = 200
_ROW = re.compile(r"^(variables|steps)\[(\d{1,3})\]\.")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


@dataclass
class VariableRow:
    index: int
    name: str = ""
    type: str = "pick"
    value_type: str = "strings"
    options: str = ""
    origin: int | None = None  # its index in the stored document


@dataclass
class StepRow:
    index: int
    id: str = ""
    node_name: str = ""
    alias: str = ""
    skip: bool = False
    payload: str = "{}"


@dataclass
class CollectionEditor:
    title: str
    description: str
    generations: str
    variables: list[VariableRow] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)


# --- document -> form -------------------------------------------------------------------------


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def options_text(value: dict[str, Any]) -> str:
    """One choice per line: `value | weight`, or `Display name | value | weight`."""
    values = list(value.get("values") or [])
    names = list(value.get("display_names") or [])
    weights = list(value.get("weights") or [])
    lines = []
    for i, choice in enumerate(values):
        weight = _number_text(weights[i]) if i < len(weights) else "1"
        name = names[i] if i < len(names) else ""
        if name and name != str(choice):
            lines.append(f"{name} | {choice} | {weight}")
        else:
            lines.append(f"{choice} | {weight}")
    return "\n".join(lines)


def editor_for(title: str, description: str | None, document: dict[str, Any]) -> CollectionEditor:
    generations = document.get("generations") or {}
    variables = [
        VariableRow(
            index=i,
            name=str(v.get("name", "")),
            type=str(v.get("type", "pick")),
            value_type=str(v.get("value_type", "strings")),
            options=options_text(v.get("value") or {}),
            origin=i,
        )
        for i, v in enumerate(document.get("variables") or [])
    ]
    steps = [
        StepRow(
            index=i,
            id=str(s.get("id", "")),
            node_name=str(s.get("nodeName", "")),
            alias=str(s.get("alias") or ""),
            skip=bool(s.get("skip")),
            payload=orjson.dumps(s.get("nodePayload") or {}, option=orjson.OPT_INDENT_2).decode(),
        )
        for i, s in enumerate(document.get("steps") or [])
    ]
    return CollectionEditor(
        title=title, description=description or "",
        generations=str(generations.get("generations", 1)), variables=variables, steps=steps,
    )  # fmt: skip


# --- form -> document -------------------------------------------------------------------------


@dataclass
class ParsedEditor:
    """The document the form describes, what it showed, and where each row came from."""

    editor: CollectionEditor
    document: dict[str, Any]
    errors: FieldErrors
    variable_rows: list[int]  # document index -> form row
    step_rows: list[int]

    def field_of(self, where: str) -> str | None:
        """The form field a document location (`variables[1].value.weights[0]`) belongs to."""
        where = where.removeprefix("data.").removeprefix("data")
        if where in ("title", "description"):
            return where
        if where.startswith("generations"):
            return "generations"
        match = _ROW.match(where + ".")
        if match is None:
            return None
        kind, position = match.group(1), int(match.group(2))
        rows = self.variable_rows if kind == "variables" else self.step_rows
        if position >= len(rows):
            return None
        row = rows[position]
        rest = (where + ".")[match.end() :]
        key = re.split(r"[.\[]", rest, maxsplit=1)[0]
        if kind == "variables":
            own = key if key in ("name", "type", "value_type") else "options"
            return f"variables[{row}].{own}"
        return f"steps[{row}].{key if key in ('nodeName', 'alias') else 'nodePayload'}"


def _rows(form: PostedForm, kind: str) -> list[int]:
    found = set()
    for name in form.names():
        match = _ROW.match(name)
        if match and match.group(1) == kind and int(match.group(2)) < MAX_ROWS:
            found.add(int(match.group(2)))
    return sorted(found)


def _parse_options(
    text: str, value_type: str, where: str, errors: FieldErrors
) -> dict[str, list[Any]]:
    names: list[str] = []
    values: list[Any] = []
    weights: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > 3:
            errors.add(where, f"line {number}: at most 3 parts (display name | value | weight)")
            continue
        name, raw, weight = (
            (parts[0], parts[0], "1") if len(parts) == 1
            else (parts[0], parts[0], parts[1]) if len(parts) == 2
            else (parts[0], parts[1], parts[2])
        )  # fmt: skip
        if not _NUMBER.match(weight):
            errors.add(where, f"line {number}: weight {weight!r} is not a number")
            continue
        value: Any = raw
        if value_type == "integers":
            if not re.fullmatch(r"-?\d+", raw):
                errors.add(where, f"line {number}: {raw!r} is not an integer")
                continue
            value = int(raw)
        names.append(name)
        values.append(value)
        weights.append(float(weight) if "." in weight or "e" in weight.lower() else int(weight))
    return {"display_names": names, "values": values, "weights": weights}


def parse_editor(form: PostedForm, stored: dict[str, Any]) -> ParsedEditor:
    """The document the posted editor describes, merged over the stored one."""
    errors = FieldErrors()
    editor = CollectionEditor(
        title=form.get("title"), description=form.get("description"),
        generations=form.get("generations", "1").strip(),
    )  # fmt: skip
    stored_variables = list(stored.get("variables") or [])
    variables: list[dict[str, Any]] = []
    variable_rows: list[int] = []
    for i in _rows(form, "variables"):
        prefix = f"variables[{i}]."
        origin_text = form.get(prefix + "origin")
        row = VariableRow(
            index=i, name=form.get(prefix + "name").strip(),
            type=form.get(prefix + "type", "pick"), value_type=form.get(prefix + "value_type", "strings"),
            options=form.get(prefix + "options"),
            origin=int(origin_text) if origin_text.isdigit() else None,
        )  # fmt: skip
        if form.checked(prefix + "remove") or (not row.name and not row.options.strip()):
            continue  # removed, or the blank row left for adding one
        editor.variables.append(row)
        base: dict[str, Any] = {}
        if row.origin is not None and row.origin < len(stored_variables):
            base = dict(stored_variables[row.origin])
        value = _parse_options(row.options, row.value_type, prefix + "options", errors)
        variables.append({**base, "name": row.name, "type": row.type,
                          "value_type": row.value_type, "value": value})  # fmt: skip
        variable_rows.append(i)

    stored_steps = {s.get("id"): s for s in stored.get("steps") or [] if isinstance(s, dict)}
    steps: list[dict[str, Any]] = []
    step_rows: list[int] = []
    used_ids = {s_id for s_id in stored_steps if isinstance(s_id, int)}
    for i in _rows(form, "steps"):
        prefix = f"steps[{i}]."
        step_row = StepRow(
            index=i, id=form.get(prefix + "id").strip(), node_name=form.get(prefix + "nodeName").strip(),
            alias=form.get(prefix + "alias").strip(), skip=form.checked(prefix + "skip"),
            payload=form.get(prefix + "nodePayload", "{}"),
        )  # fmt: skip
        if form.checked(prefix + "remove") or (not step_row.node_name and not step_row.id):
            continue
        editor.steps.append(step_row)
        try:
            payload = orjson.loads(step_row.payload.strip() or "{}")
        except orjson.JSONDecodeError as exc:
            errors.add(prefix + "nodePayload", f"not JSON: {exc}")
            payload = {}
        if not isinstance(payload, dict):
            errors.add(prefix + "nodePayload", "must be a JSON object ({...})")
            payload = {}
        if step_row.id.isdigit():
            step_id = int(step_row.id)
        else:
            step_id = max([*used_ids, 0]) + 1
            step_id += step_id == VARIABLES_STEP_ID
            step_row.id = str(step_id)
        used_ids.add(step_id)
        step: dict[str, Any] = dict(stored_steps.get(step_id) or {})
        step.update(id=step_id, nodeName=step_row.node_name, nodePayload=payload)
        if step_row.skip or "skip" in step:
            step["skip"] = step_row.skip
        if step_row.alias:
            step["alias"] = step_row.alias
        else:
            step.pop("alias", None)
        steps.append(step)
        step_rows.append(i)

    generations = dict(stored.get("generations") or {"hashes": [], "use_custom_hashes": False})
    if re.fullmatch(r"\d{1,9}", editor.generations):
        generations["generations"] = int(editor.generations)
    else:
        errors.add("generations", f"{editor.generations!r} is not a whole number")
    document = {**stored, "version": stored.get("version", "v2"), "steps": steps,
                "generations": generations, "variables": variables}  # fmt: skip
    return ParsedEditor(editor, document, errors, variable_rows, step_rows)
