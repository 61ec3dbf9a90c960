"""Text from an Ollama server: `/api/generate` for a prompt, `/api/chat` for messages, streamed as
NDJSON so progress moves with the tokens.

Payload (`service_required: "ollama"`):
    {"model": "llama3.2", "prompt": "..." | "messages": [{"role", "content", "images"?}],
     "system"?, "images"?: [url or store path], "image"?: url, "options"?: {...},
     "format"?, "think"?, "keep_alive"?, "stream": true, "timeout_s"?}
Images are references (an earlier step's `src`, a store path, an http URL); the connector reads
them and sends them base64-encoded, as Ollama expects, so no image bytes travel through Redis.
Result: `{"data": text, "mimeType": null, "model", "done_reason", "stats", "thinking"?}`.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Literal

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from emprops.core.errors import UnavailableError
from emprops.queue.models import Job
from emprops.storage.blob_store import BlobStore
from emprops.worker.connector import (
    Connector,
    JobFailure,
    PermanentJobError,
    ProgressReporter,
    RetryableJobError,
)
from emprops.worker.connectors.connector_config import parse_config, parse_payload
from emprops.worker.connectors.http_failures import (
    bad_response,
    failure_for_status,
    failure_for_transport,
    parse_json_body,
)
from emprops.worker.connectors.job_inputs import job_input_roots, load_input, outbound_client
from emprops.worker.connectors.outbound_http import OutboundAccess, OutboundPolicy
from emprops.worker.connectors.token_progress import TokenProgress

SERVICE = "ollama"
STAT_FIELDS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


class OllamaConfig(OutboundAccess):
    """The `[ollama]` section of the worker config.

    `base_url` is the operator's own server and is called as configured. Image URLs come from job
    payloads, so they may reach only public addresses unless `allow_private` is set or the address
    falls in `allowed_networks` (see outbound_http).
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str = "http://127.0.0.1:11434"
    headers: dict[str, str] = Field(default_factory=dict)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(
        default=300.0, gt=0, description="Longest silence between chunks (a model load included)."
    )
    job_timeout_s: float = Field(default=1800.0, gt=0)
    keep_alive: str | int | None = None
    max_image_bytes: int = Field(default=32 << 20, gt=0)

    def input_policy(self) -> OutboundPolicy:
        """Where image URLs may be fetched from (never the Ollama server's own client)."""
        return OutboundPolicy(
            allow_private=self.allow_private,
            allowed_networks=self.allowed_networks,
            max_response_bytes=self.max_image_bytes,
            connect_timeout_s=self.connect_timeout_s,
            request_timeout_s=self.read_timeout_s,
            total_timeout_s=self.job_timeout_s,
        )


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    images: list[str] = Field(default_factory=list, max_length=16)


class OllamaPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    prompt: str | None = None
    messages: list[ChatMessage] | None = Field(default=None, min_length=1)
    system: str | None = None
    images: list[str] = Field(default_factory=list, max_length=16)
    image: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    format: str | dict[str, Any] | None = None
    think: bool | None = None
    keep_alive: str | int | None = None
    tools: list[dict[str, Any]] | None = None
    stream: bool = True
    timeout_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_mode(self) -> OllamaPayload:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give either prompt (generate) or messages (chat)")
        return self

    @property
    def endpoint(self) -> str:
        return "/api/generate" if self.prompt is not None else "/api/chat"

    @property
    def expected_tokens(self) -> int | None:
        budget = self.options.get("num_predict")
        return budget if isinstance(budget, int) and budget > 0 else None


