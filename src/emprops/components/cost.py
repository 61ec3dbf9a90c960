"""Component costs as data: a small, safe expression language over form field values.

A component's cost per generation is stored as an expression string, never as code. The
syntax is a subset of Python expressions (parsed with ``ast.parse(mode="eval")``) and the
values follow JavaScript's rules, because the costs we import were written in JavaScript
(see :mod:`emprops.components.credits_js`) and must price the same:

* numbers are IEEE doubles (``1 / 0`` is infinite, ``%`` keeps the dividend's sign, numeric
  strings count as numbers in arithmetic and comparisons, ``round`` rounds halves up);
* ``None`` stands for JavaScript's ``undefined``: a field missing from the values is ``None``,
  and ``None`` in arithmetic gives NaN, which is refused as a cost;
* truthiness is JavaScript's (``0``, ``""``, ``None``, ``False`` and NaN are falsy), and
  ``and``/``or`` return an operand, like ``&&``/``||``;
* ``==``/``!=`` are strict (``===``); ``eq(a, b)`` is the loose ``==`` (``eq(1, "1")``);
* ``+`` adds numbers or joins two strings; a string plus a number is refused rather than
  concatenated, since a cost built from ``"30" + 1`` is a bug, not a price;
* dict literals are lookup tables; their keys are JavaScript property names, so ``{1: x}``
  and ``{"1": x}`` are the same key, and ``lookup(table, key, default)`` reads them.

Grammar::

    expr    := expr "if" expr "else" expr | expr ("or" | "and") expr | "not" expr
             | expr cmp expr [cmp expr ...] | expr op expr | ("-" | "+") expr
             | NUMBER | STRING | True | False | None | FIELD | "(" expr ")"
             | "{" [const ":" expr ("," const ":" expr)*] "}"
             | FUNC "(" expr ("," expr)* ")"
    cmp     := "==" | "!=" | "<" | "<=" | ">" | ">="
    op      := "+" | "-" | "*" | "/" | "//" | "%" | "**"
    FUNC    := floor | ceil | round | min | max | abs | pow | len | lookup | eq

Nothing else parses: no attribute access, subscripts, other calls, comprehensions, lambdas
or names other than fields. Expressions are bounded in length and nesting, exponents in
size, strings in length, and the cost in value.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

__all__ = [
    "MAX_COST",
    "MAX_EXPONENT",
    "MAX_EXPRESSION_LENGTH",
    "CostExpressionError",
    "check_cost_expression",
    "evaluate_cost",
]

MAX_EXPRESSION_LENGTH = 20_000
"""Characters; a translated pricing table with a few dozen models fits many times over."""
MAX_DEPTH = 120
"""Nesting of the syntax tree, so that evaluation can never exhaust Python's stack."""
MAX_EXPONENT = 100
"""Largest absolute exponent of ``**``/``pow``: prices square things, they do not explode."""
MAX_STRING_LENGTH = 1_000_000
"""Longest string an evaluation may build by joining strings."""
MAX_COST = Decimal(1_000_000_000)
"""Largest cost of one generation; anything above is a mistake in the expression."""
_QUANTUM = Decimal("0.000001")

FUNCTION_ARITY: dict[str, tuple[int, int]] = {
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (1, 2),
    "min": (1, 64),
    "max": (1, 64),
    "abs": (1, 1),
    "pow": (2, 2),
    "len": (1, 1),
    "lookup": (2, 3),
    "eq": (2, 2),
}


class CostExpressionError(ValueError):
    """A cost expression that is malformed, or whose value is not a usable cost."""


Values = Mapping[str, Any]
_Fn = Callable[[Values], Any]


# --- JavaScript value semantics -------------------------------------------------------------

_JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_JS_RADIX = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_JS_WHITESPACE = " \t\n\r\v\f\u00a0\ufeff\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)


def _normalize(value: Any) -> Any:
    """A field value as the evaluator sees it: every number a float, like a JS number."""
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, int | Decimal):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value


def _string_to_number(text: str) -> float:
    """JavaScript's ``Number(text)``: trimmed, empty is 0, anything unparsable is NaN."""
    text = text.strip(_JS_WHITESPACE)
    if not text:
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        return float(text)
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    if _JS_RADIX.fullmatch(text):
        return float(int(text, 0))
    return math.nan


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, int | Decimal):
        return float(_normalize(value))
    if isinstance(value, str):
        return _string_to_number(value)
    return math.nan  # None (undefined), tables, lists


