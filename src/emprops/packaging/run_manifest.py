"""The collection run's `manifest.json` (written by `emprops collection run`) as packaging reads
it: every token's hash, seed, resolved variables and step outputs, and where its files are."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emprops.packaging.errors import PackageError
from emprops.workflows import GenerationInput, generation_seed, resolve_variables
from emprops.workflows.engine import GeneratorV2

MANIFEST_NAME = "manifest.json"


class StepRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    workflow: str
    service: str | None = None
    job_id: str | None = None
    output: dict[str, Any] | None = None
    component: str | None = Field(default=None, description="name@digest of the version run")


class ManifestToken(BaseModel):
    model_config = ConfigDict(extra="allow")

    index: int = Field(ge=0)
    hash: str
    seed: int
    variables: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, StepRecord] = Field(default_factory=dict)
    files: list[str] = Field(default_factory=list)
    status: Literal["complete", "failed"]
    error: str | None = None


class RunManifest(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: str
    generation_input: dict[str, Any]
    tokens: list[ManifestToken]


def read_run_manifest(run_dir: Path) -> RunManifest:
    path = run_dir / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PackageError(
            f"{path} does not exist: is {run_dir} the --out folder of `emprops collection run`?",
            details={"path": str(path)},
        ) from None
    try:
        return RunManifest.model_validate(orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise PackageError(f"{path} is not JSON: {exc}", details={"path": str(path)}) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PackageError(
            f"{path}: {where}: {first['msg']} ({exc.error_count()} problem(s))",
            details={"path": str(path), "field": where},
        ) from None


def build_run_manifest(
    run_id: str,
    gi: GenerationInput,
    hashes: list[str],
    outputs: dict[tuple[int, int], dict[str, Any]],
    failed: dict[int, str],
    services: dict[str, str],
    components: dict[str, str] | None = None,
) -> RunManifest:
    """Every token: its hash, seed, picks, each step's output, and its files. One builder for
    `collection run` (a journal on disk) and a run exported from the database."""
    tokens: list[ManifestToken] = []
    for g, hash_ in enumerate(hashes):
        steps = {
            str(step.id): StepRecord(
                workflow=step.node_name,
                service=services.get(step.node_name),
                job_id=GeneratorV2.job_id(run_id, g, step.id),
                output=outputs.get((g, step.id)),
                component=(components or {}).get(step.node_name),
            )
            for step in gi.steps
        }
        files = [s.output["src"] for s in steps.values() if s.output and s.output.get("src")]
        tokens.append(
            ManifestToken(
                index=g, hash=hash_, seed=generation_seed(hash_),
                variables=resolve_variables(gi.variables, hash_), steps=steps, files=files,
                status="failed" if g in failed else "complete", error=failed.get(g),
            )
        )  # fmt: skip
    return RunManifest(
        run_id=run_id, generation_input=gi.model_dump(mode="json", by_alias=True), tokens=tokens
    )


def write_run_manifest(run_dir: Path, manifest: RunManifest) -> Path:
    path = run_dir / MANIFEST_NAME
    data = manifest.model_dump(mode="json", exclude_unset=False)
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    return path
