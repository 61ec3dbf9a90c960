"""Pinning errors: each names the service, and the file or folder it was about."""

from __future__ import annotations

from emprops.core.errors import (
    ConflictError,
    EmpropsError,
    ErrorCode,
    InvalidInputError,
    UnavailableError,
)


class PinningUnavailable(UnavailableError):
    """The service could not be reached or kept failing (5xx, timeouts) after every retry."""


class PinningRateLimited(EmpropsError):
    """HTTP 429 on every retry, or a Retry-After longer than we are willing to wait."""

    code = ErrorCode.RATE_LIMITED
    http_status = 429


class PinningAuthError(EmpropsError):
    """401/403: a missing, wrong or under-privileged token."""

    code = ErrorCode.UNAUTHORIZED
    http_status = 401


class PinningRejected(InvalidInputError):
    """The service refused the request itself (4xx other than auth and 429, a Kubo command
    error): retrying the same request cannot help."""


class CidMismatchError(ConflictError):
    """The service stored our bytes under another CID: links in the metadata would break."""


class PinFailedError(ConflictError):
    """A pin request ended in the `failed` state."""


class UnsupportedUploadError(InvalidInputError):
    """The chosen service cannot do this kind of upload (e.g. a CAR to Pinata's file API)."""


class ContentChangedError(ConflictError):
    """A file or folder no longer has the CID its package recorded: uploading it would publish
    something other than what the metadata points at."""