def _truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def number_to_js_string(x: float) -> str:
    """JavaScript's ``String(x)``, for table keys: ``1.0`` is ``"1"``, ``1e-7`` is ``"1e-7"``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    exact = Decimal(repr(abs(x))).normalize().as_tuple()  # the shortest round-trip digits
    digits = "".join(map(str, exact.digits))
    point = len(digits) + int(exact.exponent)  # where the decimal point falls in digits
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-")
        body += str(abs(e))
    return sign + body


def _property_key(key: Any) -> str:
    """A value as a JavaScript property name: what ``table[key]`` looks up."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "undefined"
    if isinstance(key, int | float | Decimal):
        return number_to_js_string(_to_number(key))
    raise CostExpressionError(f"a {_kind(key)} cannot be a table key")


def _kind(value: Any) -> str:
    if value is None:
        return "None (a missing field?)"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "table"
    return type(value).__name__


def _strict_eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is b
    return a is b


def _loose_eq(a: Any, b: Any) -> bool:
    """JavaScript's ``==`` on the values this language has."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool):
        return _loose_eq(_to_number(a), b)
    if isinstance(b, bool):
        return _loose_eq(a, _to_number(b))
    a_num, b_num = isinstance(a, int | float), isinstance(b, int | float)
    if a_num and isinstance(b, str):
        return bool(a == _string_to_number(b))
    if b_num and isinstance(a, str):
        return bool(_string_to_number(a) == b)
    return _strict_eq(a, b)


def _less(a: Any, b: Any, or_equal: bool) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a <= b if or_equal else a < b
    x, y = _to_number(a), _to_number(b)
    return x <= y if or_equal else x < y


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, str) and isinstance(b, str):
        if len(a) + len(b) > MAX_STRING_LENGTH:
            raise CostExpressionError(f"string longer than {MAX_STRING_LENGTH} characters")
        return a + b
    if isinstance(a, str | Mapping | list | tuple) or isinstance(b, str | Mapping | list | tuple):
        raise CostExpressionError(
            f"+ between a {_kind(a)} and a {_kind(b)}: JavaScript would join them as text; "
            "convert the string to a number first"
        )
    return _to_number(a) + _to_number(b)


def _div(a: Any, b: Any) -> float:
    x, y = _to_number(a), _to_number(b)
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _mod(a: Any, b: Any) -> float:
    x, y = _to_number(a), _to_number(b)
    if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y):
        return math.nan
    if math.isinf(y):
        return x
    return math.fmod(x, y)


def _pow(a: Any, b: Any) -> float:
    x, y = _to_number(a), _to_number(b)
    if math.isnan(y):
        return math.nan
    if y == 0:
        return 1.0
    if math.isfinite(y) and abs(y) > MAX_EXPONENT:
        raise CostExpressionError(f"exponent {number_to_js_string(y)} is above {MAX_EXPONENT}")
    if math.isnan(x) or (abs(x) == 1 and math.isinf(y)):
        return math.nan
    if x == 0 and y < 0:
        odd = y.is_integer() and int(y) % 2 == 1
        return -math.inf if odd and math.copysign(1.0, x) < 0 else math.inf
    try:
        return math.pow(x, y)
    except OverflowError:
        odd = y.is_integer() and int(y) % 2 == 1
        return -math.inf if x < 0 and odd else math.inf
    except ValueError:
        return math.nan  # a negative base to a fractional power


def _floor(x: Any) -> float:
    v = _to_number(x)
    return float(math.floor(v)) if math.isfinite(v) else v


def _ceil(x: Any) -> float:
    v = _to_number(x)
    return float(math.ceil(v)) if math.isfinite(v) else v


def _round(x: Any, digits: Any = None) -> float:
    """``Math.round``: halves go up (towards +infinity), unlike Python's ``round``."""
    v = _to_number(x)
    if not math.isfinite(v):
        return v
    if digits is None:
        r = math.floor(v)
        return float(r + 1 if v - r >= 0.5 else r)
    d = _to_number(digits)
    if not (d.is_integer() and 0 <= d <= 12):
        raise CostExpressionError("round(x, digits) takes a whole number of digits from 0 to 12")
    try:
        q = Decimal(repr(v)).quantize(Decimal(1).scaleb(-int(d)), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return v  # too many digits to quantize: already far coarser than the rounding
    return float(q)


def _min_max(pick: Callable[..., float]) -> Callable[..., float]:
    def run(*args: Any) -> float:
        numbers = [_to_number(a) for a in args]
        if any(math.isnan(n) for n in numbers):
            return math.nan
        return pick(numbers)

    return run


def _abs(x: Any) -> float:
    return abs(_to_number(x))


def _len(x: Any) -> float:
    if isinstance(x, str):
        return float(len(x.encode("utf-16-le")) // 2)  # UTF-16 code units, like JS .length
    if isinstance(x, list | tuple):
        return float(len(x))
    raise CostExpressionError(f"len() of a {_kind(x)}: only strings have a length")


def _lookup(table: Any, key: Any, default: Any = None) -> Any:
    if not isinstance(table, Mapping):
        raise CostExpressionError(f"lookup() in a {_kind(table)}, not a table")
    name = _property_key(key)
    if name in table:
        return _normalize(table[name])
    for k, v in table.items():  # a field value's table may have non-string keys
        if not isinstance(k, str) and _property_key(_normalize(k)) == name:
            return _normalize(v)
    return default


def _eq(a: Any, b: Any) -> bool:
    return _loose_eq(a, b)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "floor": _floor,
    "ceil": _ceil,
    "round": _round,
    "min": _min_max(min),
    "max": _min_max(max),
    "abs": _abs,
    "pow": _pow,
    "len": _len,
    "lookup": _lookup,
    "eq": _eq,
}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: lambda a, b: _to_number(a) - _to_number(b),
    ast.Mult: lambda a, b: _to_number(a) * _to_number(b),
    ast.Div: _div,
    ast.FloorDiv: lambda a, b: _floor(_div(a, b)),
    ast.Mod: _mod,
    ast.Pow: _pow,
}

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: _strict_eq,
    ast.NotEq: lambda a, b: not _strict_eq(a, b),
    ast.Lt: lambda a, b: _less(a, b, False),
    ast.LtE: lambda a, b: _less(a, b, True),
    ast.Gt: lambda a, b: _less(b, a, False),
    ast.GtE: lambda a, b: _less(b, a, True),
}

