"""Translating credits.js: each translation is checked against node running the file itself.

The fixtures below are written for these tests in the shapes the original platform's
component library uses (constants, step pricing, tile-based upscaling, if/else-if chains
on a model, per-second video pricing, an OpenAI-style token estimate with a pricing table,
a job-type table); the expected costs come from JavaScript, not from numbers typed here.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emprops.components.cost import CostExpressionError, check_cost_expression, evaluate_cost
from emprops.components.credits_js import CreditsTranslationError, translate_credits_js
from tests.strict import need

_NODE = shutil.which("node")


def _require_node() -> str:
    need(_NODE, "node is not installed: cannot cross-check translations against JavaScript")
    assert _NODE is not None
    return _NODE


# Runs the fixture's computeCost on each context read from stdin; reports the cost, or that
# it is not a finite non-negative number, or that it threw.
_HARNESS = """
console.log = (...args) => process.stderr.write(args.join(" ") + "\\n");
%s
const contexts = JSON.parse(require("fs").readFileSync(0, "utf8"));
const results = contexts.map((context) => {
  try {
    const cost = computeCost(context).cost;
    if (typeof cost === "number" && Number.isFinite(cost) && cost >= 0) return { ok: cost };
    return { bad: String(cost) };
  } catch (e) {
    return { threw: String(e) };
  }
});
process.stdout.write(JSON.stringify(results));
"""


def _run_js(source: str, contexts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = _require_node()
    done = subprocess.run(
        [node, "-e", _HARNESS % source],
        input=json.dumps(contexts),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def _cross_check(source: str, fields: list[str], contexts: list[dict[str, Any]]) -> str:
    """Translate, then demand the same cost as JavaScript for every context."""
    expression = translate_credits_js(source, fields)
    js_results = _run_js(source, contexts)
    for context, js in zip(contexts, js_results, strict=True):
        if "ok" in js:
            expected = Decimal(repr(float(js["ok"]))).quantize(
                Decimal("0.000001"), rounding=ROUND_HALF_UP
            )
            got = evaluate_cost(expression, context)
            assert got == expected, (expression, context, js)
        else:  # JavaScript gives NaN, a string, undefined or throws: no usable cost
            with pytest.raises(CostExpressionError):
                evaluate_cost(expression, context)
    return expression


def _numbers(rng: random.Random) -> Any:
    return rng.choice(
        [
            rng.randint(-50, 4096),
            round(rng.uniform(-10, 5000), rng.randint(0, 4)),
            0,
            1,
            20,
            512,
            2048,
            None,
        ]
    )


def _contexts(fields: dict[str, Any], count: int = 120, seed: int = 7) -> list[dict[str, Any]]:
    """Random contexts; a field whose generator returns None is left out (undefined)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        context = {}
        for name, make in fields.items():
            value = make(rng)
            if value is not None:
                context[name] = value
        out.append(context)
    return out


CONSTANT = """
function computeCost() {
  return { cost: 2 };
}
"""

FRACTIONAL = """
// a flat quarter credit per image
function computeCost(context) {
  return { cost: 0.25, details: { note: "flat" } };
}
"""

STEPS = """
function computeCost(context) {
  const { steps } = context;
  const stepsCost = 1 + steps - 20 < 0 ? 1 : 1 + (steps - 20) * 0.1;
  return { cost: stepsCost };
}
"""

UPSCALE = """
function computeCost(context) {
  const outputSize = context.output_size;
  const tileSize = 512;
  const cost = Math.floor(Math.pow(outputSize / tileSize, 2) / 8 + 2 + outputSize / 1000);
  return {
    cost,
    details: { tiles: Math.pow(outputSize / tileSize, 2), outputSize },
  };
}
"""

MODEL_CHAIN = """
function computeCost(context) {
  let cost = 3;
  if (context.model == 0) {
    cost = 3;
  } else if (context.model == 1) {
    cost = 5;
  } else if (context.model == 2) {
    cost = 8;
  } else {
    cost = 11;
  }
  return { cost: cost, details: { model: context.model } };
}
"""

VIDEO = """
function computeCost(context) {
  const time = context.length * 15;
  const credits = time / 10;
  return { cost: credits * 0.25 };
}
"""

