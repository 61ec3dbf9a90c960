"""The collection editor's form: a GenerationInput to rows and back without loss, typing
mistakes caught at the row they are in, and the service's problem paths mapped to the form
field they are about even when rows were removed in between."""

from __future__ import annotations

from typing import Any

from emprops.studio.collection_form import editor_for, parse_editor
from emprops.studio.forms import PostedForm

STORED: dict[str, Any] = {
    "version": "v2",
    "steps": [
        {"id": 7, "nodeName": "layers", "alias": "art", "fromId": 3,
         "nodePayload": {"config": "layers.json", "size": 2}},
        {"id": 9, "nodeName": "animate", "nodePayload": {}, "skip": True},
    ],
    "generations": {"hashes": ["abcdef1", "abcdef2"], "generations": 2, "use_custom_hashes": True},
    "variables": [
        {"name": "mood", "type": "weighted_pick", "value_type": "strings", "lock_value": True,
         "test_value": "calm",
         "value": {"display_names": ["Calm", "wild"], "values": ["calm", "wild"], "weights": [3, 0.5]}},
        {"name": "size", "type": "pick", "value_type": "integers",
         "value": {"display_names": ["1", "2"], "values": [1, 2], "weights": [1, 1]}},
    ],
}  # fmt: skip


def form_of(editor: Any, **changes: str) -> PostedForm:
    """What the browser posts for an editor as rendered, with some fields changed."""
    pairs = [("title", editor.title), ("description", editor.description),
             ("generations", editor.generations)]  # fmt: skip
    for row in editor.variables:
        p = f"variables[{row.index}]."
        pairs += [(p + "origin", str(row.origin)), (p + "name", row.name), (p + "type", row.type),
                  (p + "value_type", row.value_type), (p + "options", row.options)]  # fmt: skip
    for row in editor.steps:
        p = f"steps[{row.index}]."
        pairs += [(p + "id", row.id), (p + "nodeName", row.node_name), (p + "alias", row.alias),
                  (p + "nodePayload", row.payload)]  # fmt: skip
        if row.skip:
            pairs.append((p + "skip", "on"))
    values = dict(pairs)
    values.update(changes)
    return PostedForm([(k, v) for k, v in values.items() if v is not None])


def test_a_document_survives_the_form_unchanged() -> None:
    editor = editor_for("Moods", None, STORED)
    assert editor.variables[0].options == "Calm | calm | 3\nwild | 0.5"
    parsed = parse_editor(form_of(editor), STORED)
    assert not parsed.errors
    assert parsed.document == STORED  # locked values, fromId, skip and custom hashes kept


def test_typing_mistakes_are_caught_at_their_row() -> None:
    editor = editor_for("Moods", None, STORED)
    form = form_of(
        editor,
        **{"variables[0].options": "calm | heavy\na | b | c | d",
           "variables[1].options": "1\ntwo | 1",
           "steps[0].nodePayload": "{not json",
           "steps[1].nodePayload": "[1, 2]",
           "generations": "many"},
    )  # fmt: skip
    errors = parse_editor(form, STORED).errors
    assert errors.by_field == {
        "variables[0].options": [
            "line 1: weight 'heavy' is not a number",
            "line 2: at most 3 parts (display name | value | weight)",
        ],
        "variables[1].options": ["line 2: 'two' is not an integer"],
        "steps[0].nodePayload": [errors.for_field("steps[0].nodePayload")[0]],
        "steps[1].nodePayload": ["must be a JSON object ({...})"],
        "generations": ["'many' is not a whole number"],
    }
    assert errors.for_field("steps[0].nodePayload")[0].startswith("not JSON")


def test_removed_and_blank_rows_and_new_steps() -> None:
    editor = editor_for("Moods", None, STORED)
    form = form_of(editor, **{"variables[0].remove": "on"})
    form.pairs += [("variables[5].name", ""), ("variables[5].options", ""),  # the blank row
                   ("steps[4].id", ""), ("steps[4].nodeName", "echo-job"),
                   ("steps[4].nodePayload", '{"a": 1}')]  # fmt: skip
    parsed = parse_editor(form, STORED)
    assert not parsed.errors
    assert [v["name"] for v in parsed.document["variables"]] == ["size"]
    new_step = parsed.document["steps"][-1]
    assert new_step == {"id": 10, "nodeName": "echo-job", "nodePayload": {"a": 1}}
    # the service speaks of document positions; the form's rows are elsewhere
    assert parsed.field_of("variables[0].value.weights[1]") == "variables[1].options"
    assert parsed.field_of("variables[0].name") == "variables[1].name"
    assert parsed.field_of("data.steps[2].nodePayload.a.$ref") == "steps[4].nodePayload"
    assert parsed.field_of("steps[2].nodeName") == "steps[4].nodeName"
    assert parsed.field_of("generations.generations") == "generations"
    assert parsed.field_of("title") == "title"
    assert parsed.field_of("variables[7]") is None and parsed.field_of("") is None
