"""Prompt documents: the rich-text value of a `prompt_editor` field.

The editor stores a JSON string of Slate-like blocks. Rendering turns variable nodes into `$name`
and component nodes into `#id`; substitution then puts in the variable values and the text
outputs of earlier steps. Component mentions are dependencies, and copying a collection rewrites
them, so both are read from the same tree walk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from emprops.workflows.errors import PromptDocumentError

_TEXT_COMPONENT = re.compile(r"#(\d+)(?![A-Za-z0-9_])")
_WORD_TAIL = r"(?![A-Za-z0-9_])"

PromptNodes = list[Any]


@dataclass(frozen=True)
class ComponentMention:
    """A step a prompt document mentions: by a component node, or as `#id` typed in the text."""

    step_id: int
    in_text: bool


def is_prompt_document(value: str) -> bool:
    """Cheap recognition of a prompt document among a payload's strings: a JSON list of blocks."""
    if not value.lstrip().startswith("["):
        return False
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return (
        isinstance(parsed, list)
        and len(parsed) > 0
        and all(isinstance(b, dict) and isinstance(b.get("children"), list) for b in parsed)
    )


def parse_prompt_document(value: str | PromptNodes) -> PromptNodes:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise PromptDocumentError(f"prompt document is not JSON: {exc}") from exc
    if not isinstance(parsed, list):
        raise PromptDocumentError("prompt document must be a JSON list of blocks")
    return parsed


def _component_id(node: Mapping[str, Any]) -> int | None:
    component = node.get("component")
    raw = component.get("id") if isinstance(component, dict) else None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return None


def _variable_name(node: Mapping[str, Any]) -> str | None:
    variable = node.get("variable")
    name = variable.get("name") if isinstance(variable, dict) else None
    return name if isinstance(name, str) else None


def _render_node(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "variable":
        name = _variable_name(node)
        return f"${name}" if name is not None else ""
    if kind == "component":
        step_id = _component_id(node)
        return f"#{step_id}" if step_id is not None else ""
    if isinstance(node.get("text"), str):
        return str(node["text"])
    children = node.get("children")
    if isinstance(children, list):
        return "".join(_render_node(child) for child in children)
    return ""


def render_prompt_document(value: str | PromptNodes) -> str:
    """Blocks joined by newlines; variables as `$name`, components as `#id`."""
    return "\n".join(_render_node(block) for block in parse_prompt_document(value))


def _walk(nodes: Any) -> Iterator[dict[str, Any]]:
    if isinstance(nodes, list):
        for node in nodes:
            yield from _walk(node)
    elif isinstance(nodes, dict):
        yield nodes
        children = nodes.get("children")
        if isinstance(children, list):
            yield from _walk(children)


def prompt_variable_names(value: str | PromptNodes) -> list[str]:
    """Variables named by variable nodes, in document order (repeats kept once)."""
    names: dict[str, None] = {}
    for node in _walk(parse_prompt_document(value)):
        if node.get("type") == "variable" and (name := _variable_name(node)) is not None:
            names.setdefault(name, None)
    return list(names)


def prompt_component_mentions(value: str | PromptNodes) -> list[ComponentMention]:
    """Every step the document mentions, in document order (what substitution would fill in)."""
    mentions: list[ComponentMention] = []
    for node in _walk(parse_prompt_document(value)):
        if node.get("type") == "component":
            if (step_id := _component_id(node)) is not None:
                mentions.append(ComponentMention(step_id, in_text=False))
        elif node.get("type") != "variable" and isinstance(node.get("text"), str):
            for match in _TEXT_COMPONENT.finditer(node["text"]):
                mentions.append(ComponentMention(int(match.group(1)), in_text=True))
    return mentions


def scalar_text(value: JsonValue) -> str:
    """How a value reads in a prompt: strings as is, whole floats without `.0`, else JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def step_output_text(output: JsonValue) -> str:
    """The text a `#id` becomes: the data of a data output, the URL of a file output."""
    if isinstance(output, dict):
        if "data" in output and output["data"] is not None:
            return scalar_text(output["data"])
        if isinstance(output.get("src"), str):
            return str(output["src"])
    return scalar_text(output)


def substitute_prompt(
    text: str, variables: Mapping[str, JsonValue], step_texts: Mapping[int, str]
) -> str:
    """Replace `$name` (whole word) and `#id` in one pass, so inserted text is never rescanned.

    Unknown names and ids stay as written: a `$` or `#` in a prompt may be plain text.
    """
    names = sorted(variables, key=len, reverse=True)
    alternatives = [rf"#(?P<id>\d+){_WORD_TAIL}"]
    if names:
        alternatives.insert(0, r"\$(?P<name>" + "|".join(map(re.escape, names)) + ")" + _WORD_TAIL)
    pattern = re.compile("|".join(alternatives))

    def replace(match: re.Match[str]) -> str:
        name = match.groupdict().get("name")
        if name is not None:
            return scalar_text(variables[name])
        step_id = int(match.group("id"))
        return step_texts.get(step_id, match.group(0))

    return pattern.sub(replace, text)


def render_prompt(
    value: str | PromptNodes, variables: Mapping[str, JsonValue], step_texts: Mapping[int, str]
) -> str:
    """Render a prompt document and fill it in: what the workflow finally receives."""
    return substitute_prompt(render_prompt_document(value), variables, step_texts)


def _rewrite(nodes: PromptNodes, rewrite_id: Callable[[int], int | None]) -> bool:
    changed = False
    for node in _walk(nodes):
        if node.get("type") == "component":
            old = _component_id(node)
            new = rewrite_id(old) if old is not None else None
            if new is not None and new != old:
                raw = node["component"]["id"]
                node["component"]["id"] = str(new) if isinstance(raw, str) else new
                changed = True
        elif node.get("type") != "variable" and isinstance(node.get("text"), str):

            def swap(match: re.Match[str]) -> str:
                new = rewrite_id(int(match.group(1)))
                return match.group(0) if new is None else f"#{new}"

            text = _TEXT_COMPONENT.sub(swap, node["text"])
            if text != node["text"]:
                node["text"] = text
                changed = True
    return changed


def remap_prompt_components(value: str, mapping: Mapping[int, int]) -> str:
    """Rewrite component ids per `mapping` (others are kept); unchanged text comes back as is."""
    nodes = parse_prompt_document(value)
    if not _rewrite(nodes, mapping.get):
        return value
    return json.dumps(nodes, separators=(",", ":"), ensure_ascii=False)


def render_prompt_fields(
    payload: JsonValue, variables: Mapping[str, JsonValue], step_texts: Mapping[int, str]
) -> JsonValue:
    """A copy of a payload with every prompt document rendered and filled in."""
    if isinstance(payload, dict):
        return {k: render_prompt_fields(v, variables, step_texts) for k, v in payload.items()}
    if isinstance(payload, list):
        return [render_prompt_fields(v, variables, step_texts) for v in payload]
    if isinstance(payload, str) and is_prompt_document(payload):
        return render_prompt(payload, variables, step_texts)
    return payload