OPENAI = """
function computeCost(context) {
  // USD per 1000 tokens
  const pricing = {
    'gpt-4o': { input: 0.0025, output: 0.01 },
    'gpt-4o-mini': { input: 0.00015, output: 0.0006 },
    'o1-mini': { input: 0.003, output: 0.012 },
  };
  const model = context.model;
  const modelPricing = pricing[model] || pricing['gpt-4o-mini'];
  const inputTokens = Math.ceil((context.prompt || '').length / 4);
  const outputTokens = context.max_tokens || 200;
  const usd = (inputTokens * modelPricing.input + outputTokens * modelPricing.output) / 1000;
  const credits = Math.max(0.01, Math.round(usd * 10000) / 100);
  return { cost: credits, details: { inputTokens, outputTokens, usd } };
}
"""

JOB_TYPE = """
function computeCost(context) {
  console.log("computing cost for", JSON.stringify(context));
  const { job_type } = context;
  const pricing = { image: 0.5, video: 4, upscale: 1.25 };
  const cost = pricing[job_type] || 0.25;
  return { cost };
}
"""

ATTRIBUTION = """
export default {
  name: "Some Model",
  credits: [
    { author: "Someone", url: "https://example.com/model", license: "CC-BY-4.0" },
  ],
};
"""


def _model_names(rng: random.Random) -> Any:
    return rng.choice(["gpt-4o", "gpt-4o-mini", "o1-mini", "gpt-5", "", None, 0])


def _prompts(rng: random.Random) -> Any:
    return rng.choice([None, "", "a cat", "x" * rng.randint(0, 2000), "éé😀 a prompt"])


@pytest.mark.parametrize(
    ("source", "fields", "generators"),
    [
        pytest.param(CONSTANT, [], {}, id="constant"),
        pytest.param(FRACTIONAL, [], {}, id="fractional"),
        pytest.param(STEPS, ["steps"], {"steps": _numbers}, id="steps"),
        pytest.param(UPSCALE, ["output_size"], {"output_size": _numbers}, id="upscale"),
        pytest.param(
            MODEL_CHAIN,
            ["model"],
            {"model": lambda r: r.choice([0, 1, 2, 3, "0", "1", "2", " 1 ", "x", True, None])},
            id="model-chain",
        ),
        pytest.param(VIDEO, ["length"], {"length": _numbers}, id="video"),
        pytest.param(
            OPENAI,
            ["model", "prompt", "max_tokens"],
            {
                "model": _model_names,
                "prompt": _prompts,
                "max_tokens": lambda r: r.choice([None, 0, 1, 200, 4096, r.randint(1, 9999)]),
            },
            id="openai",
        ),
        pytest.param(
            JOB_TYPE,
            ["job_type"],
            {"job_type": lambda r: r.choice(["image", "video", "upscale", "other", "", None, 1])},
            id="job-type",
        ),
    ],
)
def test_translation_matches_javascript(
    source: str, fields: list[str], generators: dict[str, Any]
) -> None:
    contexts = [{}, *_contexts(generators)]
    expression = _cross_check(source, fields, contexts)
    assert "context" not in expression and "Math" not in expression


def test_translations_read_naturally() -> None:
    assert translate_credits_js(CONSTANT, []) == "2"
    assert translate_credits_js(STEPS, ["steps"]) == (
        "1 if 1 + steps - 20 < 0 else 1 + (steps - 20) * 0.1"
    )
    assert translate_credits_js(MODEL_CHAIN, ["model"]) == (
        "3 if eq(model, 0) else 5 if eq(model, 1) else 8 if eq(model, 2) else 11"
    )
    assert translate_credits_js(JOB_TYPE, ["job_type"]) == (
        "lookup({'image': 0.5, 'video': 4, 'upscale': 1.25}, job_type) or 0.25"
    )
    openai = translate_credits_js(OPENAI, ["model", "prompt", "max_tokens"])
    assert "ceil(len(prompt or '') / 4)" in openai and "max_tokens or 200" in openai


def test_attribution_file_is_refused() -> None:
    with pytest.raises(CreditsTranslationError, match=r"no function computeCost.*attribution"):
        translate_credits_js(ATTRIBUTION, [])


