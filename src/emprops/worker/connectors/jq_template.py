"""`{{ jq }}` placeholders in request templates (URL, headers, query, JSON body).

A string that is exactly one placeholder becomes the expression's value with its JSON type
(`"count": "{{ .count }}"` gives a number); placeholders inside a longer string are replaced by
their text (strings as they are, other values as JSON), percent-encoded where the caller asks
(URL paths). An expression may not contain `}}`: write `} }`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _whole(text: str) -> str | None:
    match = PLACEHOLDER.fullmatch(text.strip())
    if match is None or "{{" in match.group(1):
        return None
    return match.group(1).strip()


def find_expressions(template: Any) -> list[str]:
    """Every placeholder expression in a template, in order, without repeats."""
    found: dict[str, None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            for match in PLACEHOLDER.finditer(value):
                found.setdefault(match.group(1).strip(), None)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(template)
    return list(found)


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render(template: Any, values: Mapping[str, Any], *, encode: bool = False) -> Any:
    """The template with each placeholder replaced by `values[expression]`."""
    escape: Callable[[str], str] = (lambda s: quote(s, safe="")) if encode else (lambda s: s)

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            whole = _whole(value)
            if whole is not None:
                return values[whole]
            return PLACEHOLDER.sub(lambda m: escape(as_text(values[m.group(1).strip()])), value)
        if isinstance(value, Mapping):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return fill(template)
