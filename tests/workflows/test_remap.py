"""Copying a collection: new step ids, and every reference follows them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emprops.core.errors import InvalidInputError
from emprops.workflows import (
    VARIABLES_STEP_ID,
    GenerationInput,
    WorkflowCatalog,
    dependency_order,
    find_refs,
    prompt_component_mentions,
    remap_component_ids,
    validate_generation_input,
)


def test_remap_example_rewrites_ids_refs_and_prompts(
    example_document: dict[str, Any], catalog: WorkflowCatalog
) -> None:
    original = GenerationInput.model_validate(example_document)
    mapping = {100: 9100, 101: 9101, 102: 9102, 103: 9103}
    copied = remap_component_ids(original, mapping)

    assert [s.id for s in copied.steps] == [9100, 9101, 9102, 9103]
    assert [s.from_id for s in copied.steps] == [100, 101, 102, 103]
    for step in copied.steps:
        for ref in find_refs(step.node_payload):
            assert ref.step_id in {*mapping.values(), VARIABLES_STEP_ID}
    portrait = copied.steps[1].node_payload
    assert portrait["seed_from"] == {"$ref": VARIABLES_STEP_ID, "path": ".data.rarity"}
    assert isinstance(portrait["prompt"], str)
    assert [m.step_id for m in prompt_component_mentions(portrait["prompt"])] == [9100]
    # Same structure and meaning: same order, still valid, and the original is untouched.
    assert dependency_order(copied) == [VARIABLES_STEP_ID, 9100, 9101, 9102, 9103]
    assert validate_generation_input(copied.to_document(), catalog).problems == []
    assert original.model_dump(by_alias=True) == example_document


def test_remap_back_restores_everything_but_from_id(example_document: dict[str, Any]) -> None:
    original = GenerationInput.model_validate(example_document)
    forward = {100: 1, 101: 2, 102: 3, 103: 4}
    back = remap_component_ids(
        remap_component_ids(original, forward), {v: k for k, v in forward.items()}
    )
    restored = back.model_dump(by_alias=True)
    for step in restored["steps"]:
        step["fromId"] = None
    expected = json.loads(json.dumps(example_document))
    for step in expected["steps"]:
        step["fromId"] = None
    # Prompt strings are re-serialized compactly; compare them as JSON.
    for got, want in zip(restored["steps"], expected["steps"], strict=True):
        for key in ("prompt",):
            if key in want["nodePayload"]:
                got["nodePayload"][key] = json.loads(got["nodePayload"][key])
                want["nodePayload"][key] = json.loads(want["nodePayload"][key])
    assert restored == expected


def test_partial_mapping_and_clashes(example_document: dict[str, Any]) -> None:
    original = GenerationInput.model_validate(example_document)
    partial = remap_component_ids(original, {103: 777})
    assert [s.id for s in partial.steps] == [100, 101, 102, 777]
    assert partial.steps[0].from_id == 12  # untouched steps keep their fromId
    with pytest.raises(InvalidInputError) as clash:
        remap_component_ids(original, {100: 101})
    assert "101" in clash.value.message
