"""Traits from renderer picks and variables; rarity over a collection."""

from __future__ import annotations

from emprops.metadata import (
    Attribute,
    attributes_from_output,
    attributes_from_variables,
    merge_attributes,
    trait_rarity,
)
from emprops.workflows import Variable, resolve_variables
from tests.packaging.run_fixture import generation_input


def test_variables_show_display_names() -> None:
    gi = generation_input(4)
    for hash_ in gi.generations.hashes:
        values = resolve_variables(gi.variables, hash_)
        attributes = attributes_from_variables(values, gi.variables)
        names = {"blue": "Blue", "gold": "Gold", "green": "Green"}
        assert attributes == [
            Attribute(trait_type="background", value=names[str(values["background"])]),
            Attribute(trait_type="size", value=values["size"]),  # no display names: the value
        ]
    only = attributes_from_variables({"background": "gold"}, gi.variables, include=["size"])
    assert only == []


def test_original_feature_keys_choose_and_name_the_attributes() -> None:
    """The original's is_feature / feature_name / use_display_name decide the attributes."""
    choices = {"display_names": ["Ocean Blue", "Gold"], "values": ["blue", "gold"]}

    def var(name: str, **keys: object) -> Variable:
        return Variable.model_validate({"name": name, "type": "pick", "value": choices, **keys})

    values = {"bg": "blue", "frame": "gold", "mood": "gold"}
    declared = [
        var("bg", is_feature=True, feature_name="Background", use_display_name=True),
        var("frame", is_feature=True, feature_name=None, use_display_name=False),
        var("mood", is_feature=False, feature_name="Mood", use_display_name=True),
    ]
    assert attributes_from_variables(values, declared) == [
        Attribute(trait_type="Background", value="Ocean Blue"),
        Attribute(trait_type="frame", value="gold"),  # raw value, variable name
    ]
    assert attributes_from_variables(values, declared, include=["frame"]) == [
        Attribute(trait_type="frame", value="gold")
    ]
    # No feature at all: every variable, as before; use_display_name still applies.
    plain = [var("bg", use_display_name=False), var("frame"), var("mood", feature_name="Mood")]
    assert attributes_from_variables(values, plain) == [
        Attribute(trait_type="bg", value="blue"),
        Attribute(trait_type="frame", value="Gold"),
        Attribute(trait_type="Mood", value="Gold"),
    ]


def test_renderer_output_attributes_and_traits() -> None:
    output = {"attributes": [{"trait_type": "Body", "value": "Tan"},
                             {"trait_type": "Level", "value": 3, "display_type": "number"}]}  # fmt: skip
    attributes, problems = attributes_from_output(output, 4, "steps.101.output")
    assert problems == [] and [a.trait_type for a in attributes] == ["Body", "Level"]
    attributes, problems = attributes_from_output(
        {"traits": {"Eyes": "Laser", "Hat": True}}, 4, "o"
    )
    assert attributes == [Attribute(trait_type="Eyes", value="Laser"),
                          Attribute(trait_type="Hat", value="true")]  # fmt: skip
    _, problems = attributes_from_output({"attributes": [{"value": 1}, "x"]}, 4, "steps.7.output")
    assert [(p.token, p.field) for p in problems] == [
        (4, "steps.7.output.attributes[0]"), (4, "steps.7.output.attributes[1]")]  # fmt: skip
    _, problems = attributes_from_output({"traits": {"Eyes": ["a"]}}, 2, "o")
    assert problems[0].field == "o.traits.Eyes"


def test_renderer_wins_over_variables() -> None:
    picked = [Attribute(trait_type="background", value="Ocean")]
    variables = [Attribute(trait_type="background", value="Blue"),
                 Attribute(trait_type="size", value=2)]  # fmt: skip
    assert merge_attributes(picked, variables) == [picked[0], variables[1]]


def test_rarity_counts_and_order() -> None:
    tokens = [
        [Attribute(trait_type="Eyes", value="Round"), Attribute(trait_type="Hat", value="Cap")],
        [Attribute(trait_type="Eyes", value="Laser")],
        [Attribute(trait_type="Eyes", value="Round")],
        [Attribute(trait_type="Eyes", value="Round")],
    ]
    rarity = trait_rarity(tokens)
    assert list(rarity) == ["Eyes", "Hat"]
    assert list(rarity["Eyes"]) == ["Round", "Laser"]
    assert rarity["Eyes"]["Round"].count == 3 and rarity["Eyes"]["Round"].percent == 75.0
    assert rarity["Hat"]["Cap"].percent == 25.0
