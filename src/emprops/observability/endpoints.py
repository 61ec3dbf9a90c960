"""Liveness, readiness and Prometheus metrics: what an orchestrator and a scraper ask for.

None of these need a caller's credentials (probes and scrapers carry none) and none are rate
limited; keep `/metrics` on a private network, or turn it off with `EMPROPS_METRICS_ENABLED=0`.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any, Literal

import redis
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel

from emprops import __version__
from emprops.api.errors import ErrorResponse, error_response
from emprops.api.state import AppState
from emprops.core.errors import ErrorCode
from emprops.observability.health import CheckResult, ReadinessCheck, builtin_checks, run_checks
from emprops.observability.http_metrics import HttpMetrics
from emprops.observability.job_metrics import read_job_metrics
from emprops.observability.queue_metrics import queue_metrics

log = structlog.get_logger(__name__)
router = APIRouter(tags=["health"])

_REDIS_DOWN = (redis.RedisError, OSError)
PROBE_PATHS = frozenset({"/health", "/health/ready", "/metrics"})


def is_probe(scope: MutableMapping[str, Any]) -> bool:
    """Probes and scrapes arrive every few seconds: tracing them would bury the traces of work."""
    return scope.get("path") in PROBE_PATHS


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: list[CheckResult]


@router.get("/health")
async def liveness() -> Liveness:
    """The process answers; nothing else is checked (restart it when this fails)."""
    return Liveness(version=__version__)


@router.get(
    "/health/ready",
    responses={503: {"model": ErrorResponse, "description": "A dependency is not usable."}},
)
async def readiness(request: Request) -> Any:
    """Redis, the database and every registered check answer (send traffic only when 200). On 503
    `details.failed` names the checks that failed and `details.checks` says why."""
    state: AppState | None = getattr(request.app.state, "emprops", None)
    if state is None:
        return error_response(503, str(ErrorCode.UNAVAILABLE), "not ready: still starting")
    extra: list[ReadinessCheck] = list(getattr(request.app.state, "readiness_checks", []))
    results = await run_checks([*builtin_checks(state), *extra], state.settings.readiness_timeout_s)
    failed = [r for r in results if not r.ok]
    if failed:
        reasons = "; ".join(f"{r.name}: {r.error}" for r in failed)
        log.warning("not ready", failed=[r.name for r in failed], reasons=reasons)
        return error_response(
            503,
            str(ErrorCode.UNAVAILABLE),
            f"not ready: {reasons}",
            {
                "failed": [r.name for r in failed],
                "checks": [r.model_dump() for r in results],
            },
        )
    return JSONResponse(Readiness(checks=results).model_dump())


class _Families(Collector):
    """Metric families computed for one scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format: this process's HTTP metrics, then queue and job metrics read from
    Redis now (`emprops_queue_metrics_up` is 0 when Redis could not be read)."""
    http: HttpMetrics | None = getattr(request.app.state, "http_metrics", None)
    state: AppState | None = getattr(request.app.state, "emprops", None)
    if http is None or state is None or not state.settings.metrics_enabled:
        return error_response(404, str(ErrorCode.NOT_FOUND), "metrics are turned off")
    families: list[Metric] = []
    up = GaugeMetricFamily(
        "emprops_queue_metrics_up", "1 when queue and job metrics were read from Redis."
    )
    try:
        families += await queue_metrics(state.broker)
        families += await read_job_metrics(state.redis, state.broker.keys.metrics)
        up.add_metric([], 1)
    except _REDIS_DOWN as exc:
        log.warning("queue metrics unavailable", error=str(exc))
        families = []
        up.add_metric([], 0)
    body = generate_latest(http.registry) + generate_latest(_Families([up, *families]))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