_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts (use lookup(table, key))",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "assignments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.JoinedStr: "f-strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Starred: "unpacking",
    ast.Slice: "slices",
}


# --- compilation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    problems: tuple[str, ...]
    names: frozenset[str]
    run: _Fn | None


def _where(node: ast.AST) -> str:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0) + 1
    return f"at column {col}" if line == 1 else f"at line {line}, column {col}"


def _depth(tree: ast.AST) -> int:
    """Nesting depth, computed without recursion so a deep tree cannot overflow the stack."""
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


class _Compiler:
    """Checks a syntax tree against the language and turns it into nested closures."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.names: set[str] = set()

    def problem(self, node: ast.AST, message: str) -> _Fn:
        self.problems.append(f"{message} {_where(node)}")
        return _none

    def expr(self, node: ast.AST) -> _Fn:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            name = node.id
            self.names.add(name)
            return lambda values: _normalize(values.get(name))
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                return self.problem(node, f"operator {type(node.op).__name__} is not allowed")
            if isinstance(node.op, ast.Pow):
                self.check_exponent(node.right)
            left, right = self.expr(node.left), self.expr(node.right)
            return lambda values: op(left(values), right(values))
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda values: -_to_number(operand(values))
            if isinstance(node.op, ast.UAdd):
                return lambda values: _to_number(operand(values))
            if isinstance(node.op, ast.Not):
                return lambda values: not _truthy(operand(values))
            return self.problem(node, "operator ~ is not allowed")
        if isinstance(node, ast.BoolOp):
            parts = [self.expr(v) for v in node.values]
            return _or(parts) if isinstance(node.op, ast.Or) else _and(parts)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            test, body, orelse = self.expr(node.test), self.expr(node.body), self.expr(node.orelse)
            return lambda values: body(values) if _truthy(test(values)) else orelse(values)
        if isinstance(node, ast.Dict):
            return self.table(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        what = _REFUSED_NODES.get(type(node), type(node).__name__)
        return self.problem(node, f"{what} not allowed")

    def constant(self, node: ast.Constant) -> _Fn:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return lambda values: value
        if isinstance(value, int | float):
            number = _normalize(value)
            return lambda values: number
        return self.problem(node, f"a {type(value).__name__} literal is not allowed")

    def check_exponent(self, node: ast.AST) -> None:
        exponent = node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            exponent = node.operand
        if (
            isinstance(exponent, ast.Constant)
            and isinstance(exponent.value, int | float)
            and not isinstance(exponent.value, bool)
            and abs(exponent.value) > MAX_EXPONENT
        ):
            self.problem(node, f"exponent above {MAX_EXPONENT}")

    def compare(self, node: ast.Compare) -> _Fn:
        ops: list[Callable[[Any, Any], bool]] = []
        for op in node.ops:
            fn = _COMPARE.get(type(op))
            if fn is None:
                return self.problem(node, f"comparison {type(op).__name__} is not allowed")
            ops.append(fn)
        operands = [self.expr(node.left), *(self.expr(c) for c in node.comparators)]

        def run(values: Values) -> bool:
            left = operands[0](values)
            for op, operand in zip(ops, operands[1:], strict=True):
                right = operand(values)
                if not op(left, right):
                    return False
                left = right
            return True

        return run

    def table(self, node: ast.Dict) -> _Fn:
        keys: list[str] = []
        for key in node.keys:
            if key is None:
                return self.problem(node, "** unpacking in a table is not allowed")
            if not isinstance(key, ast.Constant) or not isinstance(key.value, str | int | float):
                return self.problem(key, "a table key must be a string or number literal")
            keys.append(_property_key(_normalize(key.value)))
        entries = [self.expr(v) for v in node.values]

        def run(values: Values) -> dict[str, Any]:
            return {k: e(values) for k, e in zip(keys, entries, strict=True)}

        return run

    def call(self, node: ast.Call) -> _Fn:
        if not isinstance(node.func, ast.Name):
            self.expr(node.func)  # report what is being called, too
            return self.problem(node, "only calls of the built-in functions are allowed")
        name = node.func.id
        fn = _FUNCTIONS.get(name)
        if fn is None:
            allowed = ", ".join(sorted(_FUNCTIONS))
            return self.problem(node, f"unknown function {name!r} (allowed: {allowed})")
        if node.keywords:
            return self.problem(node, f"{name}() takes no keyword arguments")
        low, high = FUNCTION_ARITY[name]
        if not low <= len(node.args) <= high:
            count = f"{low}" if low == high else f"{low} to {high}"
            return self.problem(node, f"{name}() takes {count} arguments, not {len(node.args)}")
        if name == "pow":
            self.check_exponent(node.args[1])
        args = [self.expr(a) for a in node.args]
        return lambda values: fn(*(a(values) for a in args))


def _none(values: Values) -> None:
    return None


def _or(parts: list[_Fn]) -> _Fn:
    def run(values: Values) -> Any:
        value = None
        for part in parts:
            value = part(values)
            if _truthy(value):
                return value
        return value

    return run


def _and(parts: list[_Fn]) -> _Fn:
    def run(values: Values) -> Any:
        value = None
        for part in parts:
            value = part(values)
            if not _truthy(value):
                return value
        return value

    return run


@lru_cache(maxsize=1024)
def _compile(expression: str) -> _Compiled:
    """Parse and check once per distinct expression; both public functions share it."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return _Compiled(
            (f"expression is {len(expression)} characters, above {MAX_EXPRESSION_LENGTH}",),
            frozenset(),
            None,
        )
    if not expression.strip():
        return _Compiled(("expression is empty",), frozenset(), None)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        return _Compiled((f"syntax error{where}: {e.msg}",), frozenset(), None)
    except (ValueError, RecursionError, MemoryError) as e:  # huge literals, deep nesting
        return _Compiled((f"expression cannot be parsed: {e}",), frozenset(), None)
    if _depth(tree) > MAX_DEPTH:
        return _Compiled((f"expression nests deeper than {MAX_DEPTH}",), frozenset(), None)
    compiler = _Compiler()
    run = compiler.expr(tree.body)
    problems = tuple(compiler.problems)
    return _Compiled(problems, frozenset(compiler.names), None if problems else run)


