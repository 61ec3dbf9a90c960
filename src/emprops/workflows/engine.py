"""GeneratorV2: runs a v2 GenerationInput once per generation hash, every step a queue job.

For each generation the variables are resolved first (in-process: a pure function of the hash),
then each step is queued as soon as the steps it refers to have recorded outputs. All generations
are submitted at once; each generation is one broker workflow (shared priority and time), so an
older generation's later steps run before a newer generation's first ones.

The engine owns the run's records and talks to workers only through the broker.
"""

from __future__ import annotations

import hashlib
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import orjson
import structlog

from emprops.components.compile import PlatformInputs, compile_step
from emprops.core.errors import InvalidInputError
from emprops.queue.broker import Broker
from emprops.queue.models import JobRequest, JobStatus
from emprops.workflows.catalog import PROMPT_WORKFLOW, WorkflowDefinition
from emprops.workflows.errors import RefResolutionError
from emprops.workflows.generation_input import VARIABLES_STEP_ID, GenerationInput, WorkflowStep
from emprops.workflows.prompt_document import render_prompt_fields, step_texts, text_file_urls
from emprops.workflows.refs import dependency_order, resolve_step_payload, step_dependencies
from emprops.workflows.run_journal import RunHeader, RunRecords
from emprops.workflows.seeding import generation_hashes, generation_seed
from emprops.workflows.variables import (
    inline_variable_texts,
    variable_text_urls,
    variables_step_output,
)

log = structlog.get_logger(__name__)

EventType = Literal[
    "node_started", "node_progress", "node_completed", "image_generated", "complete", "error"
]
SKIPPED_OUTPUT: dict[str, Any] = {"data": None, "mimeType": None}


@dataclass(frozen=True)
class EngineEvent:
    type: EventType
    generation: int | None
    step_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


EventHandler = Callable[[EngineEvent], Awaitable[None] | None]
# Computes, once per run, extra payload for every generation of a step (e.g. the layers renderer
# assigns traits across the whole collection for exact rarity and uniqueness).
# A planner returns one payload addition per generation, or None when it cannot plan here.
StepPlanner = Callable[[WorkflowStep, list[str]], list[dict[str, Any]] | None]
# Reads the text behind a `.txt` URL (a variable's value, a step's text file output); the engine
# inlines it in prompts. Given by the caller, who knows the blob store and the outbound policy.
TextReader = Callable[[str], Awaitable[str]]


class RunJournal(Protocol):
    def header(self) -> RunHeader | None: ...
    def start(self, header: RunHeader) -> None: ...
    def records(self) -> RunRecords: ...
    def record_output(
        self, generation: int, step_id: int, job_id: str, output: dict[str, Any]
    ) -> None: ...
    def record_failure(self, generation: int, step_id: int, job_id: str, error: str) -> None: ...


@dataclass
class RunOutcome:
    run_id: str
    hashes: list[str]
    completed: list[int]
    failed: dict[int, str]
    records: RunRecords


def input_digest(generation_input: GenerationInput) -> str:
    data = generation_input.model_dump(mode="json", by_alias=True)
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


