"""Translate the original platform's ``credits.js`` into a cost expression (see ``cost``).

The original platform priced a component with JavaScript, ``function computeCost(context)
{ ... return { cost, details }; }``, run on its server. We never run code from the
database, so at import the file is parsed (with esprima, a real JavaScript parser) and
executed symbolically: every variable holds an expression over the form fields, an ``if``
turns the variables it assigns into conditionals, and the returned ``cost`` becomes the
component's cost expression. What cannot be expressed that way (loops, calls other than
``Math.*``, writes to ``context`` ...) is refused with the construct and its line, for a
person to price by hand.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import esprima

from emprops.components.cost import (
    MAX_EXPRESSION_LENGTH,
    check_cost_expression,
    number_to_js_string,
)

__all__ = ["CreditsTranslationError", "translate_credits_js"]


class CreditsTranslationError(ValueError):
    """A ``credits.js`` that cannot be turned into a cost expression; says what and where."""


class _ContextRef:
    """The ``context`` argument itself: only its members are values."""


_CONTEXT = _ContextRef()
Sym = ast.expr | _ContextRef

_MATH_FUNCTIONS: dict[str, tuple[int, int]] = {
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (1, 1),
    "abs": (1, 1),
    "pow": (2, 2),
    "min": (1, 64),
    "max": (1, 64),
}
_MATH_CONSTANTS = {"PI": math.pi, "E": math.e, "LN2": math.log(2), "LN10": math.log(10)}
_ARITHMETIC: dict[str, ast.operator] = {
    "+": ast.Add(),
    "-": ast.Sub(),
    "*": ast.Mult(),
    "/": ast.Div(),
    "%": ast.Mod(),
    "**": ast.Pow(),
}
_ORDER: dict[str, ast.cmpop] = {"<": ast.Lt(), "<=": ast.LtE(), ">": ast.Gt(), ">=": ast.GtE()}


@dataclass(frozen=True)
class _Binding:
    value: Sym
    const: bool


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name


_MAX_STEPS = 20_000
"""Statements executed symbolically; branches that each return re-run what follows them."""

_PUSH = _Marker("push")
_POP = _Marker("pop")


class _Env:
    """Lexical scopes of symbolic values; copied at each branch of an ``if``."""

    def __init__(self, scopes: list[dict[str, _Binding]] | None = None) -> None:
        self.scopes = scopes if scopes is not None else [{}]

    def copy(self) -> _Env:
        return _Env([dict(s) for s in self.scopes])

    def find(self, name: str) -> dict[str, _Binding] | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope
        return None


def _line(node: Any) -> str:
    loc = getattr(node, "loc", None)
    return f"line {loc.start.line}" if loc is not None else "an unknown line"


def _const(value: Any) -> ast.expr:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _call(name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _static_truth(node: ast.expr) -> bool | None:
    """JavaScript truthiness of a value known at translation time, else None."""
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None or v is False or v == "" or (isinstance(v, int | float) and v == 0):
            return False
        return not (isinstance(v, float) and math.isnan(v))
    if isinstance(node, ast.Dict):
        return True
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        return _static_truth(node.operand)
    return None


def _tree_size(node: ast.AST, memo: dict[int, int]) -> int:
    """Nodes in the printed expression; shared subtrees count each time they print."""
    key = id(node)
    if key not in memo:
        memo[key] = 1 + sum(_tree_size(c, memo) for c in ast.iter_child_nodes(node))
    return memo[key]


def _same(a: Sym, b: Sym) -> bool:
    if a is b:
        return True
    if isinstance(a, _ContextRef) or isinstance(b, _ContextRef):
        return False
    memo: dict[int, int] = {}
    if _tree_size(a, memo) > 2000 or _tree_size(b, memo) > 2000:
        return False
    return ast.dump(a) == ast.dump(b)


def _if(test: ast.expr, body: ast.expr, orelse: ast.expr) -> ast.expr:
    truth = _static_truth(test)
    if truth is not None:
        return body if truth else orelse
    if _same(body, orelse):
        return body
    return ast.IfExp(test, body, orelse)


def _has_return(node: Any) -> bool:
    if node is None:
        return False
    kind = node.type
    if kind == "ReturnStatement":
        return True
    if kind == "BlockStatement":
        return any(_has_return(s) for s in node.body)
    if kind == "IfStatement":
        return _has_return(node.consequent) or _has_return(node.alternate)
    return False


class _Translator:
    def __init__(self, source: str, field_ids: Collection[str]) -> None:
        self.source = source
        self.fields = set(field_ids)
        self.steps = 0

    def fail(self, node: Any, message: str) -> CreditsTranslationError:
        return CreditsTranslationError(f"{message} at {_line(node)}")

    def snippet(self, node: Any) -> str:
        span = getattr(node, "range", None)
        if not span:
            return str(node.type)
        text = " ".join(self.source[span[0] : span[1]].split())
        return text if len(text) <= 60 else text[:57] + "..."

    # --- statements -------------------------------------------------------------------------

    def run(self, items: list[Any], env: _Env) -> ast.expr | None:
        """Execute statements symbolically; the returned cost, or None if control falls off."""
        for index, item in enumerate(items):
            if item is _PUSH:
                env.scopes.append({})
                continue
            if item is _POP:
                env.scopes.pop()
                continue
            self.steps += 1
            if self.steps > _MAX_STEPS:
                raise self.fail(item, "too many branches to translate (the paths multiply)")
            kind = item.type
            if kind == "VariableDeclaration":
                self.declare(item, env)
            elif kind == "ExpressionStatement":
                self.expression_statement(item, env)
            elif kind == "BlockStatement":
                return self.run([_PUSH, *item.body, _POP, *items[index + 1 :]], env)
            elif kind == "EmptyStatement":
                continue
            elif kind == "ReturnStatement":
                return self.returned(item, env)
            elif kind == "IfStatement":
                return self.if_statement(item, items[index + 1 :], env)
            elif kind in ("ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement"):
                raise self.fail(item, f"a loop ({kind}) cannot be translated")
            elif kind == "DoWhileStatement":
                raise self.fail(item, "a loop (DoWhileStatement) cannot be translated")
            else:
                raise self.fail(item, f"statement {kind} ({self.snippet(item)}) is not supported")
        return None

    def block(self, node: Any) -> list[Any]:
        if node is None:
            return []
        body = node.body if node.type == "BlockStatement" else [node]
        return [_PUSH, *body, _POP]

    def if_statement(self, node: Any, rest: list[Any], env: _Env) -> ast.expr | None:
        test = self.value(node.test, env)
        truth = _static_truth(test)
        if truth is not None:  # a branch known at translation time
            taken = node.consequent if truth else node.alternate
            return self.run([*self.block(taken), *rest], env)
        if _has_return(node.consequent) or _has_return(node.alternate):
            # A branch returns: each branch continues with the rest of the function.
            then_env, else_env = env.copy(), env.copy()
            then = self.run([*self.block(node.consequent), *rest], then_env)
            orelse = self.run([*self.block(node.alternate), *rest], else_env)
            if then is None and orelse is None:
                return None
            none = ast.Constant(None)
            return _if(test, then if then is not None else none, orelse or none)
        # Neither branch returns: run both, then each variable is a conditional.
        then_env, else_env = env.copy(), env.copy()
        self.run(self.block(node.consequent), then_env)
        self.run(self.block(node.alternate), else_env)
        for depth, scope in enumerate(env.scopes):
            for name, binding in scope.items():
                a, b = then_env.scopes[depth][name].value, else_env.scopes[depth][name].value
                if _same(a, b):
                    scope[name] = _Binding(a, binding.const)
                    continue
                if isinstance(a, _ContextRef) or isinstance(b, _ContextRef):
                    raise self.fail(node, f"{name!r} is context on one branch only")
                scope[name] = _Binding(_if(test, a, b), binding.const)
        return self.run(rest, env)

    def declare(self, node: Any, env: _Env) -> None:
        if node.kind not in ("const", "let", "var"):
            raise self.fail(node, f"declaration kind {node.kind!r} is not supported")
        const = node.kind == "const"
        for declarator in node.declarations:
            value: Sym = (
                ast.Constant(None) if declarator.init is None else self.sym(declarator.init, env)
            )
            self.bind(declarator.id, value, const, env)

    def bind(self, target: Any, value: Sym, const: bool, env: _Env) -> None:
        kind = target.type
        if kind == "Identifier":
            env.scopes[-1][target.name] = _Binding(value, const)
        elif kind == "ObjectPattern":
            for prop in target.properties:
                if prop.type != "Property" or prop.computed:
                    raise self.fail(prop, f"destructuring {self.snippet(prop)} is not supported")
                key = self.property_name(prop.key)
                self.bind(prop.value, self.member(value, ast.Constant(key), prop), const, env)
        elif kind == "AssignmentPattern":  # `{ steps = 20 } = context`: default if undefined
            current = self.expect_value(value, target)
            default = self.value(target.right, env)
            is_undefined = ast.Compare(current, [ast.Eq()], [ast.Constant(None)])
            self.bind(target.left, _if(is_undefined, default, current), const, env)
        else:
            raise self.fail(target, f"binding pattern {kind} is not supported")

    def expression_statement(self, node: Any, env: _Env) -> None:
        if node.directive:  # "use strict"
            return
        expr = node.expression
        if expr.type == "CallExpression" and self.is_console(expr.callee):
            return  # logging: no effect on the cost
        if expr.type == "AssignmentExpression":
            self.assign(expr, env)
            return
        if expr.type == "UpdateExpression":
            current = self.assignable(expr.argument, env)
            op = ast.Add() if expr.operator == "++" else ast.Sub()
            new = ast.BinOp(ast.UnaryOp(ast.UAdd(), current), op, ast.Constant(1))
            self.store(expr.argument, new, env)
            return
        raise self.fail(node, f"statement {self.snippet(node)} has no translation")

    def is_console(self, callee: Any) -> bool:
        return bool(
            callee.type == "MemberExpression"
            and callee.object.type == "Identifier"
            and callee.object.name == "console"
        )

    def assignable(self, target: Any, env: _Env) -> ast.expr:
        if target.type != "Identifier":
            raise self.fail(target, f"assignment to {self.snippet(target)} is not supported")
        scope = env.find(target.name)
        if scope is None:
            raise self.fail(target, f"assignment to undeclared variable {target.name!r}")
        binding = scope[target.name]
        if binding.const:
            raise self.fail(target, f"assignment to constant {target.name!r}")
        return self.expect_value(binding.value, target)

    def store(self, target: Any, value: Sym, env: _Env) -> None:
        scope = env.find(target.name)
        assert scope is not None  # checked by assignable()
        scope[target.name] = _Binding(value, False)

    def assign(self, node: Any, env: _Env) -> None:
        target, op = node.left, node.operator
        if target.type != "Identifier":
            raise self.fail(target, f"assignment to {self.snippet(target)} is not supported")
        current = self.assignable(target, env)
        if op == "=":
            self.store(target, self.sym(node.right, env), env)
            return
        right = self.value(node.right, env)
        if op[:-1] in _ARITHMETIC:
            self.store(target, ast.BinOp(current, _ARITHMETIC[op[:-1]], right), env)
        elif op == "||=":
            self.store(target, self.logical("||", current, right), env)
        elif op == "&&=":
            self.store(target, self.logical("&&", current, right), env)
        elif op == "??=":
            self.store(target, self.nullish(current, right), env)
        else:
            raise self.fail(node, f"assignment operator {op} is not supported")

    def returned(self, node: Any, env: _Env) -> ast.expr:
        argument = node.argument
        if argument is None:
            raise self.fail(node, "return without a value")
        if argument.type == "ObjectExpression":
            for prop in argument.properties:
                if (
                    prop.type == "Property"
                    and not prop.computed
                    and self.property_name(prop.key) == "cost"
                ):
                    return self.value(prop.value, env)  # details and the rest are dropped
            raise self.fail(node, "the returned object has no cost property")
        result = self.value(argument, env)
        if isinstance(result, ast.Constant | ast.UnaryOp | ast.BinOp):
            raise self.fail(node, "computeCost must return an object like { cost: ... }")
        return self.expect_value(self.member(result, ast.Constant("cost"), node), node)

    # --- expressions ------------------------------------------------------------------------

    def value(self, node: Any, env: _Env) -> ast.expr:
        return self.expect_value(self.sym(node, env), node)

    def expect_value(self, sym: Sym, node: Any) -> ast.expr:
        if isinstance(sym, _ContextRef):
            raise self.fail(node, "context itself cannot be used as a value, only its fields")
        return sym

    def sym(self, node: Any, env: _Env) -> Sym:
        kind = node.type
        if kind == "Literal":
            return self.literal(node)
        if kind == "Identifier":
            return self.identifier(node, env)
        if kind == "MemberExpression":
            return self.member_expression(node, env)
        if kind == "CallExpression":
            return self.call(node, env)
        if kind == "BinaryExpression":
            return self.binary(node, env)
        if kind == "LogicalExpression":
            left, right = self.value(node.left, env), self.value(node.right, env)
            if node.operator == "??":
                return self.nullish(left, right)
            return self.logical(node.operator, left, right)
        if kind == "UnaryExpression":
            return self.unary(node, env)
        if kind == "ConditionalExpression":
            test = self.value(node.test, env)
            return _if(test, self.value(node.consequent, env), self.value(node.alternate, env))
        if kind == "ObjectExpression":
            return self.object_literal(node, env)
        if kind == "TemplateLiteral":
            raise self.fail(node, "template strings are not supported in a cost")
        if kind in ("ArrowFunctionExpression", "FunctionExpression"):
            raise self.fail(node, "functions inside computeCost are not supported")
        if kind == "AssignmentExpression":
            raise self.fail(node, "assignment inside an expression is not supported")
        raise self.fail(node, f"expression {kind} ({self.snippet(node)}) is not supported")

    def literal(self, node: Any) -> ast.expr:
        if node.regex is not None:
            raise self.fail(node, "regular expressions are not supported")
        value = node.value
        if value is None or isinstance(value, bool | str):
            return ast.Constant(value)
        if isinstance(value, int | float):
            return _const(float(value))
        raise self.fail(node, f"literal {node.raw} is not supported")

    def identifier(self, node: Any, env: _Env) -> Sym:
        name = node.name
        scope = env.find(name)
        if scope is not None:
            return scope[name].value
        if name == "undefined":
            return ast.Constant(None)
        raise self.fail(node, f"unknown identifier {name!r}")

    def field(self, name: str, node: Any) -> ast.expr:
        if name not in self.fields:
            # The original passed the form's values as `context`: a name the form does not
            # have was `undefined` there, and is None here (e.g. `max_tokens || 200`).
            return ast.Constant(None)
        if not name.isidentifier() or keyword.iskeyword(name):
            raise self.fail(node, f"field {name!r} cannot be named in a cost expression")
        return ast.Name(name, ast.Load())

    def property_name(self, key: Any) -> str:
        if key.type == "Identifier":
            return str(key.name)
        if key.type == "Literal" and isinstance(key.value, str):
            return key.value
        if key.type == "Literal" and isinstance(key.value, int | float):
            return number_to_js_string(float(key.value))
        raise self.fail(key, f"property name {self.snippet(key)} is not supported")

    def member_expression(self, node: Any, env: _Env) -> Sym:
        obj = node.object
        if obj.type == "Identifier" and obj.name == "Math" and env.find("Math") is None:
            name = None if node.computed else node.property.name
            if name in _MATH_CONSTANTS:
                return ast.Constant(_MATH_CONSTANTS[name])
            raise self.fail(node, f"{self.snippet(node)} is not supported")
        target = self.sym(obj, env)
        key = self.value(node.property, env) if node.computed else ast.Constant(node.property.name)
        return self.member(target, key, node)

    def member(self, target: Sym, key: ast.expr, node: Any) -> Sym:
        """``target[key]``, folded where the table and key are known."""
        if isinstance(target, _ContextRef):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise self.fail(node, "context may only be read by field name")
            return self.field(key.value, node)
        if isinstance(key, ast.Constant) and key.value == "length":
            return _call("len", target)
        if isinstance(key, ast.Constant) and isinstance(key.value, str | int | float):
            name = (
                key.value if isinstance(key.value, str) else number_to_js_string(float(key.value))
            )
            if isinstance(target, ast.Dict) and all(
                isinstance(k, ast.Constant) for k in target.keys
            ):
                found: ast.expr = ast.Constant(None)
                for k, v in zip(target.keys, target.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value == name:
                        found = v  # the last duplicate wins, as in JavaScript
                return found
            if isinstance(target, ast.IfExp):
                then = self.expect_value(self.member(target.body, key, node), node)
                orelse = self.expect_value(self.member(target.orelse, key, node), node)
                return ast.IfExp(target.test, then, orelse)
        return _call("lookup", target, key)

    def call(self, node: Any, env: _Env) -> ast.expr:
        callee = node.callee
        if any(a.type == "SpreadElement" for a in node.arguments):
            raise self.fail(node, "spread arguments are not supported")
        if (
            callee.type == "MemberExpression"
            and not callee.computed
            and callee.object.type == "Identifier"
            and callee.object.name == "Math"
            and env.find("Math") is None
            and callee.property.name in _MATH_FUNCTIONS
        ):
            name = callee.property.name
            low, high = _MATH_FUNCTIONS[name]
            if len(node.arguments) < low:
                raise self.fail(node, f"Math.{name} needs {low} argument(s)")
            args = [self.value(a, env) for a in node.arguments[:high]]  # JS ignores extras
            return _call(name, *args)
        if callee.type == "Identifier" and callee.name == "Number" and env.find("Number") is None:
            if len(node.arguments) != 1:
                raise self.fail(node, "Number() takes one argument here")
            return ast.UnaryOp(ast.UAdd(), self.value(node.arguments[0], env))
        if self.is_console(callee):
            raise self.fail(node, "console calls are only allowed as statements")
        raise self.fail(node, f"call of {self.snippet(callee)} is not supported")

    def binary(self, node: Any, env: _Env) -> ast.expr:
        op = node.operator
        left, right = self.value(node.left, env), self.value(node.right, env)
        if op in _ARITHMETIC:
            return ast.BinOp(left, _ARITHMETIC[op], right)
        if op == "===":
            return ast.Compare(left, [ast.Eq()], [right])
        if op == "!==":
            return ast.Compare(left, [ast.NotEq()], [right])
        if op == "==":
            return _call("eq", left, right)
        if op == "!=":
            return ast.UnaryOp(ast.Not(), _call("eq", left, right))
        if op in _ORDER:
            return ast.Compare(left, [_ORDER[op]], [right])
        raise self.fail(node, f"operator {op} is not supported")

    def logical(self, op: str, left: ast.expr, right: ast.expr) -> ast.expr:
        truth = _static_truth(left)
        if op == "||":
            if truth is not None:
                return left if truth else right
            return ast.BoolOp(ast.Or(), [left, right])
        if truth is not None:
            return right if truth else left
        return ast.BoolOp(ast.And(), [left, right])

    def nullish(self, left: ast.expr, right: ast.expr) -> ast.expr:
        return _if(ast.Compare(left, [ast.Eq()], [ast.Constant(None)]), right, left)

    def unary(self, node: Any, env: _Env) -> ast.expr:
        op = node.operator
        operand = self.value(node.argument, env)
        if op == "-":
            if isinstance(operand, ast.Constant) and isinstance(operand.value, int | float):
                return _const(-float(operand.value))
            return ast.UnaryOp(ast.USub(), operand)
        if op == "+":
            return ast.UnaryOp(ast.UAdd(), operand)
        if op == "!":
            return ast.UnaryOp(ast.Not(), operand)
        raise self.fail(node, f"operator {op} is not supported")

    def object_literal(self, node: Any, env: _Env) -> ast.expr:
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        for prop in node.properties:
            if prop.type != "Property" or prop.computed or prop.kind != "init" or prop.method:
                raise self.fail(prop, f"object member {self.snippet(prop)} is not supported")
            keys.append(ast.Constant(self.property_name(prop.key)))
            values.append(self.value(prop.value, env))
        return ast.Dict(keys, values)

    # --- the file ---------------------------------------------------------------------------

    def translate(self) -> str:
        program = self.parse()
        top = _Env()
        function: Any = None
        default_export: Any = None
        for statement in program.body:
            kind = statement.type
            if kind == "FunctionDeclaration" and statement.id.name == "computeCost":
                function = self.take(function, statement)
            elif kind == "ExportNamedDeclaration" and statement.declaration is not None:
                declaration = statement.declaration
                if (
                    declaration.type == "FunctionDeclaration"
                    and declaration.id.name == "computeCost"
                ):
                    function = self.take(function, declaration)
                elif declaration.type == "VariableDeclaration":
                    self.declare(declaration, top)
                else:
                    raise self.fail(
                        statement, f"export {self.snippet(declaration)} is not supported"
                    )
            elif kind == "ExportDefaultDeclaration":
                declaration = statement.declaration
                if (
                    declaration.type == "FunctionDeclaration"
                    and declaration.id is not None
                    and declaration.id.name == "computeCost"
                ):
                    function = self.take(function, declaration)
                elif not (declaration.type == "Identifier" and declaration.name == "computeCost"):
                    default_export = statement
            elif kind == "VariableDeclaration":
                self.declare(statement, top)
            elif kind == "EmptyStatement" or (
                kind == "ExpressionStatement"
                and (statement.directive or self.is_module_export(statement.expression))
            ):
                continue
            else:
                raise self.fail(statement, f"top-level {self.snippet(statement)} is not supported")
        if function is None:
            if default_export is not None:
                raise self.fail(
                    default_export,
                    "no function computeCost: the file exports a default "
                    f"{default_export.declaration.type} instead (an attribution list, not a price)",
                )
            raise CreditsTranslationError("the file defines no function computeCost")
        return self.function(function, top)

    def parse(self) -> Any:
        options = {"loc": True, "range": True}
        try:
            return esprima.parseScript(self.source, options)
        except esprima.Error as script_error:
            try:
                return esprima.parseModule(self.source, options)
            except esprima.Error:
                raise CreditsTranslationError(f"JavaScript syntax error: {script_error}") from None

    def take(self, existing: Any, function: Any) -> Any:
        if existing is not None:
            raise self.fail(function, "computeCost is defined twice")
        return function

    def is_module_export(self, expr: Any) -> bool:
        """``module.exports = ...`` / ``exports.x = ...``: packaging, not pricing."""
        if expr.type != "AssignmentExpression" or expr.left.type != "MemberExpression":
            return False
        target = expr.left
        while target.type == "MemberExpression":
            if target.object.type == "Identifier" and target.object.name in ("module", "exports"):
                return True
            target = target.object
        return False

    def function(self, function: Any, top: _Env) -> str:
        if function.generator or function.isAsync:
            raise self.fail(function, "computeCost must be a plain (not async) function")
        env = top.copy()
        env.scopes.append({})
        if len(function.params) > 1:
            raise self.fail(function, "computeCost takes one argument, context")
        if function.params:
            self.bind(function.params[0], _CONTEXT, False, env)
        result = self.run(list(function.body.body), env)
        if result is None:
            raise self.fail(function, "computeCost never returns a cost")
        size = _tree_size(result, {})
        if size > MAX_EXPRESSION_LENGTH:
            raise CreditsTranslationError(
                f"the translated cost has {size} parts, too large to store (branches multiply)"
            )
        expression = ast.unparse(result)
        if len(expression) > MAX_EXPRESSION_LENGTH:
            raise CreditsTranslationError(
                f"the translated cost is {len(expression)} characters, above "
                f"{MAX_EXPRESSION_LENGTH}"
            )
        problems = check_cost_expression(expression, self.fields)
        if problems:
            raise self.fail(
                function,
                "the translated cost is not a valid cost expression (" + "; ".join(problems) + ")",
            )
        return expression


def translate_credits_js(source: str, field_ids: Collection[str]) -> str:
    """The cost expression equivalent to a ``credits.js`` file's ``computeCost(context)``.

    ``context.<field>`` must name one of ``field_ids``. Raises CreditsTranslationError
    saying which construct, on which line, could not be translated.
    """
    try:
        return _Translator(source, field_ids).translate()
    except RecursionError:
        raise CreditsTranslationError("the file nests too deeply to translate") from None
