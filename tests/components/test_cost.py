"""The cost expression language: JavaScript number semantics, and refusal of everything else."""

from __future__ import annotations

import contextlib
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emprops.components.cost import (
    MAX_COST,
    MAX_EXPRESSION_LENGTH,
    CostExpressionError,
    check_cost_expression,
    evaluate_cost,
)
from emprops.components.cost import number_to_js_string as js_string


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("2", {}, "2"),
        ("0.25", {}, "0.25"),
        ("1 + steps * 0.1", {"steps": 30}, "4"),
        ("steps / 3", {"steps": 1}, "0.333333"),
        ("0.0000005", {}, "0.000001"),  # quantized half up
        ("floor(7 / 2) + ceil(0.1) + abs(-2)", {}, "6"),
        ("round(2.5) + round(-2.5)", {}, "1"),  # Math.round: halves go up: 3 + -2
        ("round(1.005, 2)", {}, "1.01"),
        ("7 % 3 + (-7 % 3) + 7 // 2", {}, "3"),  # JS remainder keeps the dividend's sign
        ("2 ** 10 + pow(3, 2)", {}, "1033"),
        ("min(3, 1, 2) + max(3, 1, 2)", {}, "4"),
        ("len(prompt or '') / 4", {"prompt": "abcdefgh"}, "2"),
        ("len(prompt)", {"prompt": "😀"}, "2"),  # UTF-16 code units, like .length
        ("len(prompt or '')", {}, "0"),
        ("3 if eq(model, 0) else 5", {"model": "0"}, "3"),
        ("3 if model == 0 else 5", {"model": "0"}, "5"),  # == is strict
        ("3 if eq(flag, 1) else 5", {"flag": True}, "3"),
        ("steps or 20", {}, "20"),
        ("steps or 20", {"steps": 0}, "20"),
        ("steps and 7", {"steps": 0}, "0"),
        ("(not steps) * 4", {}, "4"),
        ("lookup({'a': 1, 'b': 2}, k, 0.25)", {"k": "b"}, "2"),
        ("lookup({'a': 1, 'b': 2}, k, 0.25)", {"k": "zz"}, "0.25"),
        ("lookup({1: 4, 2.5: 6}, k)", {"k": 1}, "4"),
        ("lookup({1: 4, 2.5: 6}, k)", {"k": "2.5"}, "6"),
        ("lookup(lookup({'m': {'in': 2}}, k) or {'in': 1}, 'in')", {"k": "m"}, "2"),
        ("lookup(lookup({'m': {'in': 2}}, k) or {'in': 1}, 'in')", {"k": "q"}, "1"),
        ("lookup(opts, 'n')", {"opts": {"n": 3}}, "3"),
        ("size / 512", {"size": "1024"}, "2"),  # numeric strings are numbers in arithmetic
        ("1 if 'a' < 'b' < 'c' else 0", {}, "1"),
        ("min(1 / 0, 4)", {}, "4"),  # intermediate infinity, as in JavaScript
        ("(a + b) * 1", {"a": 10**400, "b": -(10**400)}, None),
    ],
)
def test_evaluate(expression: str, values: dict[str, Any], expected: str | None) -> None:
    if expected is None:  # inf - inf is NaN
        with pytest.raises(CostExpressionError, match="finite"):
            evaluate_cost(expression, values)
        return
    result = evaluate_cost(expression, values)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -6


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        ("-1", {}, "negative"),
        ("1 / 0", {}, "not a finite"),
        ("steps + 1", {}, "not a finite"),  # undefined + 1 is NaN
        ("steps", {}, "None"),
        ("'5'", {}, "string"),
        ("True", {}, "boolean"),
        ("not steps", {}, "boolean"),
        ("{'a': 1}", {}, "table"),
        ("steps + 1", {"steps": "30"}, "JavaScript would join"),
        ("len(steps)", {"steps": 3}, "only strings"),
        ("lookup(steps, 'a')", {"steps": 3}, "not a table"),
        ("pow(2, e)", {"e": 1000}, "exponent"),
        ("9 ** 9 ** 9", {}, "exponent 387420489 is above"),
        ("2 ** e", {"e": -1000}, "exponent"),
        ("round(1.5, d)", {"d": 1.5}, "digits"),
        ("10 ** 10", {}, "above the maximum"),
        ("s + s", {"s": "x" * 600_000}, "string longer"),
    ],
)
def test_refused_values(expression: str, values: dict[str, Any], message: str) -> None:
    assert check_cost_expression(expression, list(values) or ["steps", "s", "e", "d"]) == []
    with pytest.raises(CostExpressionError, match=message):
        evaluate_cost(expression, values)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("steps.real", "attribute access"),
        ("__import__('os').system('true')", "attribute access"),
        ("__import__('os')", "unknown function '__import__'"),
        ("(lambda: 1)()", "only calls of the built-in functions"),
        ("lambda: 1", "lambdas"),
        ("[x for x in 'ab']", "comprehensions"),
        ("steps[0]", "subscripts"),
        ("2 ** 1000", "exponent above"),
        ("2 ** -1000", "exponent above"),
        ("pow(9, 999)", "exponent above"),
        ("open('x')", "unknown function 'open'"),
        ("floor()", "takes 1 arguments"),
        ("floor(x=1)", "keyword"),
        ("(steps := 3)", "assignments"),
        ("f'{steps}'", "f-strings"),
        ("[1, 2]", "lists"),
        ("1 in {1: 2}", "comparison In"),
        ("steps is None", "comparison Is"),
        ("~steps", "~"),
        ("1 @ 2", "MatMult"),
        ("b'x'", "bytes"),
        ("1j", "complex"),
        ("{steps: 1}", "table key"),
        ("{**{}}", "unpacking"),
        ("1 +", "syntax error"),
        ("", "empty"),
        ("steps; 1", "syntax error"),
        ("x" * (MAX_EXPRESSION_LENGTH + 1), "characters"),
        ("(" * 300 + "1" + ")" * 300, "syntax error"),
        ("+".join(["1"] * 500), "nests deeper"),
        ("1" * 5000, "digits"),
    ],
)
def test_refused_expressions(expression: str, message: str) -> None:
    problems = check_cost_expression(expression, ["steps"])
    assert problems, expression
    assert message in "; ".join(problems)
    with pytest.raises(CostExpressionError, match="invalid cost expression"):
        evaluate_cost(expression, {"steps": 1})


