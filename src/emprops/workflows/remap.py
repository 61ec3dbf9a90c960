"""Copying a collection gives its steps new component ids; every reference must follow."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from emprops.core.errors import InvalidInputError
from emprops.workflows.generation_input import GenerationInput
from emprops.workflows.prompt_document import is_prompt_document, remap_prompt_components
from emprops.workflows.refs import REF_KEY


def _remap_value(value: Any, mapping: Mapping[int, int]) -> Any:
    if isinstance(value, dict):
        if REF_KEY in value:
            target = value[REF_KEY]
            if isinstance(target, int) and not isinstance(target, bool) and target in mapping:
                return {**value, REF_KEY: mapping[target]}
            return dict(value)
        return {k: _remap_value(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_remap_value(v, mapping) for v in value]
    if isinstance(value, str) and is_prompt_document(value):
        return remap_prompt_components(value, mapping)
    return value


def remap_component_ids(
    generation_input: GenerationInput, mapping: Mapping[int, int]
) -> GenerationInput:
    """Rewrite step ids, `$ref` targets and prompt-document mentions by `mapping` (old -> new).

    A remapped step records its old id in `fromId`. Ids not in the mapping are left alone.
    """
    steps = []
    for step in generation_input.steps:
        update: dict[str, Any] = {"node_payload": _remap_value(step.node_payload, mapping)}
        if step.id in mapping:
            update["id"] = mapping[step.id]
            update["from_id"] = step.id
        steps.append(step.model_copy(update=update))
    clashes = sorted(i for i, n in Counter(step.id for step in steps).items() if n > 1)
    if clashes:
        raise InvalidInputError(
            f"remapping gives more than one step the id {clashes[0]}",
            details={"ids": clashes},
        )
    return generation_input.model_copy(update={"steps": steps}, deep=True)
