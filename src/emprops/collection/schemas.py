"""Collection request and response bodies.

A create body names where the GenerationInput comes from (`source`): empty, a template, an asset's
recorded inputs, or custom data. The GenerationInput itself is checked by the service against the
workflow catalog (every problem at once), not by these models.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_serializer, field_validator

CollectionStatusName = Literal["draft", "published"]
_URL_SCHEMES = ("https://", "http://", "ipfs://", "ar://")


class CollectionFields(BaseModel):
    """What a creator sets on a collection besides its workflow."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    blockchain: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="e.g. base, arbitrum"
    )
    editions: int | None = Field(default=None, ge=1, le=10_000_000)
    price: Decimal | None = Field(default=None, ge=0, max_digits=38, decimal_places=18)
    batch_mint_enabled: bool | None = None
    batch_max_tokens: int | None = Field(default=None, ge=1, le=10_000)
    cover_image_url: str | None = Field(default=None, max_length=2048)

    @field_validator("cover_image_url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(_URL_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(_URL_SCHEMES)}")
        return url


class CreateEmpty(CollectionFields):
    """A minimal valid GenerationInput: no steps, one generation."""

    source: Literal["empty"]


class CreateFromTemplate(CollectionFields):
    """Copy the data of a collection the caller can read: one of theirs (any state) or any
    published, unarchived one. The title defaults to the template's."""

    source: Literal["template"]
    template_id: uuid.UUID


class CreateFromAsset(CollectionFields):
    """Start from a stored output's recorded inputs (`gen_in_data`): a whole GenerationInput
    (as is, or under `generation_input`), or one step, which becomes a one-step collection seeded
    by the asset's `hash` when it has one. A step is read as a generation run records it
    (`workflow`, `payload`, `step_id`) or in the format's shape (`nodeName`, `nodePayload`,
    bare or under `step`). The title defaults to the asset's name."""

    source: Literal["asset"]
    asset_id: uuid.UUID


class CreateFromData(CollectionFields):
    source: Literal["custom"]
    data: dict[str, JsonValue] = Field(description="A v2 GenerationInput.")


CollectionCreate = Annotated[
    CreateEmpty | CreateFromTemplate | CreateFromAsset | CreateFromData,
    Field(discriminator="source"),
]


class CollectionUpdate(CollectionFields):
    """Fields left out stay; `data` is re-validated, and refused once published (remix instead)."""

    data: dict[str, JsonValue] | None = Field(default=None, description="A v2 GenerationInput.")


class CollectionRemix(CollectionFields):
    """Fork into one of the caller's projects: a new draft with fresh step ids."""

    project_id: uuid.UUID


class CollectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    description: str | None
    status: CollectionStatusName
    blockchain: str | None
    editions: int | None
    price: Decimal | None
    batch_mint_enabled: bool
    batch_max_tokens: int | None
    cover_image_url: str | None
    data: dict[str, Any]
    archived: bool
    remixed_from_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @field_serializer("price")
    def _price(self, price: Decimal | None) -> str | None:
        """A decimal string without the column's padding ("0.05", not "0.050000000000000000")."""
        if price is None:
            return None
        return format(price.normalize(), "f")


class ComponentOut(BaseModel):
    """A step of the collection, by the id its GenerationInput uses (`step_id`)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    collection_id: uuid.UUID
    step_id: int
    node_name: str
    alias: str | None
    created_at: datetime
