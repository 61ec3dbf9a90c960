"""The v2 model keeps the original format: exported documents round-trip unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from emprops.workflows import GenerationInput

from .conftest import EXAMPLE, document, step, variable

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


def test_example_round_trips(example_document: dict[str, Any]) -> None:
    model = GenerationInput.model_validate(example_document)
    assert model.model_dump(by_alias=True) == example_document
    assert model.to_document() == example_document
    from_json = GenerationInput.model_validate_json(EXAMPLE.read_text())
    assert json.loads(from_json.model_dump_json(by_alias=True)) == example_document


def test_python_names_and_format_names() -> None:
    model = GenerationInput.model_validate(document([step(5, fromId=1)]))
    assert model.steps[0].node_name == "layers"
    assert model.steps[0].node_payload == {"fromId": 1}
    assert "nodeName" in model.model_dump()["steps"][0]


def test_sparse_document_keeps_missing_keys_missing() -> None:
    sparse = {
        "version": "v2",
        "steps": [{"id": 1, "nodeName": "layers", "nodePayload": {}}],
        "generations": {"generations": 3},
    }
    assert GenerationInput.model_validate(sparse).to_document() == sparse


def test_original_test_value_of_a_step_is_kept() -> None:
    raw = step(1)
    raw["testValue"] = {"src": "https://x/y.png", "mimeType": "image/png"}
    model = GenerationInput.model_validate(document([raw]))
    assert model.model_dump(by_alias=True)["steps"][0]["testValue"] == raw["testValue"]


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["steps"][0].update(bogus=1), ("steps", 0, "bogus")),
        (lambda d: d["steps"][0].update(id="1"), ("steps", 0, "id")),
        (lambda d: d["steps"][0].update(isTest="no"), ("steps", 0, "isTest")),
        (lambda d: d.update(version="v1"), ("version",)),
        (lambda d: d["generations"].update(generations=1.5), ("generations", "generations")),
        (lambda d: d["variables"][0].update(type="random"), ("variables", 0, "type")),
    ],
)
def test_structure_is_strict(mutate: Any, where: tuple[Any, ...]) -> None:
    raw = document([step(1)], [{"name": "a", "type": "pick", "value": {"values": ["x"]}}])
    GenerationInput.model_validate(raw)
    mutate(raw)
    with pytest.raises(ValidationError) as caught:
        GenerationInput.model_validate(raw)
    assert [e["loc"][: len(where)] for e in caught.value.errors()] == [where]


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_any_json_payload_round_trips(payload: dict[str, Any]) -> None:
    raw = document([step(1)])
    raw["steps"][0]["nodePayload"] = payload
    dumped = GenerationInput.model_validate(raw).model_dump(by_alias=True)
    assert dumped == raw
    # Types survive too: an integer never comes back as a float or the other way round.
    assert json.dumps(dumped, sort_keys=True) == json.dumps(raw, sort_keys=True)


def test_variable_values_keep_their_json_types() -> None:
    raw = document(
        variables=[
            {
                "name": "n",
                "type": "weighted_pick",
                "value_type": "integers",
                "value": {"display_names": ["a", "b"], "values": [1, 2.5], "weights": [3, 0.5]},
                "lock_value": False,
                "test_value": None,
            }
        ]
    )
    value = GenerationInput.model_validate(raw).model_dump()["variables"][0]["value"]
    assert [type(v) for v in value["values"]] == [int, float]
    assert [type(w) for w in value["weights"]] == [int, float]


def test_original_variable_metadata_keys_round_trip() -> None:
    """The original editor writes is_feature, feature_name and use_display_name on variables."""
    written = {**variable("color", ["red"]),
               "is_feature": True, "feature_name": "Colour", "use_display_name": False}  # fmt: skip
    nulls = {**variable("size", [1]),
             "is_feature": False, "feature_name": None, "use_display_name": True}  # fmt: skip
    sparse = {"name": "mood", "type": "pick", "value": {"values": ["calm"]}, "is_feature": True}
    raw = document(variables=[written, nulls])
    model = GenerationInput.model_validate(raw)
    assert model.variables[0].is_feature and model.variables[0].feature_name == "Colour"
    assert model.variables[1].use_display_name is True
    assert model.to_document() == raw
    assert model.model_dump(by_alias=True) == raw
    assert json.loads(model.model_dump_json(by_alias=True)) == raw
    with_sparse = document(variables=[sparse])
    assert GenerationInput.model_validate(with_sparse).to_document() == with_sparse
    with pytest.raises(ValidationError):
        GenerationInput.model_validate(document(variables=[{**written, "is_feature": "yes"}]))
