"""Authentication and authorization errors."""

from __future__ import annotations

from emprops.core.errors import EmpropsError, ErrorCode


class UnauthorizedError(EmpropsError):
    code = ErrorCode.UNAUTHORIZED
    http_status = 401


class ForbiddenError(EmpropsError):
    code = ErrorCode.FORBIDDEN
    http_status = 403


class SessionReplayError(UnauthorizedError):
    """A spent refresh token came back: its family is revoked, and that must be committed."""

    keep_changes = True
