"""A component version's digest: what a run pins and every output's provenance names."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def component_digest(definition: dict[str, Any]) -> str:
    """sha256 of the definition's canonical JSON (sorted keys): the same definition, the same
    digest, on any machine; any change to form, template or cost, another one."""
    return hashlib.sha256(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)).hexdigest()
