"""An Ollama server as the connector sees it: `/api/generate` and `/api/chat` streaming NDJSON
(`application/x-ndjson`, one object per line, a final `done: true` line with the timing stats) or
answering in one object with `stream: false`, `/api/version`, `/api/tags`, and Ollama's errors
(`{"error": "..."}` with 404 for a model it does not have, 400 for a bad request, an error line
inside a 200 stream when the runner dies).

The "model" writes a fixed answer from the prompt, one word per chunk, so tests can check text and
token counts. `fault` makes it fail: "crash" (500), "midstream_error", "truncated" (stream ends
without done), "garbage" (HTML with 200), "slow" (pauses between chunks).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

MODELS = ("llama3.2:latest", "tiny:latest")
VERSION = "0.12.3"


def answer_words(prompt: str) -> list[str]:
    words = f"Here is a caption for: {prompt.strip()}".split()
    return [word if i == 0 else f" {word}" for i, word in enumerate(words)]


def _created_at() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class OllamaServer:
    def __init__(self) -> None:
        self.fault: str | None = None
        self.requests: list[dict[str, Any]] = []
        self.slow_s = 0.5
        self.app = self._build_app()

    @staticmethod
    def _model_name(name: str) -> str | None:
        full = name if ":" in name else f"{name}:latest"
        return full if full in MODELS else None

    def _chunks(self, body: dict[str, Any], chat: bool) -> tuple[list[str], str, int]:
        if chat:
            last = body["messages"][-1]
            prompt = str(last.get("content", ""))
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        else:
            prompt = str(body.get("prompt", ""))
            prompt_tokens = len(prompt.split())
        words = answer_words(prompt)
        budget = (body.get("options") or {}).get("num_predict")
        reason = "stop"
        if isinstance(budget, int) and 0 < budget < len(words):
            words, reason = words[:budget], "length"
        return words, reason, prompt_tokens

    def _piece(self, model: str, chat: bool, text: str) -> dict[str, Any]:
        if chat:
            return {
                "model": model,
                "created_at": _created_at(),
                "message": {"role": "assistant", "content": text},
                "done": False,
            }
        return {"model": model, "created_at": _created_at(), "response": text, "done": False}

    def _final(
        self, model: str, chat: bool, text: str, reason: str, prompt_tokens: int, count: int
    ) -> dict[str, Any]:
        final = self._piece(model, chat, text)
        final["done"] = True
        final["done_reason"] = reason
        if not chat:
            final["context"] = list(range(1, prompt_tokens + count + 1))
        final.update(
            {
                "total_duration": 1_234_567_890,
                "load_duration": 12_345_678,
                "prompt_eval_count": prompt_tokens,
                "prompt_eval_duration": 23_456_789,
                "eval_count": count,
                "eval_duration": 345_678_901,
            }
        )
        return final

    async def _answer(self, request: Request, chat: bool) -> Response:
        try:
            body = await request.json()
        except json.JSONDecodeError as exc:
            return JSONResponse({"error": f"invalid character: {exc}"}, status_code=400)
        self.requests.append(body)
        if self.fault == "crash":
            return JSONResponse(
                {"error": "llama runner process has terminated: exit status 2"}, status_code=500
            )
        if self.fault == "garbage":
            return Response("<html>upstream gone</html>", media_type="text/html")
        name = body.get("model")
        if not name:
            return JSONResponse({"error": "model is required"}, status_code=400)
        model = self._model_name(name)
        if model is None:
            return JSONResponse(
                {"error": f'model "{name}" not found, try pulling it first'}, status_code=404
            )
        images = list(body.get("images") or [])
        for message in body.get("messages") or []:
            images += message.get("images") or []
        for image in images:
            try:
                base64.b64decode(image, validate=True)
            except ValueError:
                return JSONResponse(
                    {"error": "illegal base64 data at input byte 0"}, status_code=400
                )
        if chat and not body.get("messages"):
            final = self._final(model, chat, "", "load", 0, 0)
            return JSONResponse(final)
        words, reason, prompt_tokens = self._chunks(body, chat)
        if body.get("stream", True) is False:
            return JSONResponse(
                self._final(model, chat, "".join(words), reason, prompt_tokens, len(words))
            )
        return StreamingResponse(
            self._stream(model, chat, words, reason, prompt_tokens),
            media_type="application/x-ndjson",
        )

    async def _stream(
        self, model: str, chat: bool, words: list[str], reason: str, prompt_tokens: int
    ) -> AsyncIterator[bytes]:
        for index, word in enumerate(words):
            if self.fault == "midstream_error" and index == 2:
                yield (
                    json.dumps(
                        {
                            "error": "an error was encountered while running the model: "
                            "unexpected EOF"
                        }
                    )
                    + "\n"
                ).encode()
                return
            if self.fault == "truncated" and index == 2:
                return
            if self.fault == "slow":
                await asyncio.sleep(self.slow_s)
            yield (json.dumps(self._piece(model, chat, word)) + "\n").encode()
            await asyncio.sleep(0)
        final = self._final(model, chat, "", reason, prompt_tokens, len(words))
        yield (json.dumps(final) + "\n").encode()

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/")
        async def root() -> PlainTextResponse:
            return PlainTextResponse("Ollama is running")

        @app.get("/api/version")
        async def version() -> dict[str, str]:
            return {"version": VERSION}

        @app.get("/api/tags")
        async def tags() -> dict[str, Any]:
            now = _created_at()
            return {
                "models": [
                    {
                        "name": name,
                        "model": name,
                        "modified_at": now,
                        "size": 2_019_393_189,
                        "digest": f"{abs(hash(name)):064x}"[:64],
                        "details": {
                            "parent_model": "",
                            "format": "gguf",
                            "family": "llama",
                            "families": ["llama"],
                            "parameter_size": "3.2B",
                            "quantization_level": "Q4_K_M",
                        },
                    }
                    for name in MODELS
                ]
            }

        @app.post("/api/generate")
        async def generate(request: Request) -> Response:
            return await self._answer(request, chat=False)

        @app.post("/api/chat")
        async def chat(request: Request) -> Response:
            return await self._answer(request, chat=True)

        return app
