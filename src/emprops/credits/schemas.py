"""Credit request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emprops.workflows import MAX_GENERATIONS


class BalanceOut(BaseModel):
    permanent: int
    rental: int
    held: int = Field(description="Reserved by runs in progress.")
    available: int = Field(description="permanent + rental - held: what a new run may hold.")


class LedgerEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: Literal["grant", "hold", "charge", "release"]
    permanent_delta: int
    rental_delta: int
    held_delta: int
    reference: str | None
    created_at: datetime


class EstimateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    generation_input: dict[str, Any] = Field(description="A v2 GenerationInput document.")
    generations: int | None = Field(
        default=None, ge=1, le=MAX_GENERATIONS,
        description="How many generations to price (default: what the document asks for).",
    )  # fmt: skip


class StepCost(BaseModel):
    step_id: int
    workflow: str
    cost: float = Field(description="Credits for the first generation (0 for a skipped step).")


class EstimateOut(BaseModel):
    steps: list[StepCost]
    cost_per_generation: float = Field(description="The first generation's exact cost.")
    generations: int
    total: int
    available: int
    sufficient: bool


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    amount: int = Field(ge=1, le=1_000_000_000)
    kind: Literal["permanent", "rental"] = "permanent"
    reference: str | None = Field(
        default=None, min_length=1, max_length=150, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Idempotency key: the same grant sent twice is applied once.",
    )  # fmt: skip


class GrantOut(BaseModel):
    entry: LedgerEntryOut
    balance: BalanceOut
    created: bool = Field(description="False when this reference had already been granted.")
