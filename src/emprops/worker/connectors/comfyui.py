"""Runs a ComfyUI API-format graph on a ComfyUI server and stores what it saves.

Per job: open `GET /ws?clientId=<new id>` (so every prompt message on the socket is this job's),
upload input images, `POST /prompt`, follow the messages to the end marker, then read
`/history/{prompt_id}` and fetch each output with `/view` into the blob store.

Payload (`service_required: "comfyui"`):
    {"prompt": {<node id>: {"class_type", "inputs"}},          # "workflow" is accepted too
     "inputs": [{"node": "10", "input": "image", "url" | "path" | "data_base64": ...}],
     "output_nodes": ["9"], "output_types": ["output"], "timeout_s": 600}
or the bare API-format graph itself (`payload.workflow || payload.prompt || payload`). A graph in
ComfyUI's UI format (top-level `nodes` and `links`) is refused: it cannot be queued.

Result: the stored files (`outputs`, the first as `src`). A graph whose output nodes return only
text (ComfyUI's `PreviewAny`, history `{"text": [...]}`) gives that text as `data` (several joined
by newlines) with `mimeType: "text/plain"`, its node outputs under `outputs_raw`.

Input URLs are fetched through the outbound policy (`allow_private`, `allowed_networks`): a payload
cannot point the download at the worker's own network. `base_url` is the operator's and is not.

Inputs from the blob store (`path`, or a URL the store gave) must lie under one of the job's
`ctx["input_roots"]`, so a job cannot read another user's files. Uploads get job-scoped names
(`<job id>_<index>[_<name>]`): ComfyUI keeps inputs in one folder for every client, and two jobs
uploading `a.png` would otherwise run on each other's image. ComfyUI 0.3.64 has no route that
deletes an input file (only `/userdata/{file}`, which is the user directory, not `input/`), so
uploads stay on the server after the job; their names at least never collide.

Nothing here waits without a limit: the socket has pings and an idle check that asks the server
where the prompt is, a lost socket falls back to polling, and the whole job has a deadline after
which the prompt is interrupted on the server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import hashlib
import re
import time
import uuid
from typing import Any

import httpx
import orjson
import structlog
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from emprops.core.errors import EmpropsError, UnavailableError
from emprops.queue.models import Job
from emprops.storage.blob_store import BlobStore
from emprops.worker.connector import (
    Connector,
    JobFailure,
    PermanentJobError,
    ProgressReporter,
    RetryableJobError,
    ServiceUnavailableError,
)
from emprops.worker.connectors.comfyui_protocol import (
    ComfyProtocolError,
    ExecutionError,
    HistoryEntry,
    Outcome,
    PromptAccepted,
    PromptRejected,
    PromptTracker,
    outcome_from_history,
    parse_binary_frame,
    parse_history,
    parse_text_frame,
    queue_position,
)
from emprops.worker.connectors.connector_config import parse_config, parse_payload
from emprops.worker.connectors.http_failures import (
    bad_response,
    failure_for_status,
    failure_for_transport,
    parse_json_body,
    read_limited,
)
from emprops.worker.connectors.job_inputs import (
    is_under_a_root,
    job_input_roots,
    load_input,
    outbound_client,
    store_path_for,
)
from emprops.worker.connectors.job_outputs import (
    OutputTarget,
    mime_for_filename,
    require_store,
    sniff_mime,
    store_output,
)
from emprops.worker.connectors.outbound_http import OutboundAccess, OutboundPolicy

SERVICE = "comfyui"
log = structlog.get_logger(__name__)
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_JOB_NAME_MAX = 80
# Transport errors that mean the server is not there (refused, reset, gone mid-answer), as opposed
# to one that answers slowly or badly.
_GONE = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, ConnectionError)


class ComfyUIConfig(OutboundAccess):
    """The `[comfyui]` section of the worker config.

    `base_url` is the operator's own server and is called as configured. Input URLs come from job
    payloads, so they may reach only public addresses unless `allow_private` is set or the address
    falls in `allowed_networks` (see outbound_http).
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str = "http://127.0.0.1:8188"
    headers: dict[str, str] = Field(default_factory=dict, description="e.g. a proxy's auth header")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    request_timeout_s: float = Field(default=60.0, gt=0)
    idle_check_s: float = Field(
        default=30.0, gt=0, description="Socket silence before asking the server where we are."
    )
    poll_interval_s: float = Field(default=1.0, gt=0, description="Polling after a lost socket.")
    history_wait_s: float = Field(default=10.0, gt=0)
    job_timeout_s: float = Field(default=3600.0, gt=0)
    interrupt_timeout_s: float = Field(default=5.0, gt=0)
    ping_interval_s: float = Field(default=20.0, gt=0)
    max_input_bytes: int = Field(default=64 << 20, gt=0)
    max_output_bytes: int = Field(default=1 << 30, gt=0)
    max_frame_bytes: int = Field(default=64 << 20, gt=0)
    output_types: list[str] = Field(default_factory=lambda: ["output"])
    preview_metadata: bool = Field(
        default=True,
        description="Declare `supports_preview_metadata`: previews then name their prompt.",
    )

    def input_policy(self) -> OutboundPolicy:
        """Where input URLs may be fetched from (never the ComfyUI server's own client)."""
        return OutboundPolicy(
            allow_private=self.allow_private,
            allowed_networks=self.allowed_networks,
            max_response_bytes=self.max_input_bytes,
            connect_timeout_s=self.connect_timeout_s,
            request_timeout_s=self.request_timeout_s,
            total_timeout_s=self.job_timeout_s,
        )

    @property
    def ws_url(self) -> str:
        base = self.base_url.rstrip("/")
        return re.sub(r"^http", "ws", base, count=1)


