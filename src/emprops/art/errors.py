"""Errors of the renderers: every one names the file, layer or rule that was wrong."""

from __future__ import annotations

from emprops.core.errors import InvalidInputError


class ArtInputError(InvalidInputError):
    """A renderer input that cannot work: a bad file name, a file that is not an image, a size
    that does not match, a config that does not validate."""


class TraitSpaceExhausted(InvalidInputError):
    """The layers cannot give every token a distinct trait combination (or the exact counts the
    weights ask for): raised instead of making fewer tokens than asked."""
