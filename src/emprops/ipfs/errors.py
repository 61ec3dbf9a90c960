"""Errors of the content-addressing domain, inside the one EmpropsError family."""

from __future__ import annotations

from emprops.core.errors import InvalidInputError


class MalformedBlockError(InvalidInputError):
    """Bytes that claim to be a varint, dag-pb node, UnixFS message, CID or CAR but are not."""


class InvalidCidError(InvalidInputError):
    """A CID string or byte form we cannot parse."""


class UnsupportedInputError(InvalidInputError):
    """A path or tree entry the importer cannot turn into UnixFS (a socket, a bad name, ...)."""
