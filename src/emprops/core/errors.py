"""One exception family with machine-readable codes; the API maps it to a single JSON error shape."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNKNOWN_SERVICE = "unknown_service"
    LEASE_LOST = "lease_lost"
    UNAVAILABLE = "unavailable"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    PAYMENT_REQUIRED = "payment_required"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"


class EmpropsError(Exception):
    """Base of every error we raise on purpose: a code, a message a person can act on, details."""

    code: ErrorCode = ErrorCode.INTERNAL
    http_status: int = 500
    # Set on errors whose request must still commit what it changed (e.g. revoking a session
    # family when a spent refresh token is replayed): the unit of work commits, then re-raises.
    keep_changes: bool = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": str(self.code), "message": self.message, "details": self.details}}


class InvalidInputError(EmpropsError):
    code = ErrorCode.INVALID_INPUT
    http_status = 422


class NotFoundError(EmpropsError):
    code = ErrorCode.NOT_FOUND
    http_status = 404


class ConflictError(EmpropsError):
    code = ErrorCode.CONFLICT
    http_status = 409


class UnavailableError(EmpropsError):
    code = ErrorCode.UNAVAILABLE
    http_status = 503
