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
from emprops.workflows.prompt_document import step_texts, text_file_urls


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


def test_variables_go_in_one_by_one_in_declaration_order() -> None:
    """As the original's `replaceAll` per variable: a value naming a later variable is expanded
    in turn, an earlier one is not; `#id` is filled in afterwards, once (a step's text is not
    rescanned)."""
    out = substitute_prompt("$a #1", {"a": "$b #1", "b": "no"}, {1: "$a"})
    assert out == "no $a $a"
    assert substitute_prompt("$b", {"a": "A", "b": "$a $b"}, {}) == "$a $b"
    assert substitute_prompt("$x", {"x": "$yz $y", "y": "Y", "yz": "YZ"}, {}) == "YZ Y"
    assert substitute_prompt("$a", {"a": r"\1 \g<0>"}, {}) == r"\1 \g<0>"
    # An inserted value never joins the text beside it into another word.
    variables = {"v": "0", "w": "$b", "u": "_z", "b": "x"}
    assert substitute_prompt("#1$v $w$u", variables, {1: "one"}) == "one0 x_z"


def test_values_read_as_text() -> None:
    assert substitute_prompt("$i $f $t $b", {"i": 3, "f": 0.5, "t": True, "b": 10.0}, {}) == (
        "3 0.5 true 10"
    )
    assert step_output_text({"data": "a caption", "mimeType": None}) == "a caption"
    assert step_output_text({"data": 2.0, "mimeType": None}) == "2"


def test_only_text_outputs_fill_in_a_step_mention() -> None:
    """`#id` takes a string/number data output or a text file's TEXT; anything else (an image's
    URL, JSON data, a text file not fetched) leaves `#id` as written."""
    txt = {"src": "https://cdn.x/caption.txt?sig=1", "mimeType": None}
    plain = {"src": "file:///runs/3/notes", "mimeType": "text/plain; charset=utf-8"}
    outputs = {
        1: {"data": "a caption", "mimeType": None},
        2: {"data": 7, "mimeType": None},
        3: plain,
        4: txt,
        5: {"src": "file:///x.png", "mimeType": "image/png"},
        6: {"data": {"k": [1]}, "mimeType": None},
        7: {"data": True, "mimeType": None},
        8: {"src": "file:///x.TXT", "mimeType": "text/plain"},
    }
    assert step_output_text(outputs[5]) is None
    assert step_output_text(outputs[6]) is None
    assert step_output_text(txt) is None  # its text is not known yet
    assert step_output_text(txt, {txt["src"]: "fetched words"}) == "fetched words"
    assert text_file_urls(outputs) == {txt["src"], plain["src"], "file:///x.TXT"}
    fetched = {txt["src"]: "a red fox", plain["src"]: "notes"}
    texts = step_texts(outputs, fetched)
    assert texts == {1: "a caption", 2: "7", 3: "notes", 4: "a red fox"}
    doc = json.dumps([block(*(comp(i) for i in range(1, 9)))])
    assert render_prompt(doc, {}, texts) == "a caption7notesa red fox#5#6#7#8"
    # What an engine that has not fetched anything passes: None texts leave `#id` too.
    untouched = {i: step_output_text(o) for i, o in outputs.items()}
    assert render_prompt_fields({"p": doc}, {}, untouched) == {"p": "a caption7#3#4#5#6#7#8"}


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
