"""`emprops collection validate` and `preview`, through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from emprops.cli.collection import app
from emprops.workflows import (
    GenerationInput,
    generation_seed,
    is_well_formed_hash,
    resolve_variables,
)

from .conftest import EXAMPLE, SPEC_HASH, document, step, variable

runner = CliRunner()
REGISTERED = [
    "-w",
    "fetch-palette=fetch_api",
    "-w",
    "txt2img-flux",
    "-w",
    "ollama-caption=direct_job",
]


def _write(tmp_path: Path, raw: Any, name: str = "input.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(raw) if not isinstance(raw, str) else raw)
    return str(path)


def test_validate_valid_file() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE), *REGISTERED])
    assert result.exit_code == 0, result.output
    assert "valid: 4 steps, 3 variables, 100 generations" in result.stdout


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    raw = document(
        steps=[step(1, "nope"), step(2, x={"$ref": 9, "path": ".a"}), step(2)],
        variables=[variable("a", ["x", "y"], weights=[1])],
        generations={"hashes": [], "generations": 0, "use_custom_hashes": False},
    )
    result = runner.invoke(app, ["validate", _write(tmp_path, raw)])
    assert result.exit_code == 1
    for path in [
        "steps[0].nodeName",
        "steps[1].nodePayload.x.$ref",
        "steps[2].id",
        "variables[0].value.weights",
        "generations.generations",
    ]:
        assert f"error: {path}:" in result.stdout
    assert "5 error(s)" in result.stderr


def test_validate_warnings_do_not_fail(tmp_path: Path) -> None:
    raw = document(variables=[variable("a", ["x"], lock=True, test_value="z")])
    result = runner.invoke(app, ["validate", _write(tmp_path, raw)])
    assert result.exit_code == 0
    assert "warning: variables[0].test_value" in result.stdout


def test_validate_unreadable_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", _write(tmp_path, "{not json")])
    assert result.exit_code == 1
    assert "not JSON" in result.stderr


def test_validate_rejects_unknown_workflow_type() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE), "-w", "x=bogus"])
    assert result.exit_code == 2


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_preview_with_given_hashes_matches_the_spec_vector(tmp_path: Path) -> None:
    raw = document(
        variables=[
            variable("name", ["John", "Mary", "Peter"], weights=[1, 1, 98]),
            variable("job", ["Engineer", "Other"]),
        ]
    )
    other = "0x" + "7f" * 32
    result = runner.invoke(
        app, ["preview", _write(tmp_path, raw), "--hashes", f"{SPEC_HASH},{other}"]
    )
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    assert [line["hash"] for line in lines] == [SPEC_HASH, other]
    assert [line["index"] for line in lines] == [0, 1]
    assert lines[0]["variables"] == {"name": "Peter", "job": "Engineer"}
    model = GenerationInput.model_validate(raw)
    for line in lines:
        assert line["seed"] == generation_seed(line["hash"])
        assert line["variables"] == resolve_variables(model.variables, line["hash"])


def test_preview_uses_custom_hashes_from_the_file(tmp_path: Path) -> None:
    hashes = ["0x" + "12" * 32, "0x" + "34" * 32, "0x" + "56" * 32]
    raw = document(
        variables=[variable("v", ["a", "b", "c"])],
        generations={"hashes": hashes, "generations": 3, "use_custom_hashes": True},
    )
    result = runner.invoke(app, ["preview", _write(tmp_path, raw), "--generations", "1"])
    assert result.exit_code == 0, result.output
    assert [line["hash"] for line in _lines(result.stdout)] == hashes


def test_preview_random_hashes(tmp_path: Path) -> None:
    raw = document(
        variables=[variable("v", ["a", "b"])],
        generations={"hashes": [], "generations": 4, "use_custom_hashes": False},
    )
    path = _write(tmp_path, raw)
    from_file = _lines(runner.invoke(app, ["preview", path]).stdout)
    assert len(from_file) == 4
    overridden = _lines(runner.invoke(app, ["preview", path, "-n", "2"]).stdout)
    assert len(overridden) == 2
    hashes = [line["hash"] for line in from_file + overridden]
    assert len(set(hashes)) == 6
    assert all(is_well_formed_hash(h) and len(h) == 66 for h in hashes)
    assert all(line["variables"]["v"] in {"a", "b"} for line in from_file)


def test_preview_refuses_invalid_documents_and_hashes(tmp_path: Path) -> None:
    invalid = runner.invoke(app, ["preview", _write(tmp_path, document([step(1, "nope")]))])
    assert invalid.exit_code == 1
    assert "steps[0].nodeName" in invalid.stderr
    assert invalid.stdout == ""
    bad_hash = runner.invoke(
        app,
        ["preview", _write(tmp_path, document(), "ok.json"), "--hashes", "0x" + "a" * 64 + ",x y"],
    )
    assert bad_hash.exit_code == 2
    assert "x y" in bad_hash.output
