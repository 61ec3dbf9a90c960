"""Publishing a collection: package, deploy and mint requests, each run as a queue job.

One row per request, keyed so that asking again (the same run, chain or mint request id) finds the
row instead of starting a second operation; the job id carries the attempt, so a failed operation
can be tried again without colliding with the job that failed.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, IdMixin, TimestampMixin


class OperationKind(StrEnum):
    PACKAGE = "package"
    DEPLOY = "deploy"
    MINT = "mint"


class OperationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class PublishOperation(IdMixin, TimestampMixin, Base):
    __tablename__ = "publish_operations"
    __table_args__ = (UniqueConstraint("collection_id", "kind", "request_key"),)

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    request_key: Mapped[str] = mapped_column(String(200))  # run id, chain name, mint request id
    status: Mapped[str] = mapped_column(String(20), default=OperationStatus.QUEUED)
    attempt: Mapped[int] = mapped_column(default=1)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def job_id(self) -> str:
        return f"publish.{self.id}.a{self.attempt}"
