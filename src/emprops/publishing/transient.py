"""Which failures are worth another attempt: a service that is down or slow, not a bad request."""

from __future__ import annotations

from emprops.core.errors import EmpropsError, UnavailableError


def is_transient(error: EmpropsError) -> bool:
    return isinstance(error, UnavailableError)
