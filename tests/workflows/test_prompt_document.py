"""Prompt documents: rendering, substitution, mentions and id rewriting."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.workflows import (
    PromptDocumentError,
    is_prompt_document,
    prompt_component_mentions,
    prompt_variable_names,
    remap_prompt_components,
    render_prompt,
    render_prompt_document,
    render_prompt_fields,
    step_output_text,
    substitute_prompt,
)


def text(value: str) -> dict[str, Any]:
    return {"text": value}


def var(name: str) -> dict[str, Any]:
    return {"type": "variable", "variable": {"name": name}, "children": [text("")]}


def comp(step_id: int | str) -> dict[str, Any]:
    return {"type": "component", "component": {"id": step_id}, "children": [text("")]}


def block(*children: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "children": list(children)}


DOC = json.dumps(
    [
        block(text("a "), var("mood"), text(" fox on "), var("bg")),
        block(
            text("style of "),
            comp(101),
            {
                "type": "list",
                "children": [{"type": "item", "children": [text(" nested "), comp("7")]}],
            },
        ),
        block(text("")),
    ]
)


def test_render_blocks_variables_components_and_nesting() -> None:
    assert render_prompt_document(DOC) == "a $mood fox on $bg\nstyle of #101 nested #7\n"


def test_substitution_fills_variables_and_step_texts() -> None:
    rendered = render_prompt(DOC, {"mood": "sly", "bg": "gold"}, {101: "ukiyo-e", 7: "ink"})
    assert rendered == "a sly fox on gold\nstyle of ukiyo-e nested ink\n"


def test_whole_words_only() -> None:
    variables = {"bg": "gold", "bg_color": "red", "n": 2.0}
    assert (
        substitute_prompt("$bg $bg_color $bgx $n $n1 $missing #1 #10 #1a", variables, {1: "one"})
        == "gold red $bgx 2 $n1 $missing one #10 #1a"
    )


def test_inserted_text_is_not_substituted_again() -> None:
    out = substitute_prompt("$a #1", {"a": "$b #1", "b": "no"}, {1: "$a"})
    assert out == "$b #1 $a"


def test_values_read_as_text() -> None:
    assert substitute_prompt("$i $f $t $b", {"i": 3, "f": 0.5, "t": True, "b": 10.0}, {}) == (
        "3 0.5 true 10"
    )
    assert step_output_text({"data": "a caption", "mimeType": None}) == "a caption"
    assert step_output_text({"data": {"k": [1]}, "mimeType": None}) == '{"k":[1]}'
    assert step_output_text({"src": "file:///x.png", "mimeType": "image/png"}) == "file:///x.png"


def test_mentions_and_variable_names() -> None:
    doc = json.dumps([block(comp(5), text(" after #6 and #x"), var("a"), var("a"), var("b"))])
    assert [(m.step_id, m.in_text) for m in prompt_component_mentions(doc)] == [
        (5, False),
        (6, True),
    ]
    assert prompt_variable_names(doc) == ["a", "b"]


def test_remap_rewrites_components_and_keeps_unchanged_text() -> None:
    doc = json.dumps([block(comp(5), text(" see #6, #60 and #7"), comp("6"), var("v"))])
    remapped = json.loads(remap_prompt_components(doc, {5: 500, 6: 600}))
    assert remapped[0]["children"][0]["component"]["id"] == 500
    assert remapped[0]["children"][1]["text"] == " see #600, #60 and #7"
    assert remapped[0]["children"][2]["component"]["id"] == "600"
    untouched = json.dumps([block(comp(8))], indent=2)
    assert remap_prompt_components(untouched, {5: 500}) is untouched


def test_recognition_of_prompt_documents() -> None:
    assert is_prompt_document(DOC)
    for not_doc in ["hello", "[1, 2]", "[]", '{"children": []}', "[{", '[{"text": "x"}]']:
        assert not is_prompt_document(not_doc)
    with pytest.raises(PromptDocumentError):
        render_prompt_document('{"not": "a list"}')


def test_render_prompt_fields_renders_only_documents() -> None:
    payload = {"prompt": DOC, "n": 3, "list": [DOC, "[plain]"], "ref": {"x": "y"}}
    out = render_prompt_fields(payload, {"mood": "m", "bg": "b"}, {})
    assert out == {
        "prompt": "a m fox on b\nstyle of #101 nested #7\n",
        "n": 3,
        "list": ["a m fox on b\nstyle of #101 nested #7\n", "[plain]"],
        "ref": {"x": "y"},
    }


# Plain pieces start with a non-word character, so a `$v` or `#1` before them stays a whole word.
pieces = st.text(alphabet="abc xyz.,", max_size=12).map(lambda w: " " + w)


@given(
    st.lists(st.lists(pieces | st.sampled_from(["$v", "#1"]), max_size=5), min_size=1, max_size=4)
)
def test_render_then_substitute_matches_direct_assembly(blocks: list[list[str]]) -> None:
    """A document built from pieces renders to the pieces joined, with values put in."""
    nodes = [
        block(*[var("v") if p == "$v" else comp(1) if p == "#1" else text(p) for p in parts])
        for parts in blocks
    ]
    direct = "\n".join(
        "".join("V" if p == "$v" else "ONE" if p == "#1" else p for p in parts) for parts in blocks
    )
    assert render_prompt(json.dumps(nodes), {"v": "V"}, {1: "ONE"}) == direct
