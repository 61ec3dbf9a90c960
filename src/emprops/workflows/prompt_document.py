"""Prompt documents: the rich-text value of a `prompt_editor` field.

The editor stores a JSON string of Slate-like blocks. Rendering turns variable nodes into `$name`
and component nodes into `#id`; substitution then puts in the variable values and the text
outputs of earlier steps. Component mentions are dependencies, and copying a collection rewrites
them, so both are read from the same tree walk.

Everything here is pure: a `.txt` output's text is fetched by the engine (see `text_file_urls`)
and handed in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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


def is_text_file_url(url: str) -> bool:
    """A URL whose path ends with `.txt` (any case; a query string does not count)."""
    return urlsplit(url).path.lower().endswith(".txt")


def _text_file_src(output: JsonValue) -> str | None:
    """The URL of a file output that holds text (text/plain, or a `.txt` path), else None."""
    if not isinstance(output, dict) or output.get("data") is not None:
        return None
    src, mime = output.get("src"), output.get("mimeType")
    if not isinstance(src, str):
        return None
    plain = isinstance(mime, str) and mime.split(";")[0].strip().lower() == "text/plain"
    return src if plain or is_text_file_url(src) else None


def step_output_text(output: JsonValue, fetched: Mapping[str, str] | None = None) -> str | None:
    """The text a `#id` becomes, or None when the output is not text (`#id` is then left as
    written, as on the original platform).

    Text is the data of a data output when it is a string or number, or the content of a text
    file output, looked up by its URL in `fetched` (None until the engine has fetched it). An
    image's URL, a JSON object or a boolean is not text.
    """
    if isinstance(output, dict):
        data = output.get("data")
        if data is not None:
            return _number_or_string_text(data)
        src = _text_file_src(output)
        return None if src is None or fetched is None else fetched.get(src)
    return _number_or_string_text(output)


def _number_or_string_text(value: JsonValue) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return scalar_text(value)


def text_file_urls(outputs: Mapping[int, JsonValue]) -> set[str]:
    """The URLs of the text file outputs among `outputs` (by step id): what the engine must fetch
    (as UTF-8 text) and pass to `step_texts` as `fetched` before filling in `#id`s."""
    return {src for output in outputs.values() if (src := _text_file_src(output)) is not None}


def step_texts(
    outputs: Mapping[int, JsonValue], fetched: Mapping[str, str] | None = None
) -> dict[int, str]:
    """What each `#id` becomes, by step id: only steps with a text output are present.

    `fetched` maps each URL of `text_file_urls(outputs)` to its text; a text file whose URL is
    missing from it is left out, so its `#id` stays as written.
    """
    texts: dict[int, str] = {}
    for step_id, output in outputs.items():
        if (value := step_output_text(output, fetched)) is not None:
            texts[step_id] = value
    return texts


def _literally(replacement: str) -> Callable[[re.Match[str]], str]:
    """A `re.sub` replacement that inserts the text as is (no backslash or group escapes)."""
    return lambda _match: replacement


def _unused_character(texts: Iterable[str]) -> str:
    """A private-use character none of `texts` holds ("" in the unlikely case all are used)."""
    joined = "".join(texts)
    return next((chr(c) for c in range(0xE000, 0xF900) if chr(c) not in joined), "")


def substitute_prompt(
    text: str, variables: Mapping[str, JsonValue], step_texts: Mapping[int, str | None]
) -> str:
    """Replace `$name` (whole word) variable by variable, then `#id`, as the original platform did.

    Variables go in their mapping's (declaration) order, each over the whole text so far, so a
    value holding `$other` is expanded in turn when `other` comes later, and one holding `#id`
    gets that step's text. `#id`s are then filled in one pass: a step's text is not rescanned.
    Unknown names, and ids without a text (missing or None), stay as written: a `$` or `#` in a
    prompt may be plain text.

    While substituting, each inserted value is fenced by a character found nowhere else, so it
    never joins the text beside it into another word: `#1` then a value "0" is still step 1.
    """
    values = {name: scalar_text(value) for name, value in variables.items()}
    known = [t for t in step_texts.values() if t is not None]
    fence = _unused_character([text, *values, *values.values(), *known])
    for name, value in values.items():
        pattern = re.compile(r"\$" + re.escape(name) + _WORD_TAIL)
        text = pattern.sub(_literally(fence + value + fence), text)

    def replace_step(match: re.Match[str]) -> str:
        found = step_texts.get(int(match.group(1)))
        return match.group(0) if found is None else found

    text = _TEXT_COMPONENT.sub(replace_step, text)
    return text.replace(fence, "") if fence else text


def render_prompt(
    value: str | PromptNodes,
    variables: Mapping[str, JsonValue],
    step_texts: Mapping[int, str | None],
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
    payload: JsonValue, variables: Mapping[str, JsonValue], step_texts: Mapping[int, str | None]
) -> JsonValue:
    """A copy of a payload with every prompt document rendered and filled in.

    `variables` are the values prompts receive (`.txt` URLs already inlined, see
    `inline_variable_texts`); `step_texts` is `step_texts(outputs, fetched)` (a None text leaves
    its `#id` as written).
    """
    if isinstance(payload, dict):
        return {k: render_prompt_fields(v, variables, step_texts) for k, v in payload.items()}
    if isinstance(payload, list):
        return [render_prompt_fields(v, variables, step_texts) for v in payload]
    if isinstance(payload, str) and is_prompt_document(payload):
        return render_prompt(payload, variables, step_texts)
    return payload