class GeneratorV2:
    def __init__(
        self,
        broker: Broker,
        generation_input: GenerationInput,
        catalog: Mapping[str, WorkflowDefinition],
        journal: RunJournal,
        *,
        user_id: str = "local",
        priority: int = 50,
        planners: Mapping[str, StepPlanner] | None = None,
        reconcile_s: float = 2.0,
        max_retries: int = 3,
        text_reader: TextReader | None = None,
    ) -> None:
        self.broker, self.input, self.catalog, self.journal = (
            broker,
            generation_input,
            catalog,
            journal,
        )
        self.user_id, self.priority, self.max_retries = user_id, priority, max_retries
        self.planners = dict(planners or {})
        self.text_reader = text_reader
        self.reconcile_s = reconcile_s
        self._steps = {step.id: step for step in generation_input.steps}
        ids = set(self._steps)
        self._deps = {
            s.id: step_dependencies(s, ids | {VARIABLES_STEP_ID}) - {VARIABLES_STEP_ID}
            for s in generation_input.steps
        }
        self._order = [s for s in dependency_order(generation_input) if s != VARIABLES_STEP_ID]

    # --- run identity -----------------------------------------------------------------------

    def open_run(self, count: int | None = None) -> RunHeader:
        """The run this journal holds (resume), or a new one with its hashes fixed now."""
        digest = input_digest(self.input)
        header = self.journal.header()
        if header is not None:
            if header.input_digest != digest:
                from emprops.core.errors import ConflictError

                raise ConflictError(
                    f"run {header.run_id} was started from a different GenerationInput; "
                    "use a new output directory",
                    details={"run_id": header.run_id},
                )
            return header
        header = RunHeader(
            run_id=f"run-{uuid.uuid4().hex[:12]}",
            user_id=self.user_id,
            input_digest=digest,
            hashes=generation_hashes(self.input.generations, count),
            created_ms=int(time.time() * 1000),
            priority=self.priority,
        )
        self.journal.start(header)
        return header

    @staticmethod
    def job_id(run_id: str, generation: int, step_id: int) -> str:
        return f"{run_id}.g{generation}.s{step_id}"

    # --- the run ----------------------------------------------------------------------------

    async def run(
        self, on_event: EventHandler | None = None, count: int | None = None
    ) -> RunOutcome:
        header = self.open_run(count)
        run = _Run(self, header, on_event)
        await run.execute()
        return RunOutcome(
            run_id=header.run_id,
            hashes=header.hashes,
            completed=sorted(run.completed),
            failed=dict(run.failed),
            records=self.journal.records(),
        )


