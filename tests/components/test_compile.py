"""Compile, don't forward: only declared fields reach a job, checked against the form, every
problem of a step at once; a creator can never choose a URL, a header, a secret, a blob path, a
service or a renderer."""

from __future__ import annotations

from typing import Any

import pytest

from emprops.components.compile import (
    PlatformInputs,
    StepCompileError,
    compile_step,
    precheck_step,
)
from emprops.components.importer import import_library
from tests.components.test_importer import LIBRARY

PLATFORM = PlatformInputs(
    seed=4242, hash="0x" + "cd" * 32, output_path="generations/u/r/0/2/step",
    input_roots=["generations/u/r/"],
    files={"file:///blobs/generations/u/r/0/1/a.png": "generations/u/r/0/1/a.png"},
)  # fmt: skip


def bodies() -> dict[str, dict[str, Any]]:
    return {e.folder: e.component.body for e in import_library(LIBRARY) if e.component}


def compile_body(name: str, values: dict[str, Any]) -> dict[str, Any]:
    body = bodies()[name]
    return compile_step(
        body["type"], name, None, body["data"], values, PLATFORM, label="step 2 (x)"
    ).payload


def problems(name: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(StepCompileError) as caught:
        compile_body(name, values)
    found: list[dict[str, Any]] = caught.value.details["problems"]
    return found


@pytest.mark.parametrize(
    ("component", "values", "field"),
    [
        # fetch_api: the URL, headers and secrets are the component's
        ("poll-api", {"prompt": "x", "url": "http://127.0.0.1:9/steal"}, "url"),
        ("poll-api", {"prompt": "x", "request": {"url": "http://127.0.0.1/"}}, "request"),
        (
            "poll-api",
            {"prompt": "x", "headers": {"X-Worker-Secret": "{{ $secrets.k }}"}},
            "headers",
        ),
        ("poll-api", {"prompt": "x", "secrets": {"EXAMPLE_API_SECRET": "mine"}}, "secrets"),
        ("poll-api", {"prompt": "x", "vars": {"prompt": "y"}}, "vars"),
        # ComfyUI: inputs by blob path, the graph itself, the output nodes
        (
            "restyle-earlier",
            {
                "image": "file:///blobs/generations/u/r/0/1/a.png",
                "inputs": [{"node": "1", "path": "generations/other-user/run/0/1/secret.png"}],
            },
            "inputs",
        ),
        ("tinted-square", {"prompt": {"1": {"class_type": "LoadImage"}}}, "prompt"),
        ("tinted-square", {"output_nodes": ["1"]}, "output_nodes"),
        # direct jobs: the service
        ("echo-text", {"service_required": "ollama"}, "service_required"),
        ("echo-text", {"service": "publish"}, "service"),
    ],
)
def test_a_user_cannot_set_what_the_component_owns(
    component: str, values: dict[str, Any], field: str
) -> None:
    found = problems(component, values)
    assert [p["field"] for p in found] == [field]
    assert found[0]["message"].startswith("unknown field")


def test_a_file_field_takes_an_earlier_output_or_a_public_url_never_a_blob_key() -> None:
    for value in ("generations/other-user/run/0/1/a.png", "file:///etc/passwd", "../x.png"):
        (found,) = problems("restyle-earlier", {"image": value})
        assert found["field"] == "image" and "earlier step" in found["message"], value
    job = compile_body("restyle-earlier", {"image": "file:///blobs/generations/u/r/0/1/a.png"})
    assert job["inputs"] == [{"node": "1", "input": "image", "path": "generations/u/r/0/1/a.png"}]
    job = compile_body("restyle-earlier", {"image": "https://images.example.test/a.png"})
    assert job["inputs"] == [
        {"node": "1", "input": "image", "url": "https://images.example.test/a.png"}
    ]


def test_a_renderer_cannot_be_switched_or_given_a_hash_or_output_path() -> None:
    for key, value in (("renderer", "animate"), ("hash", "0xabc"), ("output_path", "x/y")):
        with pytest.raises(StepCompileError) as caught:
            compile_step("renderer", "layers", "render", None, {"config": "c.json", key: value},
                         PLATFORM, label="step 1 (layers)")  # fmt: skip
        assert caught.value.details["problems"][0]["field"] == key
    job = compile_step("renderer", "layers", "render", None, {"config": "c.json"}, PLATFORM,
                       label="step 1 (layers)")  # fmt: skip
    assert job.payload == {"renderer": "layers", "config": "c.json", "hash": PLATFORM.hash,
                           "output_path": PLATFORM.output_path}  # fmt: skip


def test_every_problem_of_a_step_at_once_with_field_and_value() -> None:
    found = problems(
        "tinted-square",
        {"size": 4096, "method": "sideways", "blend": "lots", "colour": 3},
    )
    by_field = {p["field"]: p for p in found}
    assert set(by_field) == {"size", "method", "blend", "colour"}
    assert "above the maximum 1024" in by_field["size"]["message"]
    assert by_field["size"]["value"] == 4096
    assert "not one of the options" in by_field["method"]["message"]
    assert "not a number" in by_field["blend"]["message"]
    assert by_field["colour"]["message"].startswith("unknown field")


def test_values_fill_only_declared_places_defaults_and_seed_from_the_platform() -> None:
    graph = compile_body("tinted-square", {"size": "512"})["prompt"]
    assert (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (512, 512)
    assert graph["5"]["inputs"]["upscale_method"] == "bilinear"  # the form's default
    assert graph["2"]["inputs"]["color"] == 255  # not bound: the graph's own value
    echo = compile_body("echo-text", {})
    assert echo == {"text": "hello", "options": [{"count": 1, "loud": False}]}


def test_precheck_reports_literal_problems_before_a_run_and_waits_for_references() -> None:
    body = bodies()["tinted-square"]
    payload = {"size": {"$ref": 953, "path": ".data.size"}, "method": "sideways", "x": 1}
    dynamic = lambda value: isinstance(value, dict) and "$ref" in value  # noqa: E731
    checked = precheck_step(body["type"], body["data"], payload, is_dynamic=dynamic)
    found = {p.field: p.message for p in checked}
    assert set(found) == {"method", "x"}
