"""Validation reports every problem, each at its location."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emprops.core.errors import EmpropsError, ErrorCode
from emprops.workflows import (
    BUILTIN_WORKFLOWS,
    GenerationInputInvalid,
    WorkflowCatalog,
    WorkflowDefinition,
    builtin_catalog,
    parse_generation_input,
    validate_generation_input,
)

from .conftest import document, step, variable


def ref(step_id: int, path: str = ".data") -> dict[str, Any]:
    return {"$ref": step_id, "path": path}


def ten_problem_document() -> dict[str, Any]:
    return document(
        steps=[
            step(101, "txt2img-flux"),  # 1 unknown workflow
            step(102, seed_from=ref(999, ".data.seed")),  # 2 missing step
            step(103, image=ref(104, ".src")),  # 3 later step, 4 cycle 103 <-> 104
            step(104, image=ref(103, ".data[")),  # 5 bad jq path
            step(102, "animate"),  # 6 duplicate id
        ],
        variables=[
            variable("a", ["x", "y", "z"], weights=[1, 2]),  # 7 weights count
            variable("b", ["x", "y"], weights=[0, 0]),  # 8 zero-sum weights
            {
                **variable("c", ["x", "y"]),
                "value": {  # 9 display names
                    "display_names": ["X"],
                    "values": ["x", "y"],
                    "weights": [1, 1],
                },
            },
        ],
        generations={"hashes": [], "generations": 0, "use_custom_hashes": False},  # 10
    )


def test_ten_problems_are_all_reported_with_their_paths() -> None:
    result = validate_generation_input(ten_problem_document())
    assert result.warnings == []
    assert sorted(p.path for p in result.errors) == sorted(
        [
            "steps[0].nodeName",
            "steps[1].nodePayload.seed_from.$ref",
            "steps[2].nodePayload.image.$ref",
            "steps[2]",
            "steps[3].nodePayload.image.path",
            "steps[4].id",
            "variables[0].value.weights",
            "variables[1].value.weights",
            "variables[2].value.display_names",
            "generations.generations",
        ]
    )
    messages = {p.path: p.message for p in result.errors}
    assert "txt2img-flux" in messages["steps[0].nodeName"]
    assert "missing step 999" in messages["steps[1].nodePayload.seed_from.$ref"]
    assert "later" in messages["steps[2].nodePayload.image.$ref"]
    assert "103 → 104 → 103" in messages["steps[2]"]
    assert "jq" in messages["steps[3].nodePayload.image.path"]
    assert "duplicate step id 102" in messages["steps[4].id"]
    assert result.generation_input is not None  # the structure itself was fine
    assert not result.ok


def test_parse_raises_one_error_carrying_every_problem() -> None:
    with pytest.raises(GenerationInputInvalid) as caught:
        parse_generation_input(ten_problem_document())
    error = caught.value
    assert isinstance(error, EmpropsError)
    assert error.code == ErrorCode.INVALID_INPUT
    assert len(error.problems) == 10
    body = error.to_dict()["error"]
    assert body["code"] == "invalid_input"
    assert len(body["details"]["problems"]) == 10
    assert "(and 9 more)" in body["message"]


def test_valid_example(example_document: dict[str, Any], catalog: WorkflowCatalog) -> None:
    result = validate_generation_input(example_document, catalog)
    assert result.problems == []
    assert result.ok
    assert parse_generation_input(example_document, catalog).steps[1].id == 101


def test_registered_workflows_extend_the_builtins(example_document: dict[str, Any]) -> None:
    assert {w.name for w in BUILTIN_WORKFLOWS} == {"variables", "prompt", "layers", "animate"}
    unknown = validate_generation_input(example_document)
    assert [p.path for p in unknown.errors] == [
        "steps[0].nodeName",
        "steps[1].nodeName",
        "steps[2].nodeName",
    ]
    plain_mapping = {
        name: WorkflowDefinition(name=name, type="comfy_workflow", service="comfyui")
        for name in ("fetch-palette", "txt2img-flux", "ollama-caption", "layers")
    }
    assert validate_generation_input(example_document, plain_mapping).problems == []
    catalog = builtin_catalog()
    catalog.register(WorkflowDefinition(name="txt2img-flux", type="comfy_workflow"))
    assert len(validate_generation_input(example_document, catalog).errors) == 2


def test_structural_problems_are_all_reported() -> None:
    raw = document(
        steps=[
            {"id": "1", "nodeName": "layers", "nodePayload": {}},
            step(2),
            {"id": 3, "nodePayload": {}, "extra": True},
        ],
        variables=[{**variable("v", ["a"]), "test_value": [1]}, {"name": "w"}],
    )
    raw["version"] = "v3"
    raw["colour"] = "blue"
    result = validate_generation_input(raw)
    paths = sorted(p.path for p in result.errors)
    assert paths == sorted(
        [
            "colour",
            "version",
            "steps[0].id",
            "steps[2].nodeName",
            "steps[2].extra",
            "variables[0].test_value",
            "variables[1].type",
            "variables[1].value",
        ]
    )
    union = next(p for p in result.errors if p.path == "variables[0].test_value")
    assert union.message == "Input should be a string or an integer or a number"
    assert result.generation_input is None


@pytest.mark.parametrize("bad", [None, [], "v2", 3])
def test_non_object_document(bad: Any) -> None:
    result = validate_generation_input(bad)
    assert [p.path for p in result.errors] == [""]


def test_hash_problems() -> None:
    raw = document(
        generations={
            "hashes": ["0x" + "ab" * 32, "not a hash", "0x" + "ab" * 32, "0x1"],
            "generations": 4,
            "use_custom_hashes": True,
        }
    )
    result = validate_generation_input(raw)
    assert [p.path for p in result.errors] == ["generations.hashes[1]", "generations.hashes[3]"]
    assert [p.path for p in result.warnings] == ["generations.hashes[2]"]
    # Without hashes, use_custom_hashes changes nothing: N random hashes, so N must be ≥ 1.
    empty = validate_generation_input(
        document(generations={"hashes": [], "generations": 0, "use_custom_hashes": True})
    )
    assert [p.path for p in empty.errors] == ["generations.generations"]
    assert [p.path for p in empty.warnings] == ["generations.hashes"]


def test_listed_hashes_are_checked_whatever_use_custom_hashes_says() -> None:
    """The original runs listed hashes even with use_custom_hashes false, so they are vetted."""
    hashes = ["0xabc", "0x" + "cd" * 32]
    generations = {"hashes": hashes, "generations": 0, "use_custom_hashes": False}
    listed = validate_generation_input(document(generations=generations))
    assert [p.path for p in listed.errors] == ["generations.hashes[0]"]
    assert [(p.path, p.message) for p in listed.warnings] == [
        ("generations.generations", "0 generations but 2 custom hashes; the hashes win")
    ]
    one = {"hashes": hashes[1:], "generations": 1}
    assert validate_generation_input(document(generations=one)).problems == []


def test_original_ref_tags_and_variable_metadata_keys_are_valid() -> None:
    tagged = {"$ref": 953, "path": ".data.color", "tag": "vars"}
    feature = {**variable("color", ["red"]), "is_feature": True, "feature_name": "Colour",
               "use_display_name": False}  # fmt: skip
    ok = validate_generation_input(document([step(1, c=tagged)], [feature]))
    assert ok.problems == [] and ok.generation_input is not None
    assert ok.generation_input.variables[0].feature_name == "Colour"
    bad = validate_generation_input(document([step(1, c={**tagged, "tag": ["vars"]})], [feature]))
    assert [(p.path, p.message) for p in bad.errors] == [
        ("steps[0].nodePayload.c.tag", "`$ref` `tag` must be a string")
    ]


def test_lock_with_a_test_value_outside_the_values_is_a_warning() -> None:
    raw = document(
        variables=[
            variable("a", ["x", "y"], lock=True, test_value="q"),
            variable("b", ["x"], lock=True),
            variable("c", [], lock=True, test_value="forced"),
            variable("d", []),
        ]
    )
    result = validate_generation_input(raw)
    assert [(p.path, p.severity) for p in result.problems] == [
        ("variables[0].test_value", "warning"),
        ("variables[1].lock_value", "warning"),
        ("variables[2].test_value", "warning"),
        ("variables[3].value.values", "error"),
    ]


def test_weight_and_name_checks() -> None:
    raw = document(
        variables=[
            variable("w", ["x", "y"], weights=[-1, float("inf")]),
            variable("w", ["x", "y"]),
            {
                **variable("p", ["x", "y"]),
                "value": {"display_names": ["X", "Y"], "values": ["x", "y"], "weights": [1]},
            },
            variable("has space", ["x"]),
        ]
    )
    result = validate_generation_input(raw)
    assert [(p.path, p.severity) for p in result.problems] == [
        ("variables[0].value.weights[0]", "error"),
        ("variables[0].value.weights[1]", "error"),
        ("variables[1].name", "error"),
        ("variables[2].value.weights", "warning"),
        ("variables[3].name", "warning"),
    ]


def test_reference_problems_in_refs_and_prompts() -> None:
    prompt = json.dumps(
        [
            {
                "type": "paragraph",
                "children": [
                    {"type": "component", "component": {"id": 50}},
                    {"type": "component", "component": {"id": 3}},
                    {"text": " #2 and #77 are text; #3 as text is a later step too "},
                    {"type": "variable", "variable": {"name": "nope"}},
                ],
            }
        ]
    )
    raw = document(
        steps=[
            step(1, own=ref(1), fine=ref(953, ".data.v"), ghost=ref(953, ".data.ghost")),
            step(2, prompt=prompt, bad={"$ref": "1", "path": 5}, extra={**ref(1), "x": 1}),
            step(3, reserved=ref(1)),
            step(953),
        ],
        variables=[variable("v", ["a"])],
    )
    result = validate_generation_input(raw)
    got = [(p.path, p.severity, p.message) for p in result.problems]
    paths = [(path, severity) for path, severity, _ in got]
    assert paths == [
        ("steps[3].id", "error"),
        ("steps[0].nodePayload.own.$ref", "error"),
        ("steps[0].nodePayload.ghost.path", "warning"),
        ("steps[1].nodePayload.bad.$ref", "error"),
        ("steps[1].nodePayload.bad.path", "error"),
        ("steps[1].nodePayload.extra", "error"),
        ("steps[1].nodePayload.prompt", "error"),
        ("steps[1].nodePayload.prompt", "error"),
        ("steps[1].nodePayload.prompt", "error"),
        ("steps[1].nodePayload.prompt", "warning"),
    ]
    prompt_messages = [m for path, _, m in got if path == "steps[1].nodePayload.prompt"]
    assert "missing step 50" in prompt_messages[0]
    assert "step 3, which comes later" in prompt_messages[1]
    assert "step 3, which comes later" in prompt_messages[2]
    assert "$nope" in prompt_messages[3]
    assert "reserved" in got[0][2]
    assert "own step 1" in got[1][2]


def test_variables_step_is_not_declared() -> None:
    result = validate_generation_input(document([step(5, "variables")]))
    assert [p.path for p in result.errors] == ["steps[0].nodeName"]
