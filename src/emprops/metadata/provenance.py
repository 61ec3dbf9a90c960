"""Provenance: a hash committing to every token's image in token order, published before a
reveal so holders can check afterwards that nothing was swapped (the recipe BAYC made common),
and the digest of the workflow that made the collection.

Recipe (exact, so anyone can recompute it from the revealed images):
1. for each token id in ascending order, `sha256(image file bytes)` as 64 lowercase hex digits;
2. concatenate those strings with no separator;
3. `sha256` of that ASCII text, as 64 lowercase hex digits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from emprops.core.errors import InvalidInputError

_HEX64 = re.compile(r"[0-9a-f]{64}")
_READ = 1024 * 1024


def provenance_hash(image_sha256s: Sequence[str]) -> str:
    """The collection's provenance hash from its images' sha256 hex digests in token order."""
    for i, digest in enumerate(image_sha256s):
        if not _HEX64.fullmatch(digest):
            raise InvalidInputError(
                f"image sha256 #{i} is not 64 lowercase hex digits: {digest!r}",
                details={"index": i},
            )
    return hashlib.sha256("".join(image_sha256s).encode("ascii")).hexdigest()


def file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_READ):
            hasher.update(chunk)
    return hasher.hexdigest()


def workflow_digest(generation_input: Mapping[str, Any]) -> str:
    """sha256 of the GenerationInput as sorted-key compact JSON: the same digest the engine
    records for a run (`input_digest`), computed from the manifest's copy of the input."""
    return hashlib.sha256(orjson.dumps(generation_input, option=orjson.OPT_SORT_KEYS)).hexdigest()