class InputFile(BaseModel):
    """An input image to upload; its server-side name goes into `prompt[node].inputs[input]`."""

    model_config = ConfigDict(extra="forbid")

    node: str
    input: str = "image"
    url: str | None = Field(default=None, description="http(s), or a URL of the worker's store.")
    path: str | None = Field(default=None, description="A key in the worker's blob store.")
    data_base64: str | None = Field(default=None, max_length=8 << 20)
    filename: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._ -]{1,120}$")
    subfolder: str = Field(default="emprops", pattern=r"^[A-Za-z0-9_-]{0,64}$")

    @model_validator(mode="after")
    def _one_source(self) -> InputFile:
        sources = [s for s in (self.url, self.path, self.data_base64) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of url, path, data_base64")
        return self


class ComfyUIPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    prompt: dict[str, dict[str, Any]] = Field(
        min_length=1, validation_alias=AliasChoices("prompt", "workflow")
    )
    inputs: list[InputFile] = Field(default_factory=list, max_length=64)
    output_nodes: list[str] | None = None
    output_types: list[str] | None = None
    timeout_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _api_format(self) -> ComfyUIPayload:
        for node_id, node in self.prompt.items():
            if not isinstance(node.get("class_type"), str) or not isinstance(
                node.get("inputs"), dict
            ):
                raise ValueError(
                    f"node {node_id} needs class_type and inputs (is this the API-format graph?)"
                )
        for item in self.inputs:
            if item.node not in self.prompt:
                raise ValueError(f"input for node {item.node}, which is not in the graph")
        return self


class ComfyUIConnector(Connector):
    service = SERVICE

    def __init__(self, config: dict[str, Any] | None = None, *, store: BlobStore | None = None):
        super().__init__(config, store=store)
        self.settings = parse_config(ComfyUIConfig, self.config, SERVICE)
        self.server_info: dict[str, Any] = {}
        self._http: httpx.AsyncClient | None = None
        self._fetch: httpx.AsyncClient | None = None
        self._running: dict[str, str] = {}  # job id -> prompt id
        self._stopping: set[str] = set()  # prompt ids we asked the server to stop

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            health_s = 2 * self.settings.connect_timeout_s  # a health check must not linger
            response = await self._request("GET", "/system_stats", timeout=health_s)
            body = parse_json_body(SERVICE, response) if response.status_code == 200 else None
        except JobFailure as exc:
            raise UnavailableError(
                f"ComfyUI at {self.settings.base_url} is not reachable: {exc}"
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("system"), dict):
            raise UnavailableError(
                f"{self.settings.base_url}/system_stats did not answer like ComfyUI "
                f"(HTTP {response.status_code})"
            )
        self.server_info = body["system"]

    async def close(self) -> None:
        for client in (self._http, self._fetch):
            if client is not None:
                await client.aclose()
        self._http = self._fetch = None

    # --- the job --------------------------------------------------------------------------------

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        spec = parse_payload(ComfyUIPayload, _with_graph_payload(job), SERVICE)
        store = require_store(self.store, SERVICE)
        target = OutputTarget.for_job(job, default_name=SERVICE)
        limit_s = spec.timeout_s or job.timeout_s or self.settings.job_timeout_s
        deadline = asyncio.timeout(limit_s)
        try:
            async with deadline:
                return await self._run(job, spec, store, target, progress)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise RetryableJobError(
                f"comfyui: job {job.id} did not finish within {limit_s:g} s",
                details={"service": SERVICE, "reason": "timeout", "timeout_s": limit_s},
            ) from None

    async def cancel(self, job: Job) -> None:
        prompt_id = self._running.get(job.id)
        if prompt_id is not None:
            await self._stop_prompt(prompt_id)

    async def _run(
        self,
        job: Job,
        spec: ComfyUIPayload,
        store: BlobStore,
        target: OutputTarget,
        progress: ProgressReporter,
    ) -> dict[str, Any]:
        began = time.perf_counter()
        graph = copy.deepcopy(spec.prompt)
        roots = job_input_roots(job)
        for item in spec.inputs:  # refuse any foreign file before uploading anything
            self._check_input_root(job, item, roots)
        uploaded = await self._upload_inputs(job, spec, graph)
        client_id = uuid.uuid4().hex
        socket = await self._open_socket(client_id)
        prompt_id: str | None = None
        try:
            accepted = await self._submit(graph, client_id)
            prompt_id = accepted.prompt_id
            self._running[job.id] = prompt_id
            tracker = PromptTracker.for_graph(prompt_id, graph)
            await progress(0.0, f"queued as prompt {prompt_id}")
            entry = await self._follow(socket, tracker, progress)
            if tracker.outcome is Outcome.ERROR and tracker.error is not None:
                raise self._execution_failure(prompt_id, tracker.error)
            if tracker.outcome is Outcome.INTERRUPTED:
                raise self._interrupted(prompt_id)
            if entry is None:
                entry = await self._wait_history(prompt_id)
            outcome, error = outcome_from_history(entry)
            if outcome is Outcome.ERROR:
                raise self._execution_failure(prompt_id, error or ExecutionError())
            if outcome is Outcome.INTERRUPTED:
                raise self._interrupted(prompt_id)
            outputs = await self._store_outputs(entry, spec, store, target)
        except asyncio.CancelledError:
            if prompt_id is not None:  # cancelled or timed out: free the server too
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._stop_prompt(prompt_id))
            raise
        finally:
            self._running.pop(job.id, None)
            if prompt_id is not None:
                self._stopping.discard(prompt_id)
            with contextlib.suppress(Exception):
                await socket.close()
        result: dict[str, Any] = {"prompt_id": prompt_id, "outputs": outputs}
        texts = None if outputs else text_outputs(entry, spec.output_nodes)
        if outputs:
            result["src"], result["mimeType"] = outputs[0]["src"], outputs[0]["mimeType"]
        elif texts is not None:  # text savers (PreviewAny): the text, as a prompt step gives it
            result["data"], result["mimeType"] = "\n".join(texts), "text/plain"
            result["outputs_raw"] = entry.outputs
        else:  # no file and not only text: hand back what the nodes returned
            result["data"], result["mimeType"] = entry.outputs, None
        result["stats"] = {
            "seconds": round(time.perf_counter() - began, 4),
            "cached_nodes": len(tracker.cached_nodes),
            "previews": tracker.previews,
            "uploaded": uploaded,
        }
        if accepted.node_errors:
            result["node_errors"] = PromptRejected(
                error="", node_errors=accepted.node_errors
            ).details()["node_errors"]
        await progress(100.0, "done")
        return result

    # --- talking to the server ------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.settings.base_url,
                headers=self.settings.headers,
                timeout=httpx.Timeout(
                    self.settings.request_timeout_s, connect=self.settings.connect_timeout_s
                ),
            )
        return self._http

    def _fetch_client(self) -> httpx.AsyncClient:
        """For input URLs from payloads: the outbound policy's client (public addresses unless
        the config allows more, redirects checked hop by hop), never the ComfyUI server's headers.
        """
        if self._fetch is None:
            self._fetch = outbound_client(self.settings.input_policy(), service=SERVICE)
        return self._fetch

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        client = self._client()
        try:
            return await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _transport_failure(exc, client.base_url.join(path)) from exc

    async def _get_json(self, path: str) -> Any:
        response = await self._request("GET", path)
        if response.status_code != 200:
            raise failure_for_status(SERVICE, response)
        return parse_json_body(SERVICE, response)

    async def _open_socket(self, client_id: str) -> ClientConnection:
        url = f"{self.settings.ws_url}/ws?clientId={client_id}"
        try:
            socket = await connect(
                url,
                open_timeout=self.settings.connect_timeout_s,
                ping_interval=self.settings.ping_interval_s,
                ping_timeout=self.settings.ping_interval_s,
                close_timeout=1.0,
                max_size=self.settings.max_frame_bytes,
                additional_headers=self.settings.headers or None,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise _transport_failure(exc, url) from exc
        try:  # a ComfyUI server greets with its queue status and our session id
            async with asyncio.timeout(self.settings.connect_timeout_s):
                greeting = parse_text_frame(await socket.recv())
            if greeting.type != "status":
                raise ComfyProtocolError(f"first message is {greeting.type!r}, not 'status'")
            if self.settings.preview_metadata:  # only a client's first message may say so
                flags = {"supports_preview_metadata": True}
                await socket.send(orjson.dumps({"type": "feature_flags", "data": flags}).decode())
        except (ComfyProtocolError, TimeoutError, ConnectionClosed, TypeError) as exc:
            with contextlib.suppress(Exception):
                await socket.close()
            raise bad_response(SERVICE, url, f"no ComfyUI greeting ({exc!r})") from exc
        return socket

    async def _submit(self, graph: dict[str, Any], client_id: str) -> PromptAccepted:
        response = await self._request(
            "POST", "/prompt", json={"prompt": graph, "client_id": client_id}
        )
        if response.status_code == 400:
            try:
                rejection = PromptRejected.model_validate(parse_json_body(SERVICE, response))
            except (ValidationError, JobFailure):
                raise failure_for_status(SERVICE, response) from None
            raise PermanentJobError(
                f"comfyui rejected the graph: {rejection.summary()}",
                details={"service": SERVICE, "reason": "invalid_graph", **rejection.details()},
            )
        if response.status_code != 200:
            raise failure_for_status(SERVICE, response)
        try:
            return PromptAccepted.model_validate(parse_json_body(SERVICE, response))
        except ValidationError:
            raise bad_response(
                SERVICE, response.request.url, "no prompt_id in the answer"
            ) from None

    async def _follow(
        self, socket: ClientConnection, tracker: PromptTracker, progress: ProgressReporter
    ) -> HistoryEntry | None:
        """Read the socket until the prompt ends; the history entry if we already have it."""
        reported = (-1.0, "")
        asked_early = False
        while tracker.outcome is None:
            try:
                async with asyncio.timeout(self.settings.idle_check_s):
                    frame = await socket.recv()
            except TimeoutError:
                where, entry = await self._locate(tracker.prompt_id)
                if entry is not None:
                    return entry
                if where is None:
                    raise self._lost(tracker.prompt_id) from None
                continue
            except ConnectionClosed:
                log.warning("comfyui socket closed, polling", prompt_id=tracker.prompt_id)
                return await self._poll_until_done(tracker.prompt_id)
            if isinstance(frame, bytes):
                try:
                    tracker.on_preview(parse_binary_frame(frame))
                except ComfyProtocolError:
                    tracker.ignored += 1
                continue
            try:
                message = parse_text_frame(frame)
            except ComfyProtocolError as exc:
                raise bad_response(SERVICE, self.settings.ws_url, str(exc)) from exc
            if not tracker.feed(message):
                continue
            now = (round(tracker.percent, 1), tracker.message)
            if now != reported and tracker.outcome is None:
                reported = now
                await progress(tracker.percent, tracker.message)
            if tracker.success_seen and not asked_early and tracker.outcome is None:
                # The history is written before the end marker, which can lag (0.27 s in the
                # recording): ask once instead of waiting for it.
                asked_early = True
                entry = await self._history(tracker.prompt_id)
                if entry is not None and entry.status is not None and entry.status.completed:
                    return entry
        return None

    async def _history(self, prompt_id: str) -> HistoryEntry | None:
        body = await self._get_json(f"/history/{prompt_id}")
        try:
            return parse_history(body, prompt_id)
        except ComfyProtocolError as exc:
            raise bad_response(SERVICE, f"/history/{prompt_id}", str(exc)) from exc

    async def _locate(self, prompt_id: str) -> tuple[str | None, HistoryEntry | None]:
        """Where the server has the prompt: finished (with its entry), running, pending, or
        nowhere (None, None)."""
        entry = await self._history(prompt_id)
        if entry is not None:
            return "finished", entry
        try:
            where = queue_position(await self._get_json("/queue"), prompt_id)
        except ComfyProtocolError as exc:
            raise bad_response(SERVICE, "/queue", str(exc)) from exc
        if where is None:  # it may have finished between the two requests
            entry = await self._history(prompt_id)
            return ("finished", entry) if entry is not None else (None, None)
        return where, None

    async def _poll_until_done(self, prompt_id: str) -> HistoryEntry:
        while True:
            where, entry = await self._locate(prompt_id)
            if entry is not None:
                return entry
            if where is None:
                raise self._lost(prompt_id)
            await asyncio.sleep(self.settings.poll_interval_s)

    async def _wait_history(self, prompt_id: str) -> HistoryEntry:
        delay, waited = 0.02, 0.0
        while True:
            entry = await self._history(prompt_id)
            if entry is not None:
                return entry
            if waited >= self.settings.history_wait_s:
                raise RetryableJobError(
                    f"comfyui: prompt {prompt_id} ended but has no history after {waited:.1f} s",
                    details={"service": SERVICE, "reason": "no_history", "prompt_id": prompt_id},
                )
            await asyncio.sleep(delay)
            waited += delay
            delay = min(0.5, delay * 2)

    async def _stop_prompt(self, prompt_id: str) -> None:
        """Best effort: drop it from the queue if pending, interrupt it if running."""
        if prompt_id in self._stopping:
            return
        self._stopping.add(prompt_id)
        try:
            async with asyncio.timeout(self.settings.interrupt_timeout_s):
                where = queue_position(await self._get_json("/queue"), prompt_id)
                if where == "pending":
                    await self._request("POST", "/queue", json={"delete": [prompt_id]})
                elif where == "running":
                    # Servers without targeted interrupts ignore the body; we checked it is ours.
                    await self._request("POST", "/interrupt", json={"prompt_id": prompt_id})
        except (EmpropsError, ComfyProtocolError, TimeoutError) as exc:
            log.warning("comfyui interrupt failed", prompt_id=prompt_id, error=str(exc))

    # --- inputs and outputs ---------------------------------------------------------------------

    async def _upload_inputs(
        self, job: Job, spec: ComfyUIPayload, graph: dict[str, Any]
    ) -> list[str]:
        names: list[str] = []
        for index, item in enumerate(spec.inputs):
            data = await self._input_bytes(item)
            mime = sniff_mime(data) or "application/octet-stream"
            extension = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(
                mime, "bin"
            )
            filename = job_scoped_name(job.id, index, item.filename, extension)
            response = await self._request(
                "POST",
                "/upload/image",
                files={"image": (filename, data, mime)},
                data={"type": "input", "subfolder": item.subfolder, "overwrite": "true"},
            )
            if response.status_code != 200:
                raise failure_for_status(SERVICE, response)
            body = parse_json_body(SERVICE, response)
            if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                raise bad_response(SERVICE, response.request.url, "upload answer has no name")
            subfolder = body.get("subfolder") or ""
            value = f"{subfolder}/{body['name']}" if subfolder else body["name"]
            graph[item.node]["inputs"][item.input] = value
            names.append(value)
        return names

    def _check_input_root(self, job: Job, item: InputFile, roots: list[str]) -> None:
        """A store input must lie under one of the job's input roots; http(s) URLs elsewhere are
        not the store's and are fetched as they are."""
        if item.path is not None:
            key: str | None = item.path
        elif item.url is not None and self.store is not None:
            key = store_path_for(self.store, item.url)
        else:
            key = None
        if key is None:
            return
        where = f"input for node {item.node} ({key[:120]!r})"
        if not roots:
            raise PermanentJobError(
                f"comfyui: job {job.id}: {where} is in the blob store, but the job names no "
                "ctx.input_roots it may read from",
                details={"service": SERVICE, "node": item.node, "reason": "input_not_allowed"},
            )
        if not is_under_a_root(key, roots):
            raise PermanentJobError(
                f"comfyui: job {job.id}: {where} is outside the job's input roots {roots}",
                details={
                    "service": SERVICE,
                    "node": item.node,
                    "reason": "input_not_allowed",
                    "input_roots": roots,
                },
            )

    async def _input_bytes(self, item: InputFile) -> bytes:
        limit = self.settings.max_input_bytes
        if item.data_base64 is not None:
            try:
                data = base64.b64decode(item.data_base64, validate=True)
            except (binascii.Error, ValueError):
                raise PermanentJobError(
                    f"comfyui: input for node {item.node} is not valid base64",
                    details={"service": SERVICE, "node": item.node},
                ) from None
        else:
            reference = item.path if item.path is not None else item.url
            assert reference is not None
            data = await load_input(
                reference,
                store=self.store,
                client=self._fetch_client(),
                limit=limit,
                service=SERVICE,
            )
        if len(data) > limit:
            raise PermanentJobError(
                f"comfyui: input for node {item.node} is {len(data)} bytes, over {limit}",
                details={"service": SERVICE, "node": item.node, "reason": "too_large"},
            )
        return data

    async def _store_outputs(
        self, entry: HistoryEntry, spec: ComfyUIPayload, store: BlobStore, target: OutputTarget
    ) -> list[dict[str, Any]]:
        types = frozenset(spec.output_types or self.settings.output_types)
        nodes = frozenset(spec.output_nodes) if spec.output_nodes else None
        stored: list[dict[str, Any]] = []
        for index, (node_id, ref) in enumerate(entry.files(types, nodes)):
            params = {"filename": ref.filename, "subfolder": ref.subfolder, "type": ref.type}
            client = self._client()
            try:
                async with client.stream("GET", "/view", params=params) as response:
                    if response.status_code != 200:
                        await response.aread()
                        # Listed in the history but gone: a rerun makes it again.
                        raise failure_for_status(SERVICE, response, retryable=True)
                    data = await read_limited(response, self.settings.max_output_bytes, SERVICE)
                    declared = response.headers.get("content-type", "").split(";", 1)[0]
            except httpx.HTTPError as exc:
                raise _transport_failure(exc, client.base_url.join("/view")) from exc
            mime = sniff_mime(data) or (
                declared if declared and declared != "application/octet-stream" else None
            )
            mime = mime or mime_for_filename(ref.filename)
            item = await store_output(store, target, index, data, mime, source_name=ref.filename)
            item["node"] = node_id
            stored.append(item)
        return stored

    # --- failures -------------------------------------------------------------------------------

    def _execution_failure(self, prompt_id: str, error: ExecutionError) -> JobFailure:
        details = {"service": SERVICE, "prompt_id": prompt_id, **error.details()}
        message = f"comfyui: prompt {prompt_id} failed: {error.summary()}"
        if error.retryable:
            return RetryableJobError(message, details={**details, "reason": "out_of_memory"})
        return PermanentJobError(message, details={**details, "reason": "execution_error"})

    def _interrupted(self, prompt_id: str) -> BaseException:
        if prompt_id in self._stopping:
            return asyncio.CancelledError(f"prompt {prompt_id} interrupted as asked")
        return RetryableJobError(
            f"comfyui: prompt {prompt_id} was interrupted on the server by someone else",
            details={"service": SERVICE, "prompt_id": prompt_id, "reason": "interrupted"},
        )

    def _lost(self, prompt_id: str) -> RetryableJobError:
        return RetryableJobError(
            f"comfyui: prompt {prompt_id} is neither queued nor in the history (server restart?)",
            details={"service": SERVICE, "prompt_id": prompt_id, "reason": "lost"},
        )


# --- payload and input helpers ------------------------------------------------------------------

_PAYLOAD_FIELDS = frozenset(ComfyUIPayload.model_fields) | {"workflow"}


def _with_graph_payload(job: Job) -> Job:
    """The job with its payload in the `{"prompt": graph, ...}` shape: a bare graph is wrapped.
    A UI-format graph is refused first, with the fix, rather than as a confusing field error."""
    payload = job.payload
    graph = payload.get("workflow") or payload.get("prompt") or payload
    if (
        isinstance(graph, dict)
        and isinstance(graph.get("nodes"), list)
        and isinstance(graph.get("links"), list)
    ):
        raise PermanentJobError(
            f"comfyui: job {job.id}: the graph is in ComfyUI's UI format (top-level nodes and "
            "links); export it in API format (Workflow > Export (API)) and send that",
            details={"service": SERVICE, "reason": "ui_format_graph"},
        )
    if graph is payload and payload and not (payload.keys() & _PAYLOAD_FIELDS):
        return job.model_copy(update={"payload": {"prompt": payload}})
    return job


def text_outputs(entry: HistoryEntry, output_nodes: list[str] | None) -> list[str] | None:
    """The texts the output nodes returned, in node order, when text is all they returned: each
    a `{"text": [str, ...]}` history output, as ComfyUI's PreviewAny gives. None otherwise."""
    wanted = frozenset(output_nodes) if output_nodes else None
    nodes = [
        node_id
        for node_id, output in entry.outputs.items()
        if output and (wanted is None or node_id in wanted)
    ]
    texts: list[str] = []
    for node_id in sorted(nodes, key=_node_order):
        output = entry.outputs[node_id]
        items = output.get("text")
        if output.keys() != {"text"} or not isinstance(items, list):
            return None
        if not all(isinstance(item, str) for item in items):
            return None
        texts.extend(items)
    return texts if nodes else None


def _node_order(node_id: str) -> tuple[int, int | str]:
    return (0, int(node_id)) if node_id.isdigit() else (1, node_id)


def job_scoped_name(job_id: str, index: int, filename: str | None, extension: str) -> str:
    """`<job>_<index>[_<name>]`: unique per job and input. A job id changed by sanitizing (or cut)
    gets a short hash of the real one, so `a:1` and `a_1` do not share names."""
    safe = _UNSAFE_FILENAME.sub("_", job_id)
    if safe != job_id or len(safe) > _JOB_NAME_MAX:
        digest = hashlib.sha256(job_id.encode()).hexdigest()[:8]
        safe = f"{safe[:_JOB_NAME_MAX]}-{digest}"
    if filename:
        return f"{safe}_{index}_{_UNSAFE_FILENAME.sub('_', filename)}"
    return f"{safe}_{index}.{extension}"


def _transport_failure(exc: Exception, url: httpx.URL | str) -> RetryableJobError:
    """No answer from ComfyUI: refused or reset is the service being down (`service_unavailable`,
    so the queue can hold off), anything else (a timeout, garbage) stays a plain retry."""
    failure = failure_for_transport(SERVICE, exc, url)
    gone = isinstance(exc, _GONE) or (
        isinstance(exc, httpx.RemoteProtocolError) and "disconnected" in str(exc).lower()
    )
    if not gone:
        return failure
    return ServiceUnavailableError(
        f"comfyui: the server at {failure.details.get('url', url)} is not there ({exc!r})",
        details={**failure.details, "transport": failure.details.get("reason")},
    )
