"""Errors of packaging a collection run."""

from __future__ import annotations

from emprops.core.errors import InvalidInputError


class PackageError(InvalidInputError):
    """A run that cannot be packaged as it is (unfinished tokens, missing manifest, bad package)."""
