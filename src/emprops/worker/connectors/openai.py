"""Chat completions and image generations from OpenAI or any server with the same REST API
(vLLM, LocalAI, LM Studio, llama.cpp's server, gateways), at a configured base URL and key.

Payload (`service_required: "openai"`):
    chat (default): {"operation": "chat", "model", "messages": [...] | "prompt": "...",
                     "system"?, "stream": true, ...any other chat parameter, "timeout_s"?}
    images:         {"operation": "images", "prompt", "model"?, "n"?, "size"?,
                     "response_format"?: "b64_json" | "url", ...}
Chat streams over SSE so progress follows the tokens; images come back as base64 or URLs and go
into the blob store either way. Unknown payload keys are passed through to the API, which is what
makes "compatible" servers with their own parameters usable.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

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
    error_text,
    failure_for_status,
    failure_for_transport,
    parse_json_body,
    read_limited,
)
from emprops.worker.connectors.job_outputs import (
    OutputTarget,
    require_store,
    sniff_mime,
    store_output,
)
from emprops.worker.connectors.token_progress import TokenProgress

SERVICE = "openai"
# Codes that arrive with a retryable status but will not get better by waiting.
PERMANENT_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
OUR_KEYS = frozenset({"operation", "timeout_s", "prompt", "system"})


class OpenAIConfig(BaseModel):
    """The `[openai]` section of the worker config."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    organization: str | None = None
    project: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=600.0, gt=0)
    job_timeout_s: float = Field(default=1800.0, gt=0)
    stream_usage: bool = Field(
        default=True, description="Ask for usage in streams (stream_options.include_usage)."
    )
    max_image_bytes: int = Field(default=64 << 20, gt=0)


class ChatPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    operation: Literal["chat"] = "chat"
    model: str = Field(min_length=1, max_length=200)
    messages: list[dict[str, Any]] | None = Field(default=None, min_length=1)
    prompt: str | None = None
    system: str | None = None
    stream: bool = True
    timeout_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _messages_or_prompt(self) -> ChatPayload:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give either messages or prompt")
        return self

    def body(self, stream_usage: bool) -> dict[str, Any]:
        body = {k: v for k, v in self.model_dump().items() if k not in OUR_KEYS and v is not None}
        messages = list(self.messages or [{"role": "user", "content": self.prompt}])
        if self.system is not None:
            messages.insert(0, {"role": "system", "content": self.system})
        body["messages"] = messages
        if self.stream and stream_usage:
            body.setdefault("stream_options", {"include_usage": True})
        return body

    @property
    def expected_tokens(self) -> int | None:
        extra = self.model_extra or {}
        budget = extra.get("max_completion_tokens", extra.get("max_tokens"))
        return budget if isinstance(budget, int) and budget > 0 else None


class ImagePayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    operation: Literal["images"]
    prompt: str = Field(min_length=1)
    model: str | None = None
    n: int = Field(default=1, ge=1, le=10)
    response_format: Literal["b64_json", "url"] | None = None
    timeout_s: float | None = Field(default=None, gt=0)

    def body(self) -> dict[str, Any]:
        body = {k: v for k, v in self.model_dump().items() if k not in OUR_KEYS and v is not None}
        body["prompt"] = self.prompt
        return body


