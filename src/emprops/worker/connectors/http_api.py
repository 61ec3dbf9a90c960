"""The `fetch_api` workflow type: one HTTP call, or submit-then-poll, with the output picked by jq.

Payload (`service_required: "http"`):
    {"vars": {...},                                   # the step's inputs: `.` in templates
     "request": {"method": "POST", "url": "https://api.example/v1/jobs",
                 "headers": {"Authorization": "Bearer {{ $secrets.example_key }}"},
                 "query": {...}, "body": {"prompt": "{{ .prompt }}"}, "expect": "json"},
     "poll": {"request": {"url": "https://api.example/v1/jobs/{{ $submit.id }}"},
              "done": ".status == \"succeeded\"", "failed": ".status == \"failed\"",
              "error": ".error", "progress": ".progress * 100",
              "interval_s": 2, "max_interval_s": 10, "timeout_s": 600, "max_errors": 3},
     "output": ".result.url", "output_type": "file" | "data", "timeout_s"?}

Templates use `{{ jq }}` placeholders (see jq_template) over `vars`, with `$submit` (the first
response), `$job` ({"id"}) and, in headers only, `$secrets` (from the worker config, so keys never
travel in job payloads). Conditions and outputs are jq too: data, never code, evaluated in a child
process with a time limit (see jq_sandbox). Polls back off from `interval_s` to `max_interval_s`;
up to `max_errors` failed polls in a row (network, 5xx, 429, 404) are ridden out without
resubmitting, since a resubmission could pay for the remote work twice.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

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
    read_limited,
    redacted_url,
)
from emprops.worker.connectors.job_outputs import (
    OutputTarget,
    mime_for_filename,
    require_store,
    sniff_mime,
    store_output,
)
from emprops.worker.connectors.jq_sandbox import JqExpressionError, JqSandbox, check_expression
from emprops.worker.connectors.jq_template import find_expressions, render
from emprops.worker.connectors.outbound_http import (
    OutboundAccess,
    OutboundClient,
    OutboundPolicy,
    Resolver,
    check_url,
)

SERVICE = "http"
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class HttpApiConfig(OutboundAccess):
    """The `[http]` section of the worker config.

    Only public addresses are reachable unless `allow_private` is set or the address falls in
    `allowed_networks` (see outbound_http): job payloads choose the URLs.
    """

    model_config = ConfigDict(extra="forbid")

    allowed_hosts: list[str] | None = Field(
        default=None, description="Host patterns (fnmatch, e.g. *.example.com); unset: any host."
    )
    max_redirects: int = Field(default=5, ge=0, le=50)
    secrets: dict[str, SecretStr] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    request_timeout_s: float = Field(default=60.0, gt=0)
    job_timeout_s: float = Field(default=3600.0, gt=0)
    jq_timeout_s: float = Field(default=2.0, gt=0)
    max_response_bytes: int = Field(default=32 << 20, gt=0)
    max_file_bytes: int = Field(default=1 << 30, gt=0)

    def outbound_policy(self) -> OutboundPolicy:
        return OutboundPolicy(
            allow_private=self.allow_private,
            allowed_networks=self.allowed_networks,
            allowed_hosts=self.allowed_hosts,
            max_redirects=self.max_redirects,
            max_response_bytes=max(self.max_response_bytes, self.max_file_bytes),
            connect_timeout_s=self.connect_timeout_s,
            request_timeout_s=self.request_timeout_s,
            total_timeout_s=self.job_timeout_s,
        )


class RequestTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Method = "GET"
    url: str = Field(min_length=1, max_length=8192)
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    expect: Literal["json", "text", "bytes"] = "json"

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://", "{{")):
            raise ValueError("url must start with http:// or https:// (or be one placeholder)")
        return url

    def expressions(self) -> list[str]:
        return find_expressions([self.url, self.query, self.body])


class PollSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: RequestTemplate
    done: str
    failed: str | None = None
    error: str | None = None
    progress: str | None = None
    interval_s: float = Field(default=2.0, ge=0.01, le=300)
    max_interval_s: float | None = Field(default=None, ge=0.01, le=600)
    timeout_s: float = Field(default=600.0, gt=0, le=7 * 24 * 3600)
    max_errors: int = Field(default=3, ge=0, le=100)

    def conditions(self) -> list[str]:
        return [e for e in (self.done, self.failed, self.error, self.progress) if e is not None]


class FetchApiPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vars: dict[str, Any] = Field(default_factory=dict)
    request: RequestTemplate
    poll: PollSpec | None = None
    output: str = "."
    output_type: Literal["data", "file"] = "data"
    timeout_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _checked(self) -> FetchApiPayload:
        templates = [self.request] + ([self.poll.request] if self.poll else [])
        expressions = [self.output] + (self.poll.conditions() if self.poll else [])
        for template in templates:
            expressions += template.expressions() + find_expressions(template.headers)
        for expression in expressions:
            try:
                check_expression(expression)
            except JqExpressionError as exc:
                raise ValueError(str(exc)) from None
        final = self.poll.request if self.poll else self.request
        if final.expect == "bytes" and self.output_type != "file":
            raise ValueError("a bytes response can only be stored as a file (output_type: file)")
        if self.poll is not None and self.request.expect == "bytes":
            raise ValueError("the submit response of a polled call must be json or text")
        return self


class Answer(BaseModel):
    """One response as the templates and conditions see it."""

    status: int
    url: str
    content_type: str | None
    value: Any = None  # parsed JSON or text; None for bytes
    raw: bytes = b""


class HttpApiConnector(Connector):
    service = SERVICE

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        *,
        store: BlobStore | None = None,
        resolver: Resolver | None = None,
    ):
        super().__init__(config, store=store)
        self.settings = parse_config(HttpApiConfig, self.config, SERVICE)
        self.policy = self.settings.outbound_policy()
        self._resolver = resolver  # None: the system resolver; tests answer for themselves
        self._http: httpx.AsyncClient | None = None
        self._jq: JqSandbox | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._jq is not None:
            await self._jq.close()
            self._jq = None

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        spec = parse_payload(FetchApiPayload, job, SERVICE)
        limit_s = spec.timeout_s or job.timeout_s or self.settings.job_timeout_s
        deadline = asyncio.timeout(limit_s)
        try:
            async with deadline:
                return await self._run(job, spec, progress)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise RetryableJobError(
                f"http: job {job.id} did not finish within {limit_s:g} s",
                details={"service": SERVICE, "reason": "timeout", "timeout_s": limit_s},
            ) from None

    async def _run(
        self, job: Job, spec: FetchApiPayload, progress: ProgressReporter
    ) -> dict[str, Any]:
        variables: dict[str, Any] = {"submit": None, "job": {"id": job.id}}
        await progress(0.0, f"{spec.request.method} {redacted_url(spec.request.url)}")
        answer = await self._call(spec.request, spec.vars, variables)
        polls = 0
        if spec.poll is not None:
            variables["submit"] = answer.value
            answer, polls = await self._poll(spec.poll, spec.vars, variables, progress)
        if spec.output_type == "file":
            result = await self._store_file(job, spec, answer, variables)
        else:
            value = await self._jq_one(spec.output, answer.value, variables, "output")
            result = {"data": value, "mimeType": None}
        result["http"] = {"status": answer.status, "polls": polls}
        await progress(100.0, "done")
        return result

    # --- requests -------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = OutboundClient(
                self.policy, resolver=self._resolver, label=SERVICE, headers=self.settings.headers
            )
        return self._http

    def _sandbox(self) -> JqSandbox:
        if self._jq is None:
            self._jq = JqSandbox(timeout_s=self.settings.jq_timeout_s)
        return self._jq

    async def _jq_many(
        self, expressions: list[str], value: Any, variables: dict[str, Any], where: str
    ) -> dict[str, Any]:
        pending = [e for e in expressions if e.strip() != "."]  # identity needs no child process
        try:
            found = await self._sandbox().evaluate(pending, value, variables)
            by_expression = dict(zip(pending, found, strict=True))
            results = [value if e.strip() == "." else by_expression[e] for e in expressions]
        except JqExpressionError as exc:
            raise PermanentJobError(
                f"http: {where}: {exc}",
                details={"service": SERVICE, "reason": "jq", "where": where},
            ) from None
        return dict(zip(expressions, results, strict=True))

    async def _jq_one(
        self, expression: str, value: Any, variables: dict[str, Any], where: str
    ) -> Any:
        return (await self._jq_many([expression], value, variables, where))[expression]

    def _check_host(self, url: str) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise PermanentJobError(
                f"http: {url[:200]!r} is not a URL: {exc}", details={"service": SERVICE}
            ) from None
        check_url(parsed, self.policy, SERVICE)  # addresses are checked again on each connect

    async def _render(
        self, template: RequestTemplate, data: dict[str, Any], variables: dict[str, Any]
    ) -> tuple[str, dict[str, str], dict[str, Any], Any]:
        values = await self._jq_many(template.expressions(), data, variables, "request template")
        url = render(template.url, values, encode=True)
        query = render(template.query, values)
        body = render(template.body, values)
        header_expressions = find_expressions(template.headers)
        secrets = {k: v.get_secret_value() for k, v in self.settings.secrets.items()}
        header_values = await self._jq_many(
            header_expressions, data, {**variables, "secrets": secrets}, "request headers"
        )
        headers = {k: str(v) for k, v in render(template.headers, header_values).items()}
        if not isinstance(url, str):
            raise PermanentJobError(
                f"http: the url template gave {type(url).__name__}, not a string",
                details={"service": SERVICE},
            )
        self._check_host(url)
        return url, headers, query, body

    async def _call(
        self, template: RequestTemplate, data: dict[str, Any], variables: dict[str, Any]
    ) -> Answer:
        url, headers, query, body = await self._render(template, data, variables)
        client = self._client()
        params = {
            k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in query.items()
        }
        limit = (
            self.settings.max_file_bytes
            if template.expect == "bytes"
            else self.settings.max_response_bytes
        )
        try:
            async with client.stream(
                template.method,
                url,
                headers=headers,
                params=params or None,
                json=body,
            ) as response:
                if not 200 <= response.status_code < 300:
                    await response.aread()
                    raise failure_for_status(SERVICE, response)
                raw = await read_limited(response, limit, SERVICE)
        except httpx.HTTPError as exc:
            raise failure_for_transport(SERVICE, exc, url) from exc
        content_type = response.headers.get("content-type")
        value: Any = None
        if template.expect == "json":
            try:
                value = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                raise bad_response(
                    SERVICE, url, f"not JSON ({raw[:60].decode('utf-8', 'replace')!r})"
                ) from None
        elif template.expect == "text":
            value = raw.decode(response.encoding or "utf-8", "replace")
        return Answer(
            status=response.status_code,
            url=redacted_url(url),
            content_type=content_type,
            value=value,
            raw=raw if template.expect == "bytes" else b"",
        )

    async def _poll(
        self,
        spec: PollSpec,
        data: dict[str, Any],
        variables: dict[str, Any],
        progress: ProgressReporter,
    ) -> tuple[Answer, int]:
        started = time.monotonic()
        interval = spec.interval_s
        ceiling = max(spec.interval_s, spec.max_interval_s or spec.interval_s)
        errors, polls, percent = 0, 0, 5.0
        await progress(percent, "submitted")
        while True:
            if time.monotonic() - started > spec.timeout_s:
                raise RetryableJobError(
                    f"http: the remote job was not done after {spec.timeout_s:g} s of polling",
                    details={"service": SERVICE, "reason": "poll_timeout", "polls": polls},
                )
            await asyncio.sleep(interval)
            interval = min(ceiling, interval * 1.5)
            polls += 1
            try:
                answer = await self._call(spec.request, data, variables)
            except JobFailure as exc:
                status = exc.details.get("status")
                transient = exc.retryable or status == 404
                errors += 1
                if not transient or errors > spec.max_errors:
                    raise
                await progress(percent, f"poll {polls} failed ({errors}/{spec.max_errors})")
                continue
            errors = 0
            checks = await self._jq_many(spec.conditions(), answer.value, variables, "poll check")
            if spec.failed is not None and _truthy(checks[spec.failed]):
                reason = checks.get(spec.error) if spec.error else None
                raise PermanentJobError(
                    f"http: the remote job failed: {_short(reason) or 'failed condition met'}",
                    details={
                        "service": SERVICE,
                        "reason": "remote_failed",
                        "error": reason,
                        "polls": polls,
                    },
                )
            if _truthy(checks[spec.done]):
                return answer, polls
            if spec.progress is not None and isinstance(checks[spec.progress], int | float):
                percent = max(percent, min(99.0, float(checks[spec.progress])))
            await progress(percent, f"poll {polls}: not done")

    async def _store_file(
        self, job: Job, spec: FetchApiPayload, answer: Answer, variables: dict[str, Any]
    ) -> dict[str, Any]:
        store = require_store(self.store, SERVICE)
        target = OutputTarget.for_job(job, default_name="output")
        if answer.raw:
            data, declared, name = answer.raw, answer.content_type, answer.url
        else:
            location = await self._jq_one(spec.output, answer.value, variables, "output")
            if not isinstance(location, str) or not location.startswith(("http://", "https://")):
                raise PermanentJobError(
                    f"http: output {spec.output!r} gave {_short(location)!r}, not an http(s) URL",
                    details={"service": SERVICE, "reason": "output_not_url"},
                )
            data, declared = await self._download(location)
            name = location
        base = (declared or "").split(";", 1)[0].strip()
        file_name = httpx.URL(name).path.rsplit("/", 1)[-1] or None
        mime = (
            sniff_mime(data)
            or (base if base and base != "application/octet-stream" else None)
            or (mime_for_filename(file_name) if file_name else "application/octet-stream")
        )
        entry = await store_output(store, target, 0, data, mime, source_name=file_name)
        return {"src": entry["src"], "mimeType": mime, "outputs": [entry]}

    async def _download(self, url: str) -> tuple[bytes, str | None]:
        self._check_host(url)
        client = self._client()
        try:
            async with client.stream("GET", url) as response:  # redirects: checked per hop
                if response.status_code != 200:
                    await response.aread()
                    raise failure_for_status(SERVICE, response)
                data = await read_limited(response, self.settings.max_file_bytes, SERVICE)
                return data, response.headers.get("content-type")
        except httpx.HTTPError as exc:
            raise failure_for_transport(SERVICE, exc, url) from exc


def _truthy(value: Any) -> bool:
    """jq truth: everything but false and null."""
    return value is not None and value is not False


def _short(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text[:300]
