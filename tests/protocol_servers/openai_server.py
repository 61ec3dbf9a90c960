"""An OpenAI-compatible REST server: `GET /v1/models`, `POST /v1/chat/completions` (a JSON
`chat.completion`, or `chat.completion.chunk` server-sent events ending in `data: [DONE]`, with a
usage chunk when `stream_options.include_usage` is set) and `POST /v1/images/generations`
(`b64_json` or `url`, the URL served by this server), behind a Bearer key, with the API's error
body `{"error": {"message", "type", "param", "code"}}`.

`fault` makes it fail: "rate_limit" (429 + Retry-After), "quota" (429 insufficient_quota),
"server_error" (500), "overloaded" (503), "garbage" (HTML with 200), "midstream_error" (an error
event inside the stream), "no_done" (stream stops without finishing), "ignore_stream" (answers in
one JSON object, as some compatible servers do).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from PIL import Image

MODELS = ("gpt-4o-mini", "gpt-image-1", "dall-e-3")


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def reply_words(messages: list[dict[str, Any]]) -> list[str]:
    last = str(messages[-1].get("content", "")) if messages else ""
    words = f"Sure. You said: {last}".split()
    return [word if i == 0 else f" {word}" for i, word in enumerate(words)]


def png_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (seed * 40 % 256, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


class OpenAIServer:
    def __init__(self, api_key: str = "sk-test-123") -> None:
        self.api_key = api_key
        self.fault: str | None = None
        self.retry_after = "2"
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str | None] = []
        self.files: dict[str, bytes] = {}
        self.app = self._build_app()

    def _check(self, request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization")
        self.auth_headers.append(header)
        if header != f"Bearer {self.api_key}":
            shown = (header or "").removeprefix("Bearer ")[:8]
            return _error(
                401,
                f"Incorrect API key provided: {shown}****. You can find your API key at your "
                "account settings.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if self.fault == "rate_limit":
            return _error(
                429,
                "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.",
                "requests",
                "rate_limit_exceeded",
                headers={"retry-after": self.retry_after, "x-ratelimit-remaining-requests": "0"},
            )
        if self.fault == "quota":
            return _error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if self.fault == "server_error":
            return _error(
                500,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            )
        if self.fault == "overloaded":
            return _error(
                503,
                "The engine is currently overloaded, please try again later.",
                "server_error",
                None,
            )
        return None

    async def _body(self, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
                None,
            )
        self.requests.append(body)
        model = body.get("model")
        if model is not None and model not in MODELS:
            return _error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        return dict(body)

    async def _chat(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        if self.fault == "garbage":
            return Response("<html><body>Bad gateway</body></html>", media_type="text/html")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(
                400,
                "Missing required parameter: 'messages'.",
                "invalid_request_error",
                "missing_required_parameter",
                "messages",
            )
        words = reply_words(messages)
        budget = body.get("max_completion_tokens", body.get("max_tokens"))
        finish = "stop"
        if isinstance(budget, int) and 0 < budget < len(words):
            words, finish = words[:budget], "length"
        ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        }
        if not body.get("stream") or self.fault == "ignore_stream":
            return JSONResponse(
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": created,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": "".join(words),
                                "refusal": None,
                                "annotations": [],
                            },
                            "logprobs": None,
                            "finish_reason": finish,
                        }
                    ],
                    "usage": usage,
                    "system_fingerprint": "fp_replay",
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            self._events(ident, created, body["model"], words, finish, usage, include_usage),
            media_type="text/event-stream",
        )

    async def _events(
        self,
        ident: str,
        created: int,
        model: str,
        words: list[str],
        finish: str,
        usage: dict[str, int],
        include_usage: bool,
    ) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, Any], finish_reason: str | None) -> bytes:
            data: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_replay",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
            if include_usage:
                data["usage"] = None
            return f"data: {json.dumps(data)}\n\n".encode()

        yield chunk({"role": "assistant", "content": "", "refusal": None}, None)
        for index, word in enumerate(words):
            if self.fault == "midstream_error" and index == 2:
                error = {
                    "error": {
                        "message": "The server had an error while processing your request.",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
                yield f"data: {json.dumps(error)}\n\n".encode()
                return
            if self.fault == "no_done" and index == 2:
                return
            yield chunk({"content": word}, None)
            await asyncio.sleep(0)
        yield chunk({}, finish)
        if include_usage:
            tail = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_replay",
                "choices": [],
                "usage": usage,
            }
            yield f"data: {json.dumps(tail)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    async def _images(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        if self.fault == "garbage":
            return Response("<html>nope</html>", media_type="text/html")
        if not body.get("prompt"):
            return _error(
                400,
                "Missing required parameter: 'prompt'.",
                "invalid_request_error",
                "missing_required_parameter",
                "prompt",
            )
        count = int(body.get("n", 1))
        form = body.get("response_format") or "url"
        if body.get("model") == "gpt-image-1":
            form = "b64_json"  # gpt-image-1 always answers in base64
        data = []
        for index in range(count):
            image = png_bytes(index)
            item: dict[str, Any] = {"revised_prompt": f"A detailed image of {body['prompt']}"}
            if form == "b64_json":
                item["b64_json"] = base64.b64encode(image).decode()
            else:
                name = f"img-{uuid.uuid4().hex[:12]}.png"
                self.files[name] = image
                item["url"] = f"{str(request.base_url).rstrip('/')}/files/{name}?sig=abc123"
            data.append(item)
        return JSONResponse({"created": int(time.time()), "data": data})

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        async def models(request: Request) -> Response:
            refused = self._check(request)
            if refused is not None:
                return refused
            return JSONResponse(
                {
                    "object": "list",
                    "data": [
                        {
                            "id": name,
                            "object": "model",
                            "created": 1_700_000_000,
                            "owned_by": "system",
                        }
                        for name in MODELS
                    ],
                }
            )

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            return await self._chat(request)

        @app.post("/v1/images/generations")
        async def images(request: Request) -> Response:
            return await self._images(request)

        @app.get("/files/{name}")
        async def files(name: str, request: Request) -> Response:
            self.auth_headers.append(request.headers.get("authorization"))
            data = self.files.get(name)
            if data is None:
                return Response(status_code=404)
            return Response(data, media_type="image/png")

        return app
