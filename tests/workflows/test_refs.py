"""`$ref` discovery, run order and substitution through jq."""

from __future__ import annotations

from typing import Any

import pytest

from emprops.workflows import (
    VARIABLES_STEP_ID,
    GenerationInput,
    GenerationInputInvalid,
    RefResolutionError,
    WorkflowStep,
    dependency_order,
    find_refs,
    resolve_refs,
    resolve_step_payload,
    step_dependencies,
)
from emprops.workflows.refs import scan_payload

from .conftest import document, step


def ref(step_id: int, path: str = ".data") -> dict[str, Any]:
    return {"$ref": step_id, "path": path}


def _input(*steps: dict[str, Any]) -> GenerationInput:
    return GenerationInput.model_validate(document(list(steps)))


def test_find_refs_at_any_depth_in_document_order() -> None:
    payload = {
        "a": ref(1, ".src"),
        "b": [{"c": ref(2, ".data.x")}, "plain", {"$ref": 3, "path": ".data[0]"}],
        "d": {"e": {"f": ref(VARIABLES_STEP_ID, ".data.bg")}},
    }
    found = [(r.step_id, r.path, r.location) for r in find_refs(payload)]
    assert found == [
        (1, ".src", ("a",)),
        (2, ".data.x", ("b", 0, "c")),
        (3, ".data[0]", ("b", 2)),
        (VARIABLES_STEP_ID, ".data.bg", ("d", "e", "f")),
    ]


def test_dependency_order_is_declaration_order_for_backward_refs() -> None:
    steps = _input(step(10), step(20, x=ref(10)), step(30, y=ref(10), z=ref(20)))
    assert dependency_order(steps) == [VARIABLES_STEP_ID, 10, 20, 30]


def test_dependency_order_runs_a_referenced_later_step_first() -> None:
    steps = _input(step(10, x=ref(30)), step(20), step(30, y=ref(VARIABLES_STEP_ID)))
    assert dependency_order(steps) == [VARIABLES_STEP_ID, 20, 30, 10]


def test_dependency_order_counts_prompt_mentions() -> None:
    prompt = '[{"type":"p","children":[{"type":"component","component":{"id":30}}]}]'
    steps = _input(step(10, prompt=prompt), step(30))
    assert dependency_order(steps) == [VARIABLES_STEP_ID, 30, 10]
    assert step_dependencies(steps.steps[0], {10, 30}) == {30}


def test_dependency_order_rejects_cycles_and_missing_steps() -> None:
    with pytest.raises(GenerationInputInvalid) as cycle:
        dependency_order(_input(step(1, a=ref(2)), step(2, b=ref(3)), step(3, c=ref(1)), step(4)))
    assert "cycle" in cycle.value.problems[0].message
    assert "[1, 2, 3]" in cycle.value.problems[0].message
    with pytest.raises(GenerationInputInvalid) as missing:
        dependency_order(_input(step(1, a=ref(99))))
    assert missing.value.problems[0].path == "steps[0]"
    assert "99" in missing.value.problems[0].message


def test_resolve_refs_applies_jq_to_the_target_output() -> None:
    outputs = {
        VARIABLES_STEP_ID: {"data": {"bg": "gold", "n": 3}},
        101: {"src": "file:///out/101.png", "mimeType": "image/png"},
        102: {"data": {"colors": ["#fff", "#000"]}, "mimeType": None},
    }
    payload = {
        "image": ref(101, ".src"),
        "nested": [{"bg": ref(VARIABLES_STEP_ID, ".data.bg")}, 7],
        "first": ref(102, ".data.colors[0]"),
        "all": ref(102, ".data.colors[]"),
        "none": ref(102, "empty"),
        "count": ref(VARIABLES_STEP_ID, ".data.n * 2"),
        "kept": {"path": "not a ref"},
    }
    assert resolve_refs(payload, outputs) == {
        "image": "file:///out/101.png",
        "nested": [{"bg": "gold"}, 7],
        "first": "#fff",
        "all": ["#fff", "#000"],
        "none": None,
        "count": 6,
        "kept": {"path": "not a ref"},
    }
    assert payload["image"] == ref(101, ".src")  # the input is not modified


def test_resolve_errors_name_the_step_and_key() -> None:
    target = WorkflowStep.model_validate(step(5, deep={"list": [ref(4, ".data")]}))
    with pytest.raises(RefResolutionError) as missing:
        resolve_step_payload(target, {})
    assert "step 5" in missing.value.message
    assert "nodePayload.deep.list[0]" in missing.value.message
    assert "no output yet from step 4" in missing.value.message
    with pytest.raises(RefResolutionError) as failing:
        resolve_step_payload(
            target.model_copy(update={"node_payload": {"k": ref(4, 'error("boom")')}}), {4: {}}
        )
    assert "nodePayload.k" in failing.value.message
    assert "boom" in failing.value.message


def test_a_tag_is_accepted_and_does_not_change_the_value() -> None:
    """The original editor writes `{"$ref": 953, "path": ..., "tag": "vars"}`."""
    tagged = {"$ref": VARIABLES_STEP_ID, "path": ".data.color", "tag": "vars"}
    found = scan_payload({"c": tagged, "bad": {**tagged, "tag": 3}})
    assert [(r.step_id, r.path, r.tag) for r in found.refs] == [
        (VARIABLES_STEP_ID, ".data.color", "vars")
    ]
    assert [(m.location, m.message) for m in found.malformed] == [
        (("bad", "tag"), "`$ref` `tag` must be a string")
    ]
    outputs = {VARIABLES_STEP_ID: {"data": {"color": "teal"}}}
    assert resolve_refs({"c": tagged}, outputs) == {"c": "teal"}
    target = WorkflowStep.model_validate(step(5, c=tagged))
    assert resolve_step_payload(target, outputs) == {"c": "teal"}