class _Run:
    """The state of one execution of a run (a fresh one after every restart)."""

    def __init__(self, engine: GeneratorV2, header: RunHeader, on_event: EventHandler | None):
        self.engine, self.header, self.on_event = engine, header, on_event
        self.broker = engine.broker
        records = engine.journal.records()
        self.outputs: list[dict[int, dict[str, Any]]] = []
        for g, hash_ in enumerate(header.hashes):
            outputs = {VARIABLES_STEP_ID: variables_step_output(engine.input.variables, hash_)}
            for (rg, sid), out in records.outputs.items():
                if rg == g:
                    outputs[sid] = out
            for step in engine.input.steps:
                if step.skip:
                    outputs.setdefault(step.id, SKIPPED_OUTPUT)
            self.outputs.append(outputs)
        self.failed: dict[int, str] = {g: err for (g, _), err in records.failures.items()}
        self.completed = {  # finished before a restart
            g
            for g in range(len(header.hashes))
            if g not in self.failed and self._generation_done(g)
        }
        self.outstanding: dict[str, tuple[int, int]] = {}
        self.texts: dict[str, str] = {}  # .txt URL -> its text, read once per run
        planned = {
            step.id: engine.planners[step.node_name](step, header.hashes)
            for step in engine.input.steps
            if step.node_name in engine.planners
        }
        self.plans = {sid: plan for sid, plan in planned.items() if plan is not None}

    async def emit(
        self, type_: EventType, generation: int | None, step_id: int | None, **data: Any
    ) -> None:
        if self.on_event is None:
            return
        result = self.on_event(EngineEvent(type_, generation, step_id, data))
        if inspect.isawaitable(result):
            await result

    def _generation_done(self, g: int) -> bool:
        return g in self.failed or all(s in self.outputs[g] for s in self.engine._steps)

    async def execute(self) -> None:
        pubsub = self.broker.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.broker.keys.events_channel)
        try:
            await self._submit_ready(range(len(self.header.hashes)))
            await self._reconcile()  # jobs that finished while no runner was watching
            last_reconcile = time.monotonic()
            while not self._finished():
                message = await pubsub.get_message(timeout=self.engine.reconcile_s)
                if message is not None:
                    await self._on_broker_event(orjson.loads(message["data"]))
                if time.monotonic() - last_reconcile >= self.engine.reconcile_s:
                    await self._reconcile()
                    last_reconcile = time.monotonic()
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _finished(self) -> bool:
        return all(self._generation_done(g) for g in range(len(self.header.hashes)))

    # --- submitting -------------------------------------------------------------------------

    def _ready_steps(self, g: int) -> list[WorkflowStep]:
        if g in self.failed:
            return []
        outputs = self.outputs[g]
        ready = []
        for step_id in self.engine._order:
            job_id = GeneratorV2.job_id(self.header.run_id, g, step_id)
            if step_id in outputs or job_id in self.outstanding:
                continue
            if all(dep in outputs for dep in self.engine._deps[step_id]):
                ready.append(self.engine._steps[step_id])
        return ready

    async def _submit_ready(self, generations: Any) -> None:
        requests: list[JobRequest] = []
        pending = list(generations)
        while pending:
            again: list[int] = []
            for g in pending:
                ready = self._ready_steps(g)
                if ready:
                    try:
                        await self._read_texts(g)
                    except RefResolutionError as exc:
                        job_id = GeneratorV2.job_id(self.header.run_id, g, ready[0].id)
                        await self._fail_generation(g, ready[0].id, job_id, exc.message)
                        continue
                for step in ready:
                    job_id = GeneratorV2.job_id(self.header.run_id, g, step.id)
                    try:
                        if self.engine.catalog[step.node_name].name == PROMPT_WORKFLOW:
                            await self._run_prompt_step(g, step, job_id)
                            again.append(g)  # what waited on it may be ready now
                        else:
                            requests.append(self._job_request(g, step))
                    except (RefResolutionError, InvalidInputError) as exc:
                        await self._fail_generation(g, step.id, job_id, exc.message)
                        break
            pending = sorted(set(again))
        for start in range(0, len(requests), 500):
            batch = requests[start : start + 500]
            await self.broker.submit_many(batch)
            for request in batch:
                assert request.id is not None and request.ctx is not None
                self.outstanding[request.id] = (request.ctx["generation"], request.ctx["step_id"])

    async def _read_texts(self, g: int) -> None:
        """Read the `.txt` URLs generation g's prompts may inline (once per run)."""
        if self.engine.text_reader is None:
            return
        outputs = self.outputs[g]
        steps = {sid: out for sid, out in outputs.items() if sid != VARIABLES_STEP_ID}
        urls = variable_text_urls(outputs[VARIABLES_STEP_ID]["data"]) | text_file_urls(steps)
        for url in sorted(urls - self.texts.keys()):
            try:
                self.texts[url] = await self.engine.text_reader(url)
            except Exception as exc:  # the step's prompt cannot be made: fail the generation
                raise RefResolutionError(f"could not read the text at {url}: {exc}") from exc

    def _step_values(self, g: int, step: WorkflowStep) -> dict[str, Any]:
        """The step's values for generation g: references resolved, prompts rendered (a `.txt`
        variable value and a text file output as their text)."""
        outputs = self.outputs[g]
        payload = resolve_step_payload(step, outputs)
        variables = inline_variable_texts(outputs[VARIABLES_STEP_ID]["data"], self.texts)
        steps = {sid: out for sid, out in outputs.items() if sid != VARIABLES_STEP_ID}
        texts = step_texts(steps, self.texts)
        return render_prompt_fields(payload, variables, texts)  # type: ignore[return-value]

    async def _run_prompt_step(self, g: int, step: WorkflowStep, job_id: str) -> None:
        """The built-in `prompt` step: its output is its rendered prompt, made here."""
        values = self._step_values(g, step)
        unknown = sorted(set(values) - {"prompt"})
        text = values.get("prompt", "")
        if unknown or not isinstance(text, str):
            raise InvalidInputError(
                f"step {step.id} (prompt): takes one field, prompt (a text); got "
                + (", ".join(unknown) if unknown else type(text).__name__)
            )
        output = {"data": text, "mimeType": "text/plain"}
        self.engine.journal.record_output(g, step.id, job_id, output)
        self.outputs[g][step.id] = output
        await self.emit("node_completed", g, step.id, output=output)
        if self._generation_done(g):
            self.completed.add(g)
            await self.emit("complete", g, None, hash=self.header.hashes[g])

    def _stored_files(self, g: int) -> dict[str, str]:
        """src URL -> blob path of every file the earlier steps of generation g stored."""
        files: dict[str, str] = {}
        for sid, output in self.outputs[g].items():
            if sid == VARIABLES_STEP_ID or not isinstance(output, dict):
                continue
            entries = [output, *(output.get("outputs") or [])]
            for entry in entries:
                if isinstance(entry, dict):
                    src, path = entry.get("src"), entry.get("path")
                    if isinstance(src, str) and isinstance(path, str):
                        files[src] = path
        return files

    def _job_request(self, g: int, step: WorkflowStep) -> JobRequest:
        engine, header = self.engine, self.header
        definition = engine.catalog[step.node_name]
        if definition.service is None:
            raise RefResolutionError(f"step {step.id}: workflow {step.node_name!r} has no service")
        values = self._step_values(g, step)
        if step.id in self.plans:
            values = {**values, **self.plans[step.id][g]}
        hash_ = header.hashes[g]
        run_root = f"generations/{header.user_id}/{header.run_id}/"
        folder = f"{run_root}{g}/{step.id}"
        compiled = compile_step(
            definition.type, definition.name, definition.service, definition.data, values,
            PlatformInputs(
                seed=generation_seed(hash_), hash=hash_,
                output_path=f"{folder}/{step.node_name}", input_roots=[run_root],
                files=self._stored_files(g),
            ),
            label=f"step {step.id} ({step.node_name})",
        )  # fmt: skip
        position = engine._order.index(step.id)
        ctx: dict[str, Any] = {
            "user_id": header.user_id, "run_id": header.run_id, "generation": g,
            "step_id": step.id, "workflow": step.node_name,
            "output_path": f"{folder}/{step.node_name}", "output_prefix": folder,
            "output_name": step.node_name, "input_roots": [run_root],
        }  # fmt: skip
        if definition.digest is not None:
            ctx["component"] = {"name": definition.name, "version": definition.version,
                                "digest": definition.digest}  # fmt: skip
        return JobRequest(
            id=GeneratorV2.job_id(header.run_id, g, step.id),
            service_required=compiled.service,
            payload=compiled.payload,
            ctx=ctx,
            workflow_id=f"{header.run_id}.g{g}",
            workflow_priority=header.priority,
            workflow_datetime=header.created_ms + g,
            current_step=position,
            total_steps=len(engine._order),
            max_retries=engine.max_retries,
        )

    # --- following the broker ---------------------------------------------------------------

    async def _on_broker_event(self, event: dict[str, Any]) -> None:
        where = self.outstanding.get(event["job_id"])
        if where is None:
            return
        g, step_id = where
        name = event["event"]
        if name == "job_claimed":
            await self.emit("node_started", g, step_id, worker_id=event["data"].get("worker_id"))
        elif name == "update_job_progress":
            await self.emit("node_progress", g, step_id, progress=event["data"].get("progress"),
                            message=event["data"].get("message", ""))  # fmt: skip
        elif name in ("complete_job", "job_cancelled"):
            await self._settle(event["job_id"])

    async def _reconcile(self) -> None:
        if not self.outstanding:
            return
        pipe = self.broker.redis.pipeline(transaction=False)
        ids = list(self.outstanding)
        for job_id in ids:
            pipe.hget(self.broker.keys.job(job_id), "status")
        for job_id, status in zip(ids, await pipe.execute(), strict=True):
            if status is None or status.decode() in ("completed", "failed", "cancelled"):
                await self._settle(job_id)

    async def _settle(self, job_id: str) -> None:
        where = self.outstanding.pop(job_id, None)
        if where is None:
            return
        g, step_id = where
        job = await self.broker.get(job_id)
        if job is None:
            log.warning("job vanished from the broker; resubmitting", job_id=job_id)
            await self._submit_ready([g])
            return
        if job.status == JobStatus.COMPLETED:
            output = job.result or {}
            self.engine.journal.record_output(g, step_id, job_id, output)  # durable first
            self.outputs[g][step_id] = output
            await self.emit("node_completed", g, step_id, output=output)
            mime = output.get("mimeType") or ""
            if (
                isinstance(mime, str)
                and mime.startswith(("image/", "video/"))
                and output.get("src")
            ):
                await self.emit("image_generated", g, step_id, src=output["src"], mimeType=mime)
            if self._generation_done(g):
                self.completed.add(g)
                await self.emit("complete", g, None, hash=self.header.hashes[g])
            else:
                await self._submit_ready([g])
        elif job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            await self._fail_generation(g, step_id, job_id, job.error or str(job.status))
        else:  # not finished after all (a stale event): keep following it
            self.outstanding[job_id] = where

    async def _fail_generation(self, g: int, step_id: int, job_id: str, error: str) -> None:
        self.engine.journal.record_failure(g, step_id, job_id, error)
        self.failed[g] = f"step {step_id}: {error}"
        await self.emit("error", g, step_id, error=error)
