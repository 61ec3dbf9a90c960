"""A connector for the latency measurement: its handler's first line reports the time it began,
exactly as the peers' latency handlers do (see common.report_start)."""

from __future__ import annotations

from typing import Any

import common

from emprops.core.settings import get_settings
from emprops.queue.models import Job
from emprops.worker.connector import Connector, ProgressReporter


class ProbeConnector(Connector):
    service = "probe"

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        common.report_start(get_settings().redis_url or "")
        return {}
