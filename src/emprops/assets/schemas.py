"""Stored-output (flat file) response and request bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AssetOut(BaseModel):
    """A stored output, without its provenance (lists stay small)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    path: str | None
    name: str
    mime_type: str | None
    hidden: bool
    created_at: datetime


class AssetComponentOut(BaseModel):
    """A step that produced (or shares) the file."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    collection_id: uuid.UUID
    step_id: int
    node_name: str


class AssetDetailOut(AssetOut):
    """One stored output with the inputs that made it and what the step returned."""

    gen_in_data: dict[str, Any] | None
    gen_out_data: dict[str, Any] | None
    components: list[AssetComponentOut]
