"""How often each trait value occurs over the collection: what creators check before minting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel

from emprops.metadata.token_metadata import Attribute


class TraitRarity(BaseModel):
    count: int
    percent: float  # of all tokens, 2 decimals


def trait_rarity(tokens: Sequence[Sequence[Attribute]]) -> dict[str, dict[str, TraitRarity]]:
    """trait type -> value -> count. Trait types in order of first appearance; values by count
    (rarest last), then by value, so the report reads the same every time."""
    counts: dict[str, Counter[str]] = {}
    for attributes in tokens:
        for attribute in attributes:
            counts.setdefault(attribute.trait_type, Counter())[str(attribute.value)] += 1
    total = len(tokens) or 1
    return {
        trait: {
            value: TraitRarity(count=n, percent=round(100 * n / total, 2))
            for value, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        }
        for trait, counter in counts.items()
    }
