"""The importer on our own fixtures in the original format: each kind imports into a component
whose test values compile into a job its connector accepts; each broken one is refused naming
the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from emprops.components.compile import PlatformInputs, compile_step
from emprops.components.cost import evaluate_cost
from emprops.components.importer import import_component_folder, import_library
from emprops.worker.connectors.comfyui import ComfyUIPayload
from emprops.worker.connectors.http_api import FetchApiPayload

HERE = Path(__file__).parent
LIBRARY = HERE / "library"
REFUSED = HERE / "refused"
PLATFORM = PlatformInputs(
    seed=77, hash="0x" + "ab" * 32, output_path="generations/u/r/0/1/x", input_roots=["g/"]
)


def imported() -> dict[str, dict[str, Any]]:
    entries = import_library(LIBRARY)
    assert [e.error for e in entries if e.error] == []
    return {e.folder: e.component.body for e in entries if e.component is not None}


def compiled(body: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    job = compile_step(
        body["type"], body["name"], None, body["data"], values, PLATFORM, label="step 1"
    )
    return job.payload


def test_every_fixture_imports_and_its_test_values_compile_for_its_connector() -> None:
    bodies = imported()
    assert sorted(bodies) == ["echo-text", "poll-api", "restyle-earlier", "tinted-square"]
    square = bodies["tinted-square"]
    payload = ComfyUIPayload.model_validate(compiled(square, square["test_values"])).prompt
    # Numbers arrive as the original editor wrote them ("255") and reach the graph as numbers.
    assert payload["1"]["inputs"]["color"] == 255
    assert payload["5"]["inputs"] | {"image": None} == {
        "image": None, "upscale_method": "lanczos", "width": 128, "height": 128,
        "crop": "disabled",
    }  # fmt: skip
    # The original's cloud-save node is ComfyUI's SaveImage: outputs come back through /view.
    assert payload["6"]["class_type"] == "SaveImage"
    assert set(payload["6"]["inputs"]) == {"images", "filename_prefix"}
    assert "prefix" not in square["test_values"] and "bucket" not in square["test_values"]
    echo = bodies["echo-text"]
    assert compiled(echo, echo["test_values"]) == {
        "text": "hi", "options": [{"count": 3, "loud": True}],
    }  # fmt: skip
    poll = bodies["poll-api"]
    spec = FetchApiPayload.model_validate(compiled(poll, poll["test_values"]))
    assert spec.vars == {"prompt": "a lighthouse", "style": "watercolor"}
    assert spec.request.body == {"input": {"prompt": "{{ .prompt }}", "style": "{{ .style }}"},
                                 "n": 1}  # fmt: skip
    assert spec.request.headers["Authorization"] == "Bearer {{ $secrets.EXAMPLE_API_SECRET }}"
    assert spec.poll is not None and spec.poll.request.url.endswith("/tasks/{{ $submit | .id }}")
    assert spec.output == ".result.text"


def test_the_seed_is_the_generation_seed_unless_the_step_sets_one() -> None:
    square = imported()["tinted-square"]
    values = {k: v for k, v in square["test_values"].items() if k != "seed"}
    assert "seed" not in str(compiled(square, values)["prompt"]["1"])  # no seed input in graph
    assert square["test_values"]["seed"] == "4000000000"  # beyond the form's UI bound: kept


def test_options_come_from_form_confs_and_bind_to_every_input_they_name() -> None:
    square = imported()["tinted-square"]
    fields = {f["id"]: f for f in square["data"]["form"]["fields"]}
    assert [o["value"] for o in fields["method"]["options"]][:2] == ["nearest-exact", "bilinear"]
    assert square["data"]["inputs"]["5"]["width"]["value"] == "size"
    assert square["data"]["inputs"]["5"]["height"]["value"] == "size"
    assert "6" not in square["data"]["inputs"]  # prefix/filename/bucket: the platform's


def test_credits_js_becomes_a_cost_expression_fractions_kept() -> None:
    bodies = imported()
    square, echo, poll = bodies["tinted-square"], bodies["echo-text"], bodies["poll-api"]
    assert evaluate_cost(square["cost"], {"size": 256}) == pytest.approx(0.5)
    assert evaluate_cost(square["cost"], {"size": 1024}) == 2
    assert [evaluate_cost(echo["cost"], {"count": c}) for c in (1, 3, 6)] == [1, 2, 3]
    assert evaluate_cost(poll["cost"], {}) == pytest.approx(0.25)


def test_an_image_loader_bound_to_a_field_becomes_an_upload_of_an_earlier_output() -> None:
    restyle = imported()["restyle-earlier"]
    assert restyle["data"]["graph"]["1"]["class_type"] == "LoadImage"
    src = "file:///data/blobs/generations/u/r/0/1/x.png"
    platform = PlatformInputs(
        seed=1, hash=PLATFORM.hash, output_path="generations/u/r/0/2/y",
        input_roots=["generations/u/r/"], files={src: "generations/u/r/0/1/x.png"},
    )  # fmt: skip
    job = compile_step(
        "comfy_workflow", "restyle-earlier", None, restyle["data"], {"image": src}, platform,
        label="step 2",
    )  # fmt: skip
    spec = ComfyUIPayload.model_validate(job.payload)
    assert [(i.node, i.input, i.path, i.url) for i in spec.inputs] == [
        ("1", "image", "generations/u/r/0/1/x.png", None)
    ]


def test_a_single_component_folder_imports_on_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "lib" / "tinted-square"
    shutil.copytree(LIBRARY / "tinted-square", folder)
    shutil.copytree(LIBRARY / "_form_confs", tmp_path / "lib" / "_form_confs")
    assert import_component_folder(folder).body["type"] == "comfy_workflow"


@pytest.mark.parametrize(
    ("folder", "file", "field", "words"),
    [
        ("ui-format", "workflow.json", "", "export it in API format"),
        ("missing-node", "inputs.json", "9", "not in workflow.json"),
        ("sets-service", "inputs.json", "count", "only the payload"),
        ("loop-credits", "credits.js", "", "loop"),
        ("no-type", "form.json", "fields[0] (text)", "unknown field type None"),
    ],
)
def test_a_broken_component_is_refused_naming_the_file_and_field(
    folder: str, file: str, field: str, words: str
) -> None:
    (entry,) = import_library(REFUSED / folder)
    assert entry.component is None and entry.error is not None
    assert entry.error.details["file"] == file and entry.error.details["field"] == field
    assert words in entry.error.message.lower() or words in entry.error.message, entry.error


def test_a_library_import_reports_each_component_and_skips_drafts(tmp_path: Path) -> None:
    shutil.copytree(LIBRARY, tmp_path / "lib")
    shutil.copytree(REFUSED / "ui-format", tmp_path / "lib" / "ui-format")
    shutil.copytree(LIBRARY / "echo-text", tmp_path / "lib" / "_draft" / "echo-text")
    entries = {e.folder: e for e in import_library(tmp_path / "lib")}
    assert sorted(entries) == ["echo-text", "poll-api", "restyle-earlier", "tinted-square",
                               "ui-format"]  # fmt: skip
    assert entries["ui-format"].error is not None and entries["echo-text"].component is not None