class OllamaConnector(Connector):
    service = SERVICE

    def __init__(self, config: dict[str, Any] | None = None, *, store: BlobStore | None = None):
        super().__init__(config, store=store)
        self.settings = parse_config(OllamaConfig, self.config, SERVICE)
        self.version: str | None = None
        self.models: list[str] = []
        self._http: httpx.AsyncClient | None = None
        self._fetch: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Check the server and learn which models it has (for the worker's capabilities)."""
        try:
            version = await self._get_json("/api/version")
            tags = await self._get_json("/api/tags")
        except JobFailure as exc:
            raise UnavailableError(
                f"Ollama at {self.settings.base_url} is not reachable: {exc}"
            ) from exc
        if not isinstance(version, dict) or not isinstance(tags, dict):
            raise UnavailableError(f"{self.settings.base_url} did not answer like Ollama")
        self.version = str(version.get("version"))
        self.models = sorted(
            str(model.get("name"))
            for model in tags.get("models") or []
            if isinstance(model, dict) and model.get("name")
        )

    async def close(self) -> None:
        for client in (self._http, self._fetch):
            if client is not None:
                await client.aclose()
        self._http = self._fetch = None

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        spec = parse_payload(OllamaPayload, job, SERVICE)
        limit_s = spec.timeout_s or job.timeout_s or self.settings.job_timeout_s
        deadline = asyncio.timeout(limit_s)
        try:
            async with deadline:
                body = await self._request_body(spec, job)
                await progress(0.0, f"{spec.model}: waiting for the first token")
                if spec.stream:
                    return await self._stream(spec, body, progress)
                return await self._whole(spec, body, progress)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise RetryableJobError(
                f"ollama: job {job.id} did not finish within {limit_s:g} s",
                details={"service": SERVICE, "reason": "timeout", "timeout_s": limit_s},
            ) from None

    # --- request --------------------------------------------------------------------------------

    async def _request_body(self, spec: OllamaPayload, job: Job) -> dict[str, Any]:
        body: dict[str, Any] = {"model": spec.model, "stream": spec.stream}
        if spec.prompt is not None:
            body["prompt"] = spec.prompt
            references = [*spec.images, *([spec.image] if spec.image else [])]
            if references:
                body["images"] = [await self._image(ref, job) for ref in references]
        else:
            assert spec.messages is not None
            messages = []
            for message in spec.messages:
                raw = message.model_dump(exclude={"images"})
                if message.images:
                    raw["images"] = [await self._image(ref, job) for ref in message.images]
                messages.append(raw)
            if spec.image or spec.images:  # images given beside messages go with the last one
                extra = [await self._image(ref, job) for ref in [*spec.images, spec.image] if ref]
                messages[-1]["images"] = [*messages[-1].get("images", []), *extra]
            body["messages"] = messages
        if spec.system is not None:
            if spec.prompt is not None:
                body["system"] = spec.system
            else:
                body["messages"].insert(0, {"role": "system", "content": spec.system})
        for key in ("format", "think", "tools"):
            value = getattr(spec, key)
            if value is not None:
                body[key] = value
        if spec.options:
            body["options"] = spec.options
        keep_alive = spec.keep_alive if spec.keep_alive is not None else self.settings.keep_alive
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        return body

    async def _image(self, reference: str, job: Job) -> str:
        if self._fetch is None:  # payload URLs: the outbound policy, no headers of ours
            self._fetch = outbound_client(self.settings.input_policy(), service=SERVICE)
        data = await load_input(
            reference,
            store=self.store,
            client=self._fetch,
            limit=self.settings.max_image_bytes,
            service=SERVICE,
            roots=job_input_roots(job),
        )
        return base64.b64encode(data).decode("ascii")

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.settings.base_url,
                headers=self.settings.headers,
                timeout=httpx.Timeout(
                    self.settings.read_timeout_s, connect=self.settings.connect_timeout_s
                ),
            )
        return self._http

    async def _get_json(self, path: str) -> Any:
        client = self._client()
        try:
            response = await client.get(path, timeout=2 * self.settings.connect_timeout_s)
        except httpx.HTTPError as exc:
            raise failure_for_transport(SERVICE, exc, client.base_url.join(path)) from exc
        if response.status_code != 200:
            raise failure_for_status(SERVICE, response)
        return parse_json_body(SERVICE, response)

    def _refusal(self, spec: OllamaPayload, response: httpx.Response) -> JobFailure:
        """Ollama answers an unknown model with 404 and `model "x" not found`: no retry helps."""
        failure = failure_for_status(SERVICE, response, details={"model": spec.model})
        if response.status_code == 404:
            failure.details["reason"] = "model_not_found"
        return failure

    # --- answers --------------------------------------------------------------------------------

    async def _stream(
        self, spec: OllamaPayload, body: dict[str, Any], progress: ProgressReporter
    ) -> dict[str, Any]:
        client = self._client()
        tokens = TokenProgress(progress, spec.expected_tokens)
        text: list[str] = []
        thinking: list[str] = []
        tool_calls: list[Any] = []
        final: dict[str, Any] | None = None
        try:
            async with client.stream("POST", spec.endpoint, json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._refusal(spec, response)
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    chunk = self._chunk(line, response)
                    piece, thought = _pieces(chunk)
                    text.append(piece)
                    thinking.append(thought)
                    message = chunk.get("message")
                    if isinstance(message, dict) and message.get("tool_calls"):
                        tool_calls.extend(message["tool_calls"])
                    if chunk.get("done"):
                        final = chunk
                        break
                    if piece or thought:
                        await tokens.add()
        except httpx.HTTPError as exc:
            raise failure_for_transport(SERVICE, exc, client.base_url.join(spec.endpoint)) from exc
        if final is None:
            raise RetryableJobError(
                f"ollama: the {spec.endpoint} stream for {spec.model} ended before done",
                details={"service": SERVICE, "reason": "truncated", "model": spec.model},
            )
        return await self._result(
            spec, final, "".join(text), "".join(thinking), tool_calls, progress
        )

    async def _whole(
        self, spec: OllamaPayload, body: dict[str, Any], progress: ProgressReporter
    ) -> dict[str, Any]:
        client = self._client()
        try:
            response = await client.post(spec.endpoint, json=body)
        except httpx.HTTPError as exc:
            raise failure_for_transport(SERVICE, exc, client.base_url.join(spec.endpoint)) from exc
        if response.status_code != 200:
            raise self._refusal(spec, response)
        answer = parse_json_body(SERVICE, response)
        if isinstance(answer, dict) and "error" in answer:
            raise self._stream_error(answer)
        if not isinstance(answer, dict) or not answer.get("done"):
            raise bad_response(SERVICE, response.request.url, "no finished answer")
        piece, thought = _pieces(answer)
        message = answer.get("message")
        calls = (message.get("tool_calls") or []) if isinstance(message, dict) else []
        return await self._result(spec, answer, piece, thought, list(calls), progress)

    def _chunk(self, line: str, response: httpx.Response) -> dict[str, Any]:
        try:
            chunk = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise bad_response(
                SERVICE, response.request.url, f"stream line is not JSON: {line[:80]!r}"
            ) from None
        if not isinstance(chunk, dict):
            raise bad_response(SERVICE, response.request.url, "stream line is not an object")
        if "error" in chunk:
            raise self._stream_error(chunk)
        return chunk

    def _stream_error(self, chunk: dict[str, Any]) -> JobFailure:
        """An error line inside a 200 stream: the runner died or ran out of memory mid-answer."""
        message = str(chunk.get("error"))
        return RetryableJobError(
            f"ollama: the model failed while answering: {message}",
            details={"service": SERVICE, "reason": "runner_error", "error": message},
        )

    async def _result(
        self,
        spec: OllamaPayload,
        final: dict[str, Any],
        text: str,
        thinking: str,
        tool_calls: list[Any],
        progress: ProgressReporter,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "data": text,
            "mimeType": None,
            "model": final.get("model", spec.model),
            "done_reason": final.get("done_reason"),
            "stats": {key: final[key] for key in STAT_FIELDS if key in final},
        }
        if thinking:
            result["thinking"] = thinking
        if tool_calls:
            result["tool_calls"] = tool_calls
        if not text and not tool_calls and final.get("done_reason") == "load":
            raise PermanentJobError(
                f"ollama: {spec.model} was only loaded; the request had nothing to answer",
                details={"service": SERVICE, "reason": "empty_request"},
            )
        await progress(100.0, f"{result['stats'].get('eval_count', '?')} tokens")
        return result


def _pieces(chunk: dict[str, Any]) -> tuple[str, str]:
    """The text and the thinking one NDJSON chunk adds (generate and chat put them differently)."""
    message = chunk.get("message")
    if isinstance(message, dict):
        return str(message.get("content") or ""), str(message.get("thinking") or "")
    return str(chunk.get("response") or ""), str(chunk.get("thinking") or "")
