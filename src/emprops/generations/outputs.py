"""A step's stored output becomes a `flat_file` row with the inputs that made it (provenance),
linked to the step's component when the collection has one."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.assets import record_output
from emprops.db.models import FlatFile
from emprops.generations.repository import RunRepository
from emprops.generations.run_spec import RunSpec

log = structlog.get_logger(__name__)
MAX_URL = 2048


async def record_step_file(
    session: AsyncSession,
    spec: RunSpec,
    *,
    generation: int,
    step_id: int,
    workflow: str,
    job_id: str,
    output: dict[str, Any],
    payload: dict[str, Any] | None,
    component: dict[str, Any] | None = None,
) -> None:
    """Record the file a step returned (`{"src": url, "mimeType": ...}`); data outputs are
    kept in the run journal only."""
    src = output.get("src")
    if not isinstance(src, str) or not src:
        return
    if len(src) > MAX_URL:
        log.warning("output url too long to record", run_id=str(spec.run_id), job_id=job_id)
        return
    mime = output.get("mimeType")
    name = (PurePosixPath(urlparse(src).path).name or workflow)[:300]
    path = f"generations/{spec.user_id}/{spec.run_id}/{generation}/{step_id}/{name}"[:1024]
    gen_in_data = {
        "run_id": str(spec.run_id), "generation": generation, "hash": spec.hashes[generation],
        "step_id": step_id, "workflow": workflow, "job_id": job_id, "payload": payload,
    }  # fmt: skip
    if component is not None:  # the pinned version: name, version, digest
        gen_in_data["component"] = component
    mime_type = mime[:120] if isinstance(mime, str) else None
    component_id = await RunRepository(session).component_id(spec.collection_id, step_id)
    if component_id is not None:
        await record_output(
            session, spec.user_id, component_id, url=src, path=path, name=name,
            mime_type=mime_type, gen_in_data=gen_in_data, gen_out_data=output,
        )  # fmt: skip
        return
    session.add(
        FlatFile(
            id=uuid.uuid4(), user_id=spec.user_id, url=src, path=path, name=name,
            mime_type=mime_type, gen_in_data=gen_in_data, gen_out_data=output,
        )
    )  # fmt: skip