class OpenAIConnector(Connector):
    service = SERVICE

    def __init__(self, config: dict[str, Any] | None = None, *, store: BlobStore | None = None):
        super().__init__(config, store=store)
        self.settings = parse_config(OpenAIConfig, self.config, SERVICE)
        self.models: list[str] = []
        self._http: httpx.AsyncClient | None = None
        self._fetch: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """List the models: checks the base URL and the key in one request."""
        client = self._client()
        try:
            response = await client.get("models", timeout=2 * self.settings.connect_timeout_s)
        except httpx.HTTPError as exc:
            raise UnavailableError(
                f"OpenAI-compatible API at {self.settings.base_url} is not reachable: {exc!r}"
            ) from exc
        if response.status_code != 200:
            raise UnavailableError(
                f"{self.settings.base_url}/models answered HTTP {response.status_code}: "
                f"{error_text(response.content)}"
            )
        try:
            listed = parse_json_body(SERVICE, response).get("data") or []
            self.models = sorted(str(m["id"]) for m in listed if isinstance(m, dict) and "id" in m)
        except (JobFailure, AttributeError) as exc:
            raise UnavailableError(f"{self.settings.base_url}/models is not a model list") from exc

    async def close(self) -> None:
        for client in (self._http, self._fetch):
            if client is not None:
                await client.aclose()
        self._http = self._fetch = None

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        operation = job.payload.get("operation", "chat")
        spec: ChatPayload | ImagePayload
        if operation == "images":
            spec = parse_payload(ImagePayload, job, SERVICE)
        elif operation == "chat":
            spec = parse_payload(ChatPayload, job, SERVICE)
        else:
            raise PermanentJobError(
                f"job {job.id}: openai operation {operation!r} is not chat or images",
                details={"service": SERVICE, "field": "operation"},
            )
        limit_s = spec.timeout_s or job.timeout_s or self.settings.job_timeout_s
        deadline = asyncio.timeout(limit_s)
        try:
            async with deadline:
                if isinstance(spec, ImagePayload):
                    return await self._images(job, spec, progress)
                if spec.stream:
                    return await self._chat_stream(spec, progress)
                return await self._chat_whole(spec, progress)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise RetryableJobError(
                f"openai: job {job.id} did not finish within {limit_s:g} s",
                details={"service": SERVICE, "reason": "timeout", "timeout_s": limit_s},
            ) from None

    # --- HTTP -----------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            headers = dict(self.settings.headers)
            if self.settings.api_key is not None:
                headers["Authorization"] = f"Bearer {self.settings.api_key.get_secret_value()}"
            if self.settings.organization:
                headers["OpenAI-Organization"] = self.settings.organization
            if self.settings.project:
                headers["OpenAI-Project"] = self.settings.project
            self._http = httpx.AsyncClient(
                base_url=self.settings.base_url.rstrip("/") + "/",
                headers=headers,
                timeout=httpx.Timeout(
                    self.settings.read_timeout_s, connect=self.settings.connect_timeout_s
                ),
            )
        return self._http

    def _refusal(self, response: httpx.Response) -> JobFailure:
        """`{"error": {"message", "type", "param", "code"}}` → a classified failure."""
        try:
            error = orjson.loads(response.content).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        details: dict[str, Any] = {}
        retryable: bool | None = None
        if isinstance(error, dict):
            details = {
                "error_type": error.get("type"),
                "error_code": error.get("code"),
                "param": error.get("param"),
            }
            if error.get("code") in PERMANENT_CODES:
                retryable = False
                details["reason"] = "quota"
        return failure_for_status(SERVICE, response, details=details, retryable=retryable)

    async def _post_json(self, path: str, body: dict[str, Any]) -> Any:
        client = self._client()
        try:
            response = await client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise failure_for_transport(SERVICE, exc, client.base_url.join(path)) from exc
        if response.status_code != 200:
            raise self._refusal(response)
        return parse_json_body(SERVICE, response)

    # --- chat -----------------------------------------------------------------------------------

    async def _chat_whole(self, spec: ChatPayload, progress: ProgressReporter) -> dict[str, Any]:
        await progress(0.0, f"{spec.model}: waiting for the answer")
        result = _completion_result(await self._post_json("chat/completions", spec.body(False)))
        await progress(100.0, "done")
        return result

    async def _chat_stream(self, spec: ChatPayload, progress: ProgressReporter) -> dict[str, Any]:
        await progress(0.0, f"{spec.model}: waiting for the first token")
        client = self._client()
        tokens = TokenProgress(progress, spec.expected_tokens)
        text: list[str] = []
        refusal: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        model, finish_reason, usage, done = spec.model, None, None, False
        try:
            async with client.stream(
                "POST", "chat/completions", json=spec.body(self.settings.stream_usage)
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._refusal(response)
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # A server that ignores `stream` answers in one piece (or not at all).
                    await response.aread()
                    result = _completion_result(parse_json_body(SERVICE, response))
                    await progress(100.0, "done")
                    return result
                async for data in _sse_data(response):
                    if data == "[DONE]":
                        done = True
                        break
                    chunk = _json_event(data, response)
                    model = chunk.get("model") or model
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                            continue
                        delta = choice.get("delta") or {}
                        finish_reason = choice.get("finish_reason") or finish_reason
                        if delta.get("content"):
                            text.append(delta["content"])
                            await tokens.add()
                        if delta.get("refusal"):
                            refusal.append(delta["refusal"])
                        for call in delta.get("tool_calls") or []:
                            _merge_tool_call(calls, call)
        except httpx.HTTPError as exc:
            where = client.base_url.join("chat/completions")
            raise failure_for_transport(SERVICE, exc, where) from exc
        if not done and finish_reason is None:
            raise RetryableJobError(
                f"openai: the chat stream for {spec.model} ended before it finished",
                details={"service": SERVICE, "reason": "truncated", "model": spec.model},
            )
        result = _chat_result(
            model,
            "".join(text),
            finish_reason,
            usage,
            [calls[i] for i in sorted(calls)],
            "".join(refusal) or None,
        )
        await progress(100.0, f"{tokens.tokens} chunks")
        return result

    # --- images ---------------------------------------------------------------------------------

    async def _images(
        self, job: Job, spec: ImagePayload, progress: ProgressReporter
    ) -> dict[str, Any]:
        store = require_store(self.store, SERVICE)
        target = OutputTarget.for_job(job, default_name="image")
        await progress(0.0, "generating")
        answer = await self._post_json("images/generations", spec.body())
        items = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(items, list) or not items:
            raise bad_response(SERVICE, "images/generations", "no data[] in the answer")
        declared = answer.get("output_format")
        outputs: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            data = await self._image_bytes(item)
            mime = sniff_mime(data) or (f"image/{declared}" if declared else "image/png")
            entry = await store_output(store, target, index, data, mime)
            if isinstance(item, dict) and item.get("revised_prompt"):
                entry["revised_prompt"] = item["revised_prompt"]
            outputs.append(entry)
            await progress(100.0 * (index + 1) / (len(items) + 1), f"stored {index + 1}")
        result: dict[str, Any] = {
            "src": outputs[0]["src"],
            "mimeType": outputs[0]["mimeType"],
            "outputs": outputs,
        }
        if "revised_prompt" in outputs[0]:
            result["revised_prompt"] = outputs[0]["revised_prompt"]
        if isinstance(answer.get("usage"), dict):
            result["usage"] = answer["usage"]
        await progress(100.0, "done")
        return result

    async def _image_bytes(self, item: Any) -> bytes:
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            try:
                data = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError):
                raise bad_response(
                    SERVICE, "images/generations", "b64_json is not base64"
                ) from None
            if len(data) > self.settings.max_image_bytes:
                raise PermanentJobError(
                    f"openai: image of {len(data)} bytes is over the limit",
                    details={"service": SERVICE, "reason": "too_large"},
                )
            return data
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            url = item["url"]
            if self._fetch is None:  # image URLs are signed: no API key goes with them
                self._fetch = httpx.AsyncClient(
                    timeout=httpx.Timeout(self.settings.read_timeout_s, connect=10.0),
                    follow_redirects=True,
                )
            try:
                async with self._fetch.stream("GET", url) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise failure_for_status(SERVICE, response)
                    return await read_limited(response, self.settings.max_image_bytes, SERVICE)
            except httpx.HTTPError as exc:
                raise failure_for_transport(SERVICE, exc, url) from exc
        raise bad_response(SERVICE, "images/generations", "an image has neither b64_json nor url")


