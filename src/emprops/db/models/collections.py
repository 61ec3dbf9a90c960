"""Collections (data = a v2 GenerationInput), their components (steps), and stored files."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, IdMixin, TimestampMixin, utcnow


class CollectionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CollectionStage(StrEnum):
    """How far a collection has come toward the chain; it only moves forward."""

    DRAFT = "draft"
    GENERATED = "generated"
    PACKAGED = "packaged"
    DEPLOYED = "deployed"
    MINTED = "minted"

    @property
    def rank(self) -> int:
        return list(CollectionStage).index(self)


class CollectionRecord(IdMixin, TimestampMixin, Base):
    __tablename__ = "collections"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=CollectionStatus.DRAFT)
    stage: Mapped[str] = mapped_column(
        String(20), default=CollectionStage.DRAFT, server_default=CollectionStage.DRAFT.value
    )
    blockchain: Mapped[str | None] = mapped_column(String(40))
    editions: Mapped[int | None] = mapped_column()
    price: Mapped[Decimal | None] = mapped_column(Numeric(38, 18))
    batch_mint_enabled: Mapped[bool] = mapped_column(default=False)
    batch_max_tokens: Mapped[int | None] = mapped_column()
    cover_image_url: Mapped[str | None] = mapped_column(String(2048))
    data: Mapped[dict[str, Any]] = mapped_column()
    archived: Mapped[bool] = mapped_column(default=False)
    remixed_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL")
    )


class Component(IdMixin, Base):
    """One step of a collection, with the integer id its GenerationInput uses."""

    __tablename__ = "components"

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int] = mapped_column()
    node_name: Mapped[str] = mapped_column(String(200))
    alias: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlatFile(IdMixin, Base):
    """A stored output with the inputs that made it (provenance)."""

    __tablename__ = "flat_files"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    path: Mapped[str | None] = mapped_column(String(1024))
    name: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str | None] = mapped_column(String(120))
    gen_in_data: Mapped[dict[str, Any] | None] = mapped_column()
    gen_out_data: Mapped[dict[str, Any] | None] = mapped_column()
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComponentFlatFile(Base):
    __tablename__ = "component_flat_files"

    component_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), primary_key=True
    )
    flat_file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flat_files.id", ondelete="CASCADE"), primary_key=True
    )
