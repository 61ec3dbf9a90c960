"""Registered workflows (components a step can name): a ComfyUI graph, a direct job, an HTTP API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, IdMixin, TimestampMixin


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
