"""The variables step, per-generation seeds and hashes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from emprops.credits.pricing import generation_count
from emprops.workflows import (
    MAX_SEED,
    GenerationInput,
    GenerationsSpec,
    Pseudorandom,
    Variable,
    generation_hashes,
    generation_seed,
    is_well_formed_hash,
    random_hash,
    resolve_variables,
    variables_step_output,
)
from emprops.workflows.variables import inline_variable_texts, variable_text_urls

from .conftest import SPEC_HASH, variable

NAMES7 = ["John", "Mary", "Peter", "George", "Luis", "Mario", "Mitzy"]


def _variables(*raw: dict[str, Any]) -> list[Variable]:
    return [Variable.model_validate(v) for v in raw]


def test_variables_step_draws_in_declaration_order_from_a_fresh_prng() -> None:
    """The spec's 4th vector: one instance, weighted pick then pick -> Peter, Engineer."""
    variables = _variables(
        variable("name", ["John", "Mary", "Peter"], weights=[1, 1, 98]),
        variable("job", ["Engineer", "Other"]),
    )
    assert variables_step_output(variables, SPEC_HASH) == {
        "data": {"name": "Peter", "job": "Engineer"}
    }


def test_locked_variable_draws_nothing() -> None:
    locked = variable("who", NAMES7, lock=True, test_value="Mitzy")
    rest = [
        variable("name", ["John", "Mary", "Peter"], weights=[1, 1, 98]),
        variable("job", ["Engineer", "Other"]),
    ]
    got = resolve_variables(_variables(locked, *rest), SPEC_HASH)
    assert got == {"who": "Mitzy", "name": "Peter", "job": "Engineer"}


def test_unlocked_variable_shifts_the_later_draws() -> None:
    unlocked = variable("who", NAMES7, lock=False, test_value="Mitzy")
    lock_without_value = variable("who", NAMES7, lock=True, test_value=None)
    tail = variable("job", ["Engineer", "Other", "Artist", "Chef"])
    prng = Pseudorandom(SPEC_HASH)
    expected = {"who": prng.pick(NAMES7), "job": prng.pick(["Engineer", "Other", "Artist", "Chef"])}
    assert expected["who"] == "George"  # the spec's first vector
    assert resolve_variables(_variables(unlocked, tail), SPEC_HASH) == expected
    assert resolve_variables(_variables(lock_without_value, tail), SPEC_HASH) == expected


def test_variables_do_not_consume_the_seed_draw() -> None:
    """The seed and the variables each start from a fresh PRNG of the same hash."""
    variables = _variables(variable("who", NAMES7))
    assert resolve_variables(variables, SPEC_HASH) == {"who": "George"}
    assert generation_seed(SPEC_HASH) == Pseudorandom(SPEC_HASH).integer(1, MAX_SEED)


@given(st.lists(st.sampled_from(NAMES7), min_size=1, max_size=7, unique=True), st.data())
def test_resolved_values_come_from_the_declared_values(values: list[str], data: Any) -> None:
    hash_ = data.draw(st.from_regex(r"\A0x[0-9a-f]{64}\Z"))
    weights = data.draw(st.lists(st.integers(1, 50), min_size=len(values), max_size=len(values)))
    resolved = resolve_variables(
        _variables(variable("a", values), variable("b", values, weights=weights)), hash_
    )
    assert resolved["a"] in values
    assert resolved["b"] in values


def test_random_hash_format_and_uniqueness() -> None:
    made = {random_hash() for _ in range(50)}
    assert len(made) == 50
    for hash_ in made:
        assert hash_.startswith("0x")
        assert len(hash_) == 66
        int(hash_[2:], 16)
        assert is_well_formed_hash(hash_)


def test_generation_hashes_custom_random_and_count() -> None:
    custom = GenerationsSpec(
        hashes=["0xaaaaaaaa", "0xbbbbbbbb"], generations=9, use_custom_hashes=True
    )
    assert generation_hashes(custom) == ["0xaaaaaaaa", "0xbbbbbbbb"]
    none = GenerationsSpec(hashes=[], generations=3, use_custom_hashes=True)
    made = generation_hashes(none)
    assert len(made) == 3
    assert len(set(made)) == 3
    assert len(generation_hashes(none, 5)) == 5


def test_listed_hashes_are_used_whatever_use_custom_hashes_says() -> None:
    """The original runs a document's hashes even with use_custom_hashes false."""
    listed = GenerationsSpec(hashes=["0xaaaaaaaa"], generations=3, use_custom_hashes=False)
    assert generation_hashes(listed) == ["0xaaaaaaaa"]
    assert generation_hashes(listed, 5) == ["0xaaaaaaaa"]
    with_hashes = GenerationInput(version="v2", generations=listed)
    assert generation_count(with_hashes, 5) == 1
    without = GenerationInput(version="v2", generations=GenerationsSpec(generations=3))
    assert generation_count(without, 5) == 5
    assert generation_count(without) == 3


def test_txt_url_values_are_inlined_as_their_text() -> None:
    """A variable whose value is a `.txt` URL gives prompts the file's text, as the original."""
    values = {
        "story": "https://cdn.x/stories/one.TXT?sig=abc",
        "notes": "file:///data/notes.txt",
        "plain": "notes.txt",
        "image": "https://cdn.x/a.png",
        "query_only": "https://cdn.x/view?name=a.txt",
        "n": 3,
    }
    assert variable_text_urls(values) == {values["story"], values["notes"]}
    inlined = inline_variable_texts(values, {values["story"]: "Once upon a time"})
    assert inlined == {**values, "story": "Once upon a time"}
    assert list(inlined) == list(values)
    assert values["story"].startswith("https://")  # the input is not modified


def test_hash_forms_from_the_original_are_well_formed() -> None:
    assert is_well_formed_hash("uWCkKMYQnAeSETlQgXXjgv5rpsqQ4wOksnStXFck1PtrBy9TEVg")
    assert is_well_formed_hash("6f1c2a4e-0b7d-4f43-9a51-0e1d2c3b4a59")
    for bad in ["", "0x12", "0x 1234567", "0x1234567\n", "0xé1234567"]:
        assert not is_well_formed_hash(bad)
