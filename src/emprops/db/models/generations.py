"""A generation run's journal and outcomes, kept beside its `jobs` row.

`generation_step_results` is the engine's run journal in the database (what each step returned or
why it failed), so a restarted API resumes a run without redoing finished steps.
`generation_outcomes` holds how each generation ended; its primary key is what makes settling a
generation's credits happen once, whoever (the runner or a cancel) gets there first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, utcnow


class GenerationStepResult(Base):
    __tablename__ = "generation_step_results"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    step_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    job_id: Mapped[str] = mapped_column(String(200))  # the broker job that produced it
    output: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GenerationOutcome(Base):
    __tablename__ = "generation_outcomes"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20))  # completed | failed | cancelled
    error: Mapped[str | None] = mapped_column(Text)
    credits_charged: Mapped[int] = mapped_column(default=0)
    credits_released: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
