"""The `publish` service: workers that may touch the database, the blob store and the chain
signer run package, deploy and mint operations queued by the API."""

from __future__ import annotations

import uuid
from typing import Any

from emprops.core.errors import EmpropsError
from emprops.core.settings import Settings
from emprops.queue.models import Job
from emprops.storage import BlobStore
from emprops.worker.connector import (
    Connector,
    PermanentJobError,
    ProgressReporter,
    RetryableJobError,
)


class PublishConnector(Connector):
    service = "publish"

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        *,
        store: BlobStore | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(config, store=store)
        self.settings = settings  # default: the process's EMPROPS_* settings

    async def start(self) -> None:
        from emprops.core.settings import get_settings
        from emprops.db import create_engine, database_url, session_factory, upgrade_to_head_async
        from emprops.publishing.operations import PublishContext

        settings = self.settings or get_settings()
        url = database_url(settings)
        await upgrade_to_head_async(url)
        self._engine = create_engine(url)
        self._ctx = PublishContext(settings, session_factory(self._engine), self.store)

    async def close(self) -> None:
        await self._engine.dispose()

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        from emprops.publishing.operations import OperationGoneError, run_operation
        from emprops.publishing.transient import is_transient

        try:
            operation_id = uuid.UUID(str(job.payload["operation_id"]))
        except (KeyError, ValueError) as exc:
            raise PermanentJobError(f"bad publish payload: {exc}") from exc
        try:
            last_try = job.retry_count >= job.max_retries
            return await run_operation(self._ctx, operation_id, progress, last_try=last_try)
        except OperationGoneError as exc:
            # the API submits before its transaction commits: try again shortly
            raise RetryableJobError(exc.message) from exc
        except EmpropsError as exc:
            if is_transient(exc):
                raise RetryableJobError(exc.message, details=exc.details) from exc
            raise PermanentJobError(exc.message, details=exc.details) from exc