# --- public API -----------------------------------------------------------------------------


def check_cost_expression(expression: str, field_ids: Collection[str]) -> list[str]:
    """Problems with a cost expression for a component with these fields; empty when fine.

    Checked when a component is registered, so a bad price is refused then rather than
    failing every generation later.
    """
    if not isinstance(expression, str):
        return [f"expression must be a string, not {type(expression).__name__}"]
    compiled = _compile(expression)
    problems = list(compiled.problems)
    known = set(field_ids)
    for name in sorted(compiled.names - known):
        fields = ", ".join(sorted(known)) or "none"
        problems.append(f"unknown field {name!r} (the component's fields: {fields})")
    return problems


def evaluate_cost(expression: str, values: Mapping[str, Any]) -> Decimal:
    """The cost of one generation with these field values: finite, >= 0, 6 decimal places.

    Raises CostExpressionError naming the problem when the expression is malformed or its
    value is not a usable cost. Fields missing from ``values`` are ``None``.
    """
    if not isinstance(expression, str):
        raise CostExpressionError(f"expression must be a string, not {type(expression).__name__}")
    compiled = _compile(expression)
    if compiled.run is None:
        raise CostExpressionError("invalid cost expression: " + "; ".join(compiled.problems))
    try:
        result = compiled.run(values)
    except CostExpressionError:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError) as e:  # a safety net
        raise CostExpressionError(f"cost expression failed: {type(e).__name__}: {e}") from e
    if isinstance(result, bool) or not isinstance(result, int | float):
        raise CostExpressionError(f"cost is a {_kind(result)}, not a number")
    number = float(result)
    if not math.isfinite(number):
        raise CostExpressionError(f"cost is {number_to_js_string(number)}, not a finite number")
    if number < 0:
        raise CostExpressionError(f"cost is negative ({number_to_js_string(number)})")
    cost = Decimal(repr(number))
    if cost > MAX_COST:
        raise CostExpressionError(f"cost {cost} is above the maximum {MAX_COST}")
    return cost.quantize(_QUANTUM, rounding=ROUND_HALF_UP) + Decimal(0)  # no "-0"