def test_unknown_fields_are_problems_but_evaluate_as_none() -> None:
    problems = check_cost_expression("steps * scale or 2", ["steps"])
    assert problems == ["unknown field 'scale' (the component's fields: steps)"]
    assert evaluate_cost("steps * scale or 2", {"steps": 3}) == Decimal(2)  # NaN is falsy


def test_check_accepts_function_names_only_as_calls() -> None:
    assert check_cost_expression("floor(steps / 2)", ["steps"]) == []
    assert check_cost_expression("floor", ["steps"]) == [
        "unknown field 'floor' (the component's fields: steps)"
    ]


def test_result_bound_and_quantization() -> None:
    assert evaluate_cost(str(MAX_COST), {}) == MAX_COST
    assert str(evaluate_cost("0.1 + 0.2", {})) == "0.300000"
    assert str(evaluate_cost("-0.0", {})) == "0.000000"


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (1.5, "1.5"),
        (-2.0, "-2"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (0.1 + 0.2, "0.30000000000000004"),
        (math.inf, "Infinity"),
        (math.nan, "NaN"),
    ],
)
def test_number_keys_follow_javascript(number: float, text: str) -> None:
    assert js_string(number) == text


# --- properties ------------------------------------------------------------------------------

_FIELDS = ["a", "b", "s"]
_leaves = st.one_of(
    st.sampled_from(_FIELDS),
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.sampled_from(["True", "False", "None", "''", "'x'", "'12'", "{'a': 1, 2: 'b'}"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children,
        st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "and", "or", "<", "==", "!=", ">="]),
        children,
    ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "not ", "+"]), children).map(
        lambda t: f"({t[0]}{t[1]})"
    )
    ternary = st.tuples(children, children, children).map(
        lambda t: f"({t[0]} if {t[1]} else {t[2]})"
    )
    calls = st.one_of(
        st.tuples(st.sampled_from(["floor", "ceil", "round", "abs", "len"]), children).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(
            st.sampled_from(["min", "max", "pow", "eq", "round", "lookup"]), children, children
        ).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"lookup({t[0]}, {t[1]}, {t[2]})"),
    )
    return st.one_of(binary, unary, ternary, calls)


_expressions = st.recursive(_leaves, _combine, max_leaves=12)
_field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["12", " 3.5 ", "0x1f", "Infinity", "1e400", "nan", "1_0"]),
    st.dictionaries(st.sampled_from(["a", "1", "b"]), st.integers(-5, 5), max_size=3),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    expression=_expressions,
    values=st.dictionaries(st.sampled_from(_FIELDS), _field_values, max_size=3),
)
def test_evaluate_only_raises_cost_errors(expression: str, values: dict[str, Any]) -> None:
    problems = check_cost_expression(expression, _FIELDS)
    try:
        cost = evaluate_cost(expression, values)
    except CostExpressionError:
        return
    assert problems == []
    assert cost.is_finite() and Decimal(0) <= cost <= MAX_COST
    assert cost.as_tuple().exponent == -6


@settings(max_examples=300, deadline=None)
@given(expression=st.text(max_size=40), values=st.dictionaries(st.text(max_size=3), _field_values))
def test_arbitrary_text_never_escapes(expression: str, values: dict[str, Any]) -> None:
    problems = check_cost_expression(expression, ["a"])
    assert isinstance(problems, list)
    with contextlib.suppress(CostExpressionError):
        evaluate_cost(expression, values)
