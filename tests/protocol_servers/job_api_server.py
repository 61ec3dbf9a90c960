"""A typical asynchronous generation API, for the `fetch_api` (service "http") connector:

- `GET /palette?count=&base=` answers at once (a single-call API);
- `POST /v1/jobs` (needs `X-Api-Key`) → 201 `{"id", "status": "queued"}`; each
  `GET /v1/jobs/{id}` moves it on: queued → running (progress 0.5) → succeeded with
  `result.url` pointing at `/files/{id}.png`, or → failed with an `error` when the prompt says
  "fail"; a prompt with "never" stays running forever;
- `GET /files/{name}` serves the PNG; `GET /raw.png` serves one directly.

`flaky_polls` makes that many polls answer 503 first; `fault` "garbage" answers HTML to everything.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), color).save(buffer, "PNG")
    return buffer.getvalue()


class JobApiServer:
    def __init__(self, api_key: str = "key-42") -> None:
        self.api_key = api_key
        self.fault: str | None = None
        self.flaky_polls = 0
        self.jobs: dict[str, dict[str, Any]] = {}
        self.submissions: list[dict[str, Any]] = []
        self.polls = 0
        self.seen_headers: list[dict[str, str]] = []
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/palette")
        async def palette(count: int, base: str = "blue") -> Response:
            if self.fault == "garbage":
                return Response("<html>maintenance</html>", media_type="text/html")
            shades = [f"{base}-{i}" for i in range(count)]
            return JSONResponse({"base": base, "colors": shades})

        @app.post("/v1/jobs")
        async def submit(request: Request) -> Response:
            self.seen_headers.append(dict(request.headers))
            if request.headers.get("x-api-key") != self.api_key:
                return JSONResponse({"error": "bad api key"}, status_code=401)
            body = await request.json()
            self.submissions.append(body)
            job_id = f"job-{uuid.uuid4().hex[:8]}"
            prompt = str(body.get("prompt", ""))
            self.jobs[job_id] = {"id": job_id, "status": "queued", "prompt": prompt, "steps": 0}
            return JSONResponse({"id": job_id, "status": "queued"}, status_code=201)

        @app.get("/v1/jobs/{job_id}")
        async def poll(job_id: str, request: Request) -> Response:
            self.polls += 1
            if self.flaky_polls > 0:
                self.flaky_polls -= 1
                return JSONResponse({"error": "try again"}, status_code=503)
            job = self.jobs.get(job_id)
            if job is None:
                return JSONResponse({"error": "no such job"}, status_code=404)
            job["steps"] += 1
            if "never" in job["prompt"] or job["steps"] == 1:
                job["status"], job["progress"] = "running", 0.5
            elif "fail" in job["prompt"]:
                job["status"], job["error"] = "failed", "NSFW filter tripped"
            else:
                job["status"], job["progress"] = "succeeded", 1.0
                base = str(request.base_url).rstrip("/")
                job["result"] = {"url": f"{base}/files/{job_id}.png", "seed": 7}
            return JSONResponse({k: v for k, v in job.items() if k != "steps"})

        @app.get("/files/{name}")
        async def files(name: str) -> Response:
            if name.removesuffix(".png") not in self.jobs:
                return Response(status_code=404)
            return Response(png((200, 40, 40)), media_type="image/png")

        @app.get("/raw.png")
        async def raw() -> Response:
            return Response(png((10, 200, 10)), media_type="image/png")

        return app
