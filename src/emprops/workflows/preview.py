"""What each generation would receive (hash, seed, variables) without running anything."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from emprops.workflows.generation_input import GenerationInput, VariableScalar
from emprops.workflows.seeding import generation_seed
from emprops.workflows.variables import resolve_variables


class GenerationPreview(BaseModel):
    index: int
    hash: str
    seed: int
    variables: dict[str, VariableScalar]


def preview_generations(
    generation_input: GenerationInput, hashes: Sequence[str]
) -> list[GenerationPreview]:
    return [
        GenerationPreview(
            index=index,
            hash=hash_,
            seed=generation_seed(hash_),
            variables=resolve_variables(generation_input.variables, hash_),
        )
        for index, hash_ in enumerate(hashes)
    ]
