"""Hashes and seeds: a generation's hash is its only source of randomness."""

from __future__ import annotations

import re
import secrets

from emprops.workflows.generation_input import GenerationsSpec
from emprops.workflows.prng import Pseudorandom

MAX_SEED = 4294967295
MAX_GENERATIONS = 100_000
# Hashes seen in the wild: ours ("0x" + 64 hex), the original's UUIDs and 51-character base-58-ish
# strings. At least 6 characters so each of the four seed chunks gets one (2 are dropped first).
HASH_PATTERN = re.compile(r"^[A-Za-z0-9_-]{6,256}$")


def generation_seed(hash_: str) -> int:
    """The seed every step of this generation receives (a fresh PRNG, first draw)."""
    return Pseudorandom(hash_).integer(1, MAX_SEED)


def random_hash() -> str:
    """A new generation hash from the OS's secure source: "0x" and 64 hex characters."""
    return "0x" + secrets.token_hex(32)


def is_well_formed_hash(value: str) -> bool:
    return HASH_PATTERN.fullmatch(value) is not None


def generation_hashes(spec: GenerationsSpec, count: int | None = None) -> list[str]:
    """A run's hashes: the document's own whenever it lists any (whatever `use_custom_hashes`
    says, as on the original platform), else `count` (or N) new ones."""
    if spec.has_custom_hashes:
        return list(spec.hashes)
    return [random_hash() for _ in range(spec.generations if count is None else count)]