async def _sse_data(response: httpx.Response) -> AsyncIterator[str]:
    """The `data` of each server-sent event (multi-line data joined by newlines)."""
    lines: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            lines.append(value[1:] if value.startswith(" ") else value)
    if lines:
        yield "\n".join(lines)


def _json_event(data: str, response: httpx.Response) -> dict[str, Any]:
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise bad_response(
            SERVICE, response.request.url, f"stream event is not JSON: {data[:80]!r}"
        ) from None
    if not isinstance(chunk, dict):
        raise bad_response(SERVICE, response.request.url, "stream event is not an object")
    error = chunk.get("error")
    if error is not None:
        message = error.get("message") if isinstance(error, dict) else str(error)
        kind = error.get("type") if isinstance(error, dict) else None
        failure_type = PermanentJobError if kind == "invalid_request_error" else RetryableJobError
        raise failure_type(
            f"openai: the stream failed: {message}",
            details={"service": SERVICE, "reason": "stream_error", "error_type": kind},
        )
    return chunk


def _completion_result(answer: Any) -> dict[str, Any]:
    """A whole `chat.completion` object as a step result."""
    try:
        choice = answer["choices"][0]
        message = choice["message"]
        model = str(answer.get("model") or "")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise bad_response(SERVICE, "chat/completions", "no choices[0].message") from None
    return _chat_result(
        model,
        message.get("content") or "",
        choice.get("finish_reason"),
        answer.get("usage"),
        message.get("tool_calls") or [],
        message.get("refusal"),
    )


def _merge_tool_call(calls: dict[int, dict[str, Any]], delta: dict[str, Any]) -> None:
    """Tool calls stream in pieces keyed by index; names and arguments arrive in fragments."""
    index = int(delta.get("index", 0))
    call = calls.setdefault(
        index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if delta.get("id"):
        call["id"] = delta["id"]
    function = delta.get("function") or {}
    if function.get("name"):
        call["function"]["name"] += function["name"]
    if function.get("arguments"):
        call["function"]["arguments"] += function["arguments"]


def _chat_result(
    model: str,
    text: str,
    finish_reason: str | None,
    usage: Any,
    tool_calls: list[Any],
    refusal: str | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "data": text,
        "mimeType": None,
        "model": model,
        "finish_reason": finish_reason,
    }
    if isinstance(usage, dict):
        result["usage"] = usage
    if tool_calls:
        result["tool_calls"] = tool_calls
    if refusal:
        result["refusal"] = refusal
    return result
