"""The built-in renderers as a worker service: `layers` (one token of a layered collection) and
`animate` (a generative GIF or MP4). Rendering is CPU work, so it runs in a process pool shared
by the connector's jobs; the event loop only validates, waits and stores.

Payloads (`output_path` optional everywhere: without it the output goes where the job's ctx says,
`prefix` + `filename`, as for every connector):
- `{"renderer": "layers", "config": "<layers config, under assets_root>", "hash": ...,
  "configuration": 0, "traits": {...}, "output_path": "..."}`: one token, PNG or GIF;
- `{"renderer": "layers_plan", "config": ..., "hashes": [...]}`: the collection's plan (JSON) made
  where the layer files are, for the engine to hand each token its traits;
- `{"renderer": "animate", "hash": ..., "format": "gif"|"mp4", "params": {...}}`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from emprops.art import (
    AnimateRenderRequest,
    LayersRenderRequest,
    RenderedArt,
    open_layer_set,
    plan_collection,
    render_animation,
    render_layers,
)
from emprops.core.errors import EmpropsError, InvalidInputError
from emprops.queue.models import Job
from emprops.storage import BlobStore, validate_blob_path
from emprops.storage.blob_store import StoredBlob
from emprops.worker.connector import (
    Connector,
    PermanentJobError,
    ProgressReporter,
    RetryableJobError,
)
from emprops.worker.connectors.connector_config import parse_config, parse_payload
from emprops.worker.connectors.job_outputs import (
    OutputTarget,
    failure_from_store,
    require_store,
    store_output,
)

SERVICE = "render"
EXTENSION_PLACEHOLDER = ".{ext}"


class RenderConfig(BaseModel):
    """The worker config section `[render]`."""

    model_config = ConfigDict(extra="forbid")

    assets_root: str = Field(
        default=".", description="Layers configs (and their layer folders) are read under this."
    )
    processes: int = Field(default=0, ge=0, le=256, description="0: one per CPU.")
    cache_mb: int = Field(default=384, ge=16, le=65536, description="Decoded layers per process.")


class _Output(BaseModel):
    output_path: str | None = Field(
        default=None,
        max_length=1024,
        description="Blob path; '.{ext}' or no extension: the output's own extension is added.",
    )


class LayersJob(LayersRenderRequest, _Output):
    renderer: Literal["layers"]


class AnimateJob(AnimateRenderRequest, _Output):
    renderer: Literal["animate"]


class LayersPlanJob(_Output):
    """Plan a whole collection (exact counts, unique tokens) where the layer files are."""

    model_config = ConfigDict(extra="forbid")

    renderer: Literal["layers_plan"]
    config: str = Field(min_length=1, max_length=1000)
    hashes: list[str] = Field(min_length=1, max_length=1_000_000)


RenderJob = LayersJob | AnimateJob | LayersPlanJob


class RenderPayload(RootModel[Annotated[RenderJob, Field(discriminator="renderer")]]):
    pass


@dataclass(frozen=True)
class RenderOutcome:
    """What comes back from the pool: art, or an input error's message and details (an exception
    raised across the process boundary would lose its details when pickled)."""

    art: RenderedArt | None = None
    error: str | None = None
    details: dict[str, Any] | None = None


def render_in_process(job: RenderJob, config_path: str | None, cache_bytes: int) -> RenderOutcome:
    """Runs in a pool process; keeps its layer sets and decoded pieces between jobs."""
    try:
        if isinstance(job, LayersPlanJob):
            assert config_path is not None
            plan = plan_collection(open_layer_set(Path(config_path)), job.hashes)
            data = plan.model_dump_json().encode()
            return RenderOutcome(art=RenderedArt(data, "application/json", "json", frames=0))
        if isinstance(job, LayersJob):
            assert config_path is not None
            request = LayersRenderRequest.model_validate(
                job.model_dump(exclude={"renderer", "output_path"})
            )
            return RenderOutcome(
                art=render_layers(request, Path(config_path), cache_bytes=cache_bytes)
            )
        request_a = AnimateRenderRequest.model_validate(
            job.model_dump(exclude={"renderer", "output_path"})
        )
        return RenderOutcome(art=render_animation(request_a))
    except EmpropsError as exc:
        return RenderOutcome(error=exc.message, details=dict(exc.details))


class RenderConnector(Connector):
    service = SERVICE

    def __init__(self, config: dict[str, Any] | None = None, *, store: BlobStore | None = None):
        super().__init__(config, store=store)
        self.settings = parse_config(RenderConfig, self.config, SERVICE)
        self.assets_root = Path(self.settings.assets_root).resolve()
        self._pool: ProcessPoolExecutor | None = None

    @property
    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            workers = self.settings.processes or os.cpu_count() or 1
            # spawn: a forked copy of a process that runs an event loop and threads is unsafe.
            self._pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def start(self) -> None:
        if not self.assets_root.is_dir():
            raise InvalidInputError(f"[render] assets_root {self.assets_root} is not a folder")
        _ = self.pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def layers_config_path(self, job: Job, reference: str) -> Path:
        """The config a payload names, which must lie under `assets_root`."""
        path = (self.assets_root / reference).resolve()
        if not path.is_relative_to(self.assets_root):
            raise PermanentJobError(
                f"job {job.id}: layers config {reference!r} is outside the worker's assets_root",
                details={"field": "config"},
            )
        return path

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        payload = parse_payload(RenderPayload, job, SERVICE).root
        store = require_store(self.store, SERVICE)
        config_path = (
            str(self.layers_config_path(job, payload.config))
            if isinstance(payload, LayersJob | LayersPlanJob)
            else None
        )
        await progress(5, f"{payload.renderer}: rendering")
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(
                self.pool,
                render_in_process,
                payload,
                config_path,
                self.settings.cache_mb * 1024 * 1024,
            )
        except BrokenProcessPool as exc:
            self._pool = None  # a render process died (out of memory?): a fresh pool next time
            raise RetryableJobError(f"job {job.id}: the render process died: {exc}") from exc
        if outcome.error is not None or outcome.art is None:
            raise PermanentJobError(
                f"job {job.id}: {payload.renderer}: {outcome.error}", details=outcome.details
            )
        art = outcome.art
        await progress(90, f"{payload.renderer}: storing {art.extension}")
        if payload.output_path is None:
            target = OutputTarget.for_job(job, payload.renderer)
            entry = await store_output(store, target, 0, art.data, art.mime_type)
        else:
            path = self.output_path(job, payload.output_path, art)
            blob = await self._put(store, path, art)
            entry = {"src": blob.url, "mimeType": art.mime_type, "path": blob.path}
            entry["size"] = blob.size
        if isinstance(payload, LayersPlanJob):
            entry["tokens"] = len(payload.hashes)
        else:
            entry["frames"] = art.frames
        if isinstance(payload, LayersJob) and payload.traits is not None:
            entry["traits"] = dict(payload.traits)  # what packaging turns into token attributes
        await progress(100, f"{payload.renderer}: done")
        return entry

    @staticmethod
    def output_path(job: Job, requested: str, art: RenderedArt) -> str:
        path = requested
        if path.endswith(EXTENSION_PLACEHOLDER):
            path = path[: -len(EXTENSION_PLACEHOLDER)]
        name = path.rsplit("/", 1)[-1]
        if "." in name:
            extension = name.rsplit(".", 1)[1].lower()
            if extension != art.extension:
                raise PermanentJobError(
                    f"job {job.id}: output_path {requested!r} ends in .{extension} but the "
                    f"output is {art.mime_type}; use '.{art.extension}' or '.{{ext}}'",
                    details={"field": "output_path"},
                )
        else:
            path = f"{path}.{art.extension}"
        try:
            return validate_blob_path(path.strip("/"))
        except InvalidInputError as exc:
            raise PermanentJobError(
                f"job {job.id}: output_path {requested!r}: {exc.message}",
                details={"field": "output_path"},
            ) from None

    @staticmethod
    async def _put(store: BlobStore, path: str, art: RenderedArt) -> StoredBlob:
        try:
            return await store.put(path, art.data, content_type=art.mime_type)
        except Exception as exc:
            raise failure_from_store(exc, f"store output {path}") from exc
