"""The built-in variables step: one draw per variable, from a PRNG of its own."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pydantic import JsonValue

from emprops.workflows.errors import GenerationInputInvalid, ValidationProblem
from emprops.workflows.generation_input import Variable, VariableScalar
from emprops.workflows.prng import Pseudorandom
from emprops.workflows.prompt_document import is_text_file_url


def resolve_variables(variables: Sequence[Variable], hash_: str) -> dict[str, VariableScalar]:
    """Values in declaration order from a fresh `Pseudorandom(hash)`.

    A locked variable with a test value takes it and draws nothing, so the draws of the variables
    after it shift, exactly as in the original platform.
    """
    prng = Pseudorandom(hash_)
    resolved: dict[str, VariableScalar] = {}
    for i, variable in enumerate(variables):
        if variable.is_locked:
            assert variable.test_value is not None
            resolved[variable.name] = variable.test_value
            continue
        values = variable.value.values
        if not values:
            raise GenerationInputInvalid(
                [ValidationProblem(path=f"variables[{i}].value.values", message="no values")]
            )
        if variable.type == "weighted_pick":
            resolved[variable.name] = prng.weighted_pick(values, variable.value.weights)
        else:
            resolved[variable.name] = prng.pick(values)
    return resolved


def variables_step_output(variables: Sequence[Variable], hash_: str) -> dict[str, JsonValue]:
    """What `$ref`s to the variables step read: `{"data": {name: value}}`."""
    data: dict[str, JsonValue] = dict(resolve_variables(variables, hash_))
    return {"data": data}


# A URL: a scheme, "://", no whitespace. Only such values are fetched; "notes.txt" is plain text.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")


def is_text_url(value: JsonValue) -> bool:
    """A value the original platform inlined as its text: a URL (http(s), file, ipfs...) whose
    path ends with `.txt`."""
    return isinstance(value, str) and _URL.match(value) is not None and is_text_file_url(value)


def variable_text_urls(values: Mapping[str, JsonValue]) -> set[str]:
    """The `.txt` URLs among resolved variable values: what the engine must fetch (as UTF-8
    text) and pass to `inline_variable_texts` before prompts are filled in."""
    return {value for value in values.values() if isinstance(value, str) and is_text_url(value)}


def inline_variable_texts(
    values: Mapping[str, JsonValue], fetched: Mapping[str, str]
) -> dict[str, JsonValue]:
    """A copy of `values` (order kept) with each `.txt` URL replaced by its text from `fetched`
    (URL to text). A URL missing from `fetched` stays as it is; other values are untouched."""
    return {
        name: fetched.get(value, value) if isinstance(value, str) and is_text_url(value) else value
        for name, value in values.items()
    }
