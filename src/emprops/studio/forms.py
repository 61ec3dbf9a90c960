"""Reading posted forms and putting every error next to the field it is about.

Forms are validated by the API's own pydantic schemas and services; this module only turns the
form's text into their input, and their errors (pydantic's `loc`, a service's
`details.problems[].path|location` or `details.field`) back into form field names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import ValidationError

from emprops.core.errors import EmpropsError, InvalidInputError
from emprops.studio.session import CSRF_FIELD, check_csrf

FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass
class PostedForm:
    """A urlencoded form body: first value by name, every value, and the names in order."""

    pairs: list[tuple[str, str]]

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def optional(self, name: str) -> str | None:
        """The trimmed value, or None when it is blank or missing."""
        value = self.get(name).strip()
        return value or None

    def checked(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)

    def names(self) -> list[str]:
        return list(dict.fromkeys(key for key, _ in self.pairs))

    def as_dict(self) -> dict[str, str]:
        return {key: value for key, value in reversed(self.pairs)}


async def read_form(request: Request) -> PostedForm:
    """The posted form, after the CSRF check (the body size is capped by the API middleware)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != FORM_TYPE:
        raise InvalidInputError(f"expected a form ({FORM_TYPE}), got {content_type or 'nothing'}")
    body = (await request.body()).decode("utf-8", errors="replace")
    form = PostedForm(parse_qsl(body, keep_blank_values=True, max_num_fields=5000))
    check_csrf(request, form.get(CSRF_FIELD) or None)
    return form


@dataclass
class FieldErrors:
    """Messages by form field; `general` holds the ones no field owns."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str | None, message: str) -> None:
        if name is None:
            self.general.append(message)
        else:
            self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    def for_field(self, name: str) -> list[str]:
        return self.by_field.get(name, [])


FieldOf = Callable[[str], str | None]


def _location(loc: Iterable[Any], union_tags: Iterable[str] = ()) -> str:
    tags = set(union_tags)
    parts: list[str] = []
    for part in loc:
        if part in tags or part == "body":
            continue
        parts.append(f"[{part}]" if isinstance(part, int) else ("." if parts else "") + str(part))
    return "".join(parts)


def add_validation_errors(
    errors: FieldErrors,
    exc: ValidationError,
    field_of: FieldOf,
    union_tags: Iterable[str] = (),
) -> None:
    """Pydantic's errors, each under the field its location names."""
    tags = list(union_tags)
    for error in exc.errors():
        where = _location(error["loc"], tags)
        message = str(error["msg"]).removeprefix("Value error, ")
        errors.add(field_of(where), message)


def add_api_error(errors: FieldErrors, exc: EmpropsError, field_of: FieldOf) -> None:
    """A service's error: every listed problem under its field, else the message."""
    add_error_body(errors, exc.message, exc.details, field_of)


def add_error_body(
    errors: FieldErrors, message: str, details: dict[str, Any], field_of: FieldOf
) -> None:
    """The API's error shape (`message`, `details`), from a raised error or a JSON body."""
    problems = details.get("problems")
    if isinstance(problems, list) and problems:
        for problem in problems:
            if not isinstance(problem, dict) or problem.get("severity") == "warning":
                continue
            where = str(problem.get("path") or problem.get("location") or "")
            text = str(problem.get("message", "invalid"))
            name = field_of(where)
            errors.add(name, f"{where}: {text}" if where and name != where else text)
        if errors:
            return
    named = details.get("field")
    errors.add(field_of(str(named)) if isinstance(named, str) else None, message)


def same_name(known: Iterable[str]) -> FieldOf:
    """Map a location to the form field of the same name (or its first part), if the form has it."""
    names = set(known)

    def field_of(where: str) -> str | None:
        if where in names:
            return where
        head = re.split(r"[.\[]", where, maxsplit=1)[0]
        return head if head in names else None

    return field_of
