"""One rule for tests that need something the machine may lack (Node.js, Chromium): skip with the
reason, unless `EMPROPS_TEST_STRICT=1` (CI sets it), where the skip is a failure instead, so a
missing install step cannot hide behind a green run."""

from __future__ import annotations

import os

import pytest

STRICT_ENV = "EMPROPS_TEST_STRICT"


def strict() -> bool:
    return os.environ.get(STRICT_ENV) == "1"


def need(condition: object, reason: str) -> None:
    """Carry on when `condition` holds; otherwise skip (or, strict, fail) saying `reason`."""
    if condition:
        return
    if strict():
        pytest.fail(f"{reason} ({STRICT_ENV}=1 makes this skip a failure)", pytrace=False)
    # Reported at the test, not at this line (as a skip mark would be).
    raise pytest.skip.Exception(reason, _use_item_location=True)