MORE_SHAPES = [
    # early returns, compound assignment, ++, strict equality, destructuring defaults
    # (esprima 4 parses ES2017: no ?? or ?.)
    """
    function computeCost(ctx) {
      const { width = 512, height = 512 } = ctx;
      if (ctx.mode === "draft") return { cost: 0.5 };
      let cost = 1;
      if (width * height > 1024 * 1024) {
        cost += 1;
        if (ctx.hires) { cost *= 2; }
      }
      cost++;
      const extra = ctx.extra || 0;
      return { cost: cost + extra, details: { width, height } };
    }
    """,
    # a returned object held in a variable; a ternary of objects; Math.min/abs; !==
    """
    const BASE = 2;
    function computeCost(context) {
      const big = context.width > 1000 ? { cost: BASE * 2 } : { cost: BASE };
      if (context.mode !== "fast") {
        return big;
      }
      return { cost: Math.min(Math.abs(context.width - 500) / 100, 7) };
    }
    module.exports = { computeCost };
    """,
    # && chains, negation, != and a table with numeric keys
    """
    function computeCost(context) {
      const byCount = { 1: 1, 2: 1.8, 4: 3.2 };
      const n = context.count;
      let cost = byCount[n] || n * 0.9;
      if (!context.hires && context.mode != "x") { cost = cost / 2; }
      return { cost };
    }
    """,
]


@pytest.mark.parametrize("source", MORE_SHAPES)
def test_more_shapes_match_javascript(source: str) -> None:
    fields = ["width", "height", "mode", "hires", "extra", "count"]
    generators = {
        "width": lambda r: r.choice([None, 256, 512, 1024, 2048, r.randint(0, 3000)]),
        "height": lambda r: r.choice([None, 256, 512, 1024, 2048]),
        "mode": lambda r: r.choice([None, "draft", "fast", "x", "slow"]),
        "hires": lambda r: r.choice([None, True, False, 0, 1]),
        "extra": lambda r: r.choice([None, 0, 1.5, 3]),
        "count": lambda r: r.choice([None, 1, 2, 3, 4, "2", 0]),
    }
    _cross_check(source, fields, [{}, *_contexts(generators, count=150)])


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "function computeCost(c) { let x = 0; for (let i = 0; i < 3; i++) { x += 1; } "
            "return { cost: x }; }",
            "loop",
        ),
        (
            "function computeCost(c) { let x = 0; while (x < 3) { x += 1; } return { cost: x }; }",
            "loop",
        ),
        ("function computeCost(c) { return { cost: fetch('x') }; }", "call of fetch"),
        (
            "function computeCost(c) { return { cost: c.steps.toFixed(2) }; }",
            "call of c.steps.toFixed",
        ),
        ("function computeCost(c) { c.steps = 3; return { cost: 1 }; }", "assignment to c.steps"),
        (
            "function computeCost(c) { const x = 1; x = 2; return { cost: x }; }",
            "assignment to constant 'x'",
        ),
        ("function computeCost(c) { return { cost: c[c.steps] }; }", "by field name"),
        ("function computeCost(c) { return { cost: eval('1') }; }", "call of eval"),
        ("function computeCost(c) { return { cost: `${c.steps}` }; }", "template"),
        ("function computeCost(c) { const f = () => 1; return { cost: 1 }; }", "functions"),
        ("function computeCost(c) { return { cost: Math.random() }; }", "Math.random"),
        ("function computeCost(c) { return { cost: Math.pow(c.steps, 500) }; }", "exponent"),
        ("function computeCost(c) { return 5; }", "object like"),
        ("function computeCost(c) { return { price: 5 }; }", "no cost property"),
        ("function computeCost(c) { return { cost: c }; }", "context itself"),
        ("function computeCost(c) { if (c.steps) { return { cost: 1 }; } }", ""),
        ("function computeCost(c) { const x = 1; }", "never returns"),
        (
            "function computeCost(c) { switch (c.steps) { case 1: return { cost: 1 }; } }",
            "SwitchStatement",
        ),
        ("function computeCost(c) { try { return { cost: 1 }; } catch (e) {} }", "TryStatement"),
        (
            "function helper() {} function computeCost(c) { return { cost: 1 }; }",
            "top-level function helper",
        ),
        ("async function computeCost(c) { return { cost: 1 }; }", "async"),
        ("function computeCost(c) { return { cost: 1 ", "syntax error"),
        ("const cost = 3;", "defines no function computeCost"),
        ("function computeCost(c) { return { cost: c.steps | 0 }; }", "operator |"),
        ("function computeCost(c) { return { cost: typeof c.steps }; }", "operator typeof"),
        ("function computeCost(c) { return { cost: [1, 2][0] }; }", "ArrayExpression"),
    ],
)
def test_refused_constructs(source: str, message: str) -> None:
    if message == "":  # falls off on one path: translated; that path has no cost
        expression = translate_credits_js(source, ["steps"])
        assert evaluate_cost(expression, {"steps": 1}) == 1
        with pytest.raises(CostExpressionError, match="None"):
            evaluate_cost(expression, {"steps": 0})
        return
    with pytest.raises(CreditsTranslationError, match=message) as caught:
        translate_credits_js(source, ["steps"])
    assert "line" in str(caught.value).lower() or "computeCost" in str(caught.value)


