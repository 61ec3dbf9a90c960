"""The original's polling conditions (`data.status != 'SUCCEEDED'`, JavaScript-like) as jq.

Parsed with a real JavaScript parser and translated node by node; anything beyond comparisons,
`&&`, `||`, `!`, member paths of `data` and literals is refused, never guessed.
"""

from __future__ import annotations

import json
from typing import Any

import esprima

_COMPARE = {"==": "==", "===": "==", "!=": "!=", "!==": "!=", "<": "<", "<=": "<=",
            ">": ">", ">=": ">="}  # fmt: skip
_ROOTS = frozenset({"data", "response", "body"})


class ConditionTranslationError(ValueError):
    pass


def _path(node: Any) -> str:
    """`data.a.b` / `data["a"]` / `data.items[0]` as the jq path `.a.b`."""
    parts: list[str] = []
    while node.type == "MemberExpression":
        prop = node.property
        if node.computed:
            if prop.type != "Literal" or not isinstance(prop.value, str | int | float):
                raise ConditionTranslationError("only literal indexes are supported")
            value = prop.value
            parts.append(
                f"[{int(value)}]" if isinstance(value, int | float) else f"[{json.dumps(value)}]"
            )
        else:
            parts.append(f"[{json.dumps(prop.name)}]")
        node = node.object
    if node.type != "Identifier" or node.name not in _ROOTS:
        raise ConditionTranslationError(
            f"conditions read the response as data.<field>, not {getattr(node, 'name', node.type)}"
        )
    return "." + "".join(reversed(parts)) if parts else "."


def _expr(node: Any) -> str:
    kind = node.type
    if kind == "Literal":
        if node.regex is not None:
            raise ConditionTranslationError("regular expressions are not supported")
        return json.dumps(node.value)
    if kind in ("MemberExpression", "Identifier"):
        return _path(node)
    if kind == "BinaryExpression" and node.operator in _COMPARE:
        return f"({_expr(node.left)} {_COMPARE[node.operator]} {_expr(node.right)})"
    if kind == "LogicalExpression":
        op = {"&&": "and", "||": "or"}.get(node.operator)
        if op is None:
            raise ConditionTranslationError(f"operator {node.operator} is not supported")
        return f"({_expr(node.left)} {op} {_expr(node.right)})"
    if kind == "UnaryExpression" and node.operator == "!":
        return f"({_expr(node.argument)} | not)"
    raise ConditionTranslationError(f"{kind} is not supported in a condition")


def js_condition_to_jq(source: str) -> str:
    """The jq expression that is true exactly when the JavaScript-like condition is."""
    try:
        program = esprima.parseScript(source)
    except esprima.Error as exc:
        raise ConditionTranslationError(f"condition {source!r} does not parse: {exc}") from None
    if len(program.body) != 1 or program.body[0].type != "ExpressionStatement":
        raise ConditionTranslationError(f"condition {source!r} must be one expression")
    try:
        return _expr(program.body[0].expression)
    except ConditionTranslationError as exc:
        raise ConditionTranslationError(f"condition {source!r}: {exc}") from None
