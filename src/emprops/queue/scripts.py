"""Loads the Lua scripts beside this file, each prefixed with the shared fragments it uses."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources


class ScriptName(StrEnum):
    SUBMIT = "submit"
    CLAIM = "claim"
    PROGRESS = "progress"
    HEARTBEAT = "heartbeat"
    COMPLETE = "complete"
    FAIL = "fail"
    RELEASE = "release"
    CANCEL = "cancel"
    PROMOTE_DELAYED = "promote_delayed"
    REQUEUE_EXPIRED = "requeue_expired"
    RETRY_DEAD = "retry_dead"
    FIND_UNWORKABLE = "find_unworkable"


_USES_MATCHER = {ScriptName.CLAIM, ScriptName.FIND_UNWORKABLE}


def _read(name: str) -> str:
    return resources.files("emprops.queue").joinpath("lua", f"{name}.lua").read_text()


@cache
def script_source(name: ScriptName) -> str:
    parts = [_read("common")]
    if name in _USES_MATCHER:
        parts.append(_read("match"))
    parts.append(_read(name.value))
    return "\n".join(parts)
