"""Where in a GenerationInput something is, written as people read it: `steps[2].nodePayload.a`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

Location = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def format_location(parts: Sequence[str | int]) -> str:
    """Join keys with dots and list indexes in brackets; odd keys are quoted in brackets."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)
