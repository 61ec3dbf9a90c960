"""Broker errors, in the project's one error family."""

from __future__ import annotations

from emprops.core.errors import ConflictError, EmpropsError, ErrorCode, InvalidInputError


class LeaseLostError(EmpropsError):
    """The caller no longer holds the job (cancelled, reaped, or claimed again by another worker)."""

    code = ErrorCode.LEASE_LOST
    http_status = 409


class DuplicateJobError(ConflictError):
    """The id exists with a different job; the same job twice is fine (idempotent submit)."""


class UnknownServiceError(InvalidInputError):
    code = ErrorCode.UNKNOWN_SERVICE
