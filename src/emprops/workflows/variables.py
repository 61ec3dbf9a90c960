"""The built-in variables step: one draw per variable, from a PRNG of its own."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import JsonValue

from emprops.workflows.errors import GenerationInputInvalid, ValidationProblem
from emprops.workflows.generation_input import Variable, VariableScalar
from emprops.workflows.prng import Pseudorandom


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