def test_error_names_the_line() -> None:
    source = "function computeCost(context) {\n  let x = 1;\n  do { x++; } while (x < 3);\n  return { cost: x };\n}"
    with pytest.raises(CreditsTranslationError, match="at line 3"):
        translate_credits_js(source, [])


def test_exponential_branching_is_refused_not_expanded() -> None:
    body = "let a = context.steps;\n" + "a = a + a;\n" * 40
    source = f"function computeCost(context) {{\n{body} return {{ cost: a }};\n}}"
    with pytest.raises(CreditsTranslationError, match="too large"):
        translate_credits_js(source, ["steps"])


def test_exponential_paths_are_refused_quickly() -> None:
    # Both branches continue and one may return: each if doubles the paths that follow it.
    block = "if (context.steps > {i}) {{ if (context.steps > 99) return {{ cost: 1 }}; }} else {{ x = x + 1; }}\n"
    body = "let x = 0;\n" + "".join(block.format(i=i) for i in range(40))
    source = f"function computeCost(context) {{\n{body} return {{ cost: x }};\n}}"
    with pytest.raises(CreditsTranslationError, match="too many branches"):
        translate_credits_js(source, ["steps"])


_MUTATIONS = [
    "(",
    ")",
    "{",
    "}",
    ";",
    "?",
    ":",
    "||",
    "&&",
    "=",
    "==",
    "context.",
    "Math.",
    "[",
    "'",
    "`",
    "-",
    "!",
    "return ",
    "if (",
    "else ",
    "++",
]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mangled_sources_fail_only_with_translation_errors(data: st.DataObject) -> None:
    source = data.draw(
        st.sampled_from([STEPS, UPSCALE, MODEL_CHAIN, OPENAI, JOB_TYPE, *MORE_SHAPES])
    )
    at = data.draw(st.integers(0, len(source)))
    cut = data.draw(st.integers(0, 12))
    insert = data.draw(st.sampled_from(["", *_MUTATIONS]))
    mangled = source[:at] + insert + source[at + cut :]
    fields = [
        "steps",
        "output_size",
        "model",
        "prompt",
        "max_tokens",
        "job_type",
        "width",
        "height",
        "mode",
        "hires",
        "extra",
        "count",
    ]
    try:
        expression = translate_credits_js(mangled, fields)
    except CreditsTranslationError:
        return
    assert check_cost_expression(expression, fields) == []


def test_js_comparison_chains_keep_javascript_meaning() -> None:
    # (a < b) < c in JavaScript compares a boolean with c; Python would chain.
    source = "function computeCost(c) { return { cost: (c.steps < 5 < 2) ? 1 : 3 }; }"
    _cross_check(source, ["steps"], [{"steps": 1}, {"steps": 9}, {}])


def test_a_name_the_form_does_not_have_is_undefined() -> None:
    """The original passed the form's values as `context`: other names were `undefined`, so
    `c.max_tokens || 200` priced with the fallback; the translation keeps that."""
    source = "function computeCost(c) { const t = c.max_tokens || 200; return { cost: t / 100 }; }"
    expression = translate_credits_js(source, {"prompt"})
    assert "max_tokens" not in expression
    assert evaluate_cost(expression, {"prompt": "x"}) == Decimal("2")
