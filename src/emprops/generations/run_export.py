"""A finished run, exported from the database as the run folder packaging reads: `manifest.json`
plus every stored output copied under its blob path, whatever the blob store (disk, S3, ...).

Export is repeatable: a file already there with the stored size is not fetched again.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from emprops.core.errors import InvalidInputError, NotFoundError
from emprops.generations.repository import RunRepository
from emprops.generations.run_spec import RunSpec
from emprops.packaging.run_manifest import RunManifest, build_run_manifest, write_run_manifest
from emprops.storage import BlobStore, validate_blob_path


class RunNotFinishedError(InvalidInputError):
    pass


async def export_run(
    session: AsyncSession, blobs: BlobStore, run_id: uuid.UUID, run_dir: Path
) -> RunManifest:
    """Write `run_dir/manifest.json` and the run's outputs; refuse a run still going."""
    repo = RunRepository(session)
    run = await repo.run(run_id)
    if run is None:
        raise NotFoundError(f"generation run {run_id} does not exist")
    if run.status not in ("completed", "failed", "cancelled"):
        raise RunNotFinishedError(
            f"generation run {run_id} is {run.status}: wait for it to finish before packaging",
            details={"run_id": str(run_id), "status": run.status},
        )
    spec = RunSpec.of(run.data)
    gi = spec.parsed_input()
    services = {w.name: w.service for w in spec.workflows if w.service}
    outputs: dict[tuple[int, int], dict[str, object]] = {}
    failed: dict[int, str] = {}
    for row in await repo.step_results(run_id):
        if row.output is not None:
            outputs[(row.generation, row.step_id)] = row.output
        elif row.error is not None:
            failed.setdefault(row.generation, row.error)
    outcomes = await repo.outcomes(run_id)
    for generation in range(spec.generations):
        outcome = outcomes.get(generation)
        if outcome is None:
            failed.setdefault(generation, "the run ended before this generation did")
        elif outcome.status != "completed":
            failed.setdefault(generation, outcome.error or outcome.status)
    await asyncio.to_thread(run_dir.mkdir, parents=True, exist_ok=True)
    for output in outputs.values():
        path = output.get("path")
        if isinstance(path, str) and path:
            await _copy_blob(blobs, validate_blob_path(path), run_dir)
    components = {w.name: f"{w.name}@{w.digest}" for w in spec.workflows if w.digest}
    manifest = build_run_manifest(
        str(run_id), gi, list(spec.hashes), outputs, failed, services, components
    )
    await asyncio.to_thread(write_run_manifest, run_dir, manifest)
    return manifest


async def _copy_blob(blobs: BlobStore, path: str, run_dir: Path) -> None:
    target = run_dir / path
    size = (await blobs.head(path)).size
    if await asyncio.to_thread(_has_size, target, size):
        return
    # blobs are outputs of one step (images, clips): whole in memory is fine
    await asyncio.to_thread(_write_atomically, target, await blobs.get(path))


def _has_size(path: Path, size: int) -> bool:
    return path.is_file() and path.stat().st_size == size


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)
