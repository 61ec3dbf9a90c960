"""Blob keys: one strict character set, so a key means the same thing on disk, S3, GCS and Azure
and can never climb out of its store (`..`, absolute paths, backslashes, hidden names)."""

from __future__ import annotations

import re
from uuid import UUID

from emprops.core.errors import InvalidInputError

MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255
# Letters, digits, `_`, `-`, `.`; a segment may not start with `.` (no `.`/`..`, no hidden files:
# the local store keeps its own bookkeeping under a dot-directory).
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_EXTENSION = re.compile(r"[a-z0-9]{1,16}")


def _segment_problem(segment: str) -> str | None:
    if not segment:
        return "has an empty segment (`//`, or a leading or trailing `/`)"
    if segment in (".", ".."):
        return f"has a `{segment}` segment"
    if len(segment) > MAX_SEGMENT_LENGTH:
        return f"has a segment longer than {MAX_SEGMENT_LENGTH} characters"
    if segment.startswith("."):
        return f"has a segment starting with `.` ({segment!r})"
    if not _SEGMENT.fullmatch(segment):
        return f"has a segment with characters outside [A-Za-z0-9_.-] ({segment!r})"
    return None


def validate_blob_path(path: str) -> str:
    """Return `path` unchanged if it is a safe relative key, else raise InvalidInputError."""
    if not isinstance(path, str) or not path:
        raise InvalidInputError("blob path is empty", details={"path": path})
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidInputError(
            f"blob path is longer than {MAX_PATH_LENGTH} characters", details={"path": path[:80]}
        )
    if path.startswith("/") or "\\" in path:
        raise InvalidInputError(
            f"blob path {path!r} must be relative and `/`-separated", details={"path": path}
        )
    for segment in path.split("/"):
        problem = _segment_problem(segment)
        if problem is not None:
            raise InvalidInputError(f"blob path {path!r} {problem}", details={"path": path})
    return path


def validate_blob_prefix(prefix: str | None) -> str:
    """A listing prefix: empty (everything) or a valid path, with an optional trailing `/`."""
    if not prefix:
        return ""
    return validate_blob_path(prefix.removesuffix("/"))


def _component(name: str, value: object) -> str:
    text = str(value)
    problem = _segment_problem(text)
    if problem is not None:
        raise InvalidInputError(
            f"generation output {name} {text!r} is not a safe path segment: it {problem}",
            details={"field": name, "value": text},
        )
    return text


def generation_output_path(
    *,
    user_id: str | UUID,
    run_id: str | UUID,
    generation_index: int,
    step_id: int | str,
    workflow_name: str,
    ext: str,
) -> str:
    """`generations/{user_id}/{run_id}/{generation_index}/{step_id}/{workflow_name}.{ext}`
    (the layout in spec/generation.md), every part checked so none can add or climb a level."""
    if isinstance(generation_index, bool) or not isinstance(generation_index, int):
        raise InvalidInputError(
            f"generation_index must be an int, got {type(generation_index).__name__}",
            details={"field": "generation_index"},
        )
    if generation_index < 0:
        raise InvalidInputError(
            f"generation_index must be >= 0, got {generation_index}",
            details={"field": "generation_index", "value": generation_index},
        )
    if isinstance(step_id, bool):
        raise InvalidInputError("step_id must be an int or a string", details={"field": "step_id"})
    extension = ext.removeprefix(".")
    if not _EXTENSION.fullmatch(extension):
        raise InvalidInputError(
            f"generation output extension {ext!r} must be 1-16 lowercase letters or digits",
            details={"field": "ext", "value": ext},
        )
    parts = [
        "generations",
        _component("user_id", user_id),
        _component("run_id", run_id),
        str(generation_index),
        _component("step_id", step_id),
        _component("workflow_name", workflow_name) + "." + extension,
    ]
    return validate_blob_path("/".join(parts))
