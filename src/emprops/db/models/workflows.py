"""Registered components a step can name (a ComfyUI graph, a direct job, an HTTP API) and their
immutable versions: the row holds the latest, `component_versions` every one a run may pin."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, IdMixin, TimestampMixin, utcnow


class WorkflowRecord(IdMixin, TimestampMixin, Base):
    __tablename__ = "workflows"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40))  # comfy_workflow | direct_job | fetch_api
    service: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_mime_type: Mapped[str | None] = mapped_column(String(120))
    models: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"models": [...]}
    min_vram_gb: Mapped[int | None] = mapped_column()
    credit_cost: Mapped[int] = mapped_column(default=1)  # per step per generation
    # The latest version; its definition is in component_versions.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    digest: Mapped[str | None] = mapped_column(String(64))
    cost: Mapped[str | None] = mapped_column(Text)  # a cost expression; None: credit_cost
    test_values: Mapped[dict[str, Any] | None] = mapped_column()


class ComponentVersion(IdMixin, Base):
    """Never changed: registering a component again adds a version."""

    __tablename__ = "component_versions"
    __table_args__ = (
        UniqueConstraint("workflow_id", "version", name="uq_component_versions_version"),
    )

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    digest: Mapped[str] = mapped_column(String(64), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
