"""Generation request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emprops.workflows import MAX_GENERATIONS, is_well_formed_hash


class GenerationRequest(BaseModel):
    """Start a run of a collection's GenerationInput. Every field is optional."""

    model_config = ConfigDict(extra="forbid")

    generations: int | None = Field(
        default=None, ge=1, le=MAX_GENERATIONS,
        description="How many generations (default: what the collection asks for).",
    )  # fmt: skip
    hashes: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_GENERATIONS,
        description="Custom hashes, one generation each (replaces the collection's).",
    )  # fmt: skip
    priority: int = Field(default=50, ge=0, le=100)

    @field_validator("hashes")
    @classmethod
    def _hashes(cls, hashes: list[str] | None) -> list[str] | None:
        if hashes is None:
            return None
        for i, value in enumerate(hashes):
            if not is_well_formed_hash(value):
                raise ValueError(f"hashes[{i}] is not a generation hash (6-256 of A-Za-z0-9_-)")
        if len(set(hashes)) != len(hashes):
            raise ValueError("hashes must be distinct")
        return hashes

    @model_validator(mode="after")
    def _count_matches(self) -> GenerationRequest:
        if self.hashes is not None and self.generations not in (None, len(self.hashes)):
            raise ValueError("generations must equal the number of hashes when both are given")
        return self


class RunAccepted(BaseModel):
    job_id: uuid.UUID = Field(description="The run's id: GET /jobs/{job_id}.")
    status: str
    generations: int
    credits_held: int
    events_url: str


class JobOut(BaseModel):
    id: uuid.UUID
    collection_id: uuid.UUID | None
    name: str
    job_type: str
    status: str = Field(description="pending | running | completed | failed | cancelled")
    progress: int = Field(description="Percent of the run's steps finished.")
    error: str | None
    generations: int
    completed_generations: int
    failed_generations: int
    cancelled_generations: int
    credits_held: int
    credits_charged: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class JobHistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    message: str | None
    data: dict[str, Any]
    created_at: datetime
