"""Credits: a balance per user (rental first, then permanent) and an append-only ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, IdMixin, utcnow


class CreditBalance(Base):
    __tablename__ = "credit_balances"
    __table_args__ = (
        CheckConstraint("permanent >= 0", name="permanent_not_negative"),
        CheckConstraint("rental >= 0", name="rental_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        # What is held must be payable: available (permanent + rental - held) is never negative.
        CheckConstraint("held <= permanent + rental", name="held_covered"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    permanent: Mapped[int] = mapped_column(default=0)
    rental: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)  # reserved by running generations
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CreditLedgerEntry(IdMixin, Base):
    """Never updated or deleted: the balance is explained by summing these."""

    __tablename__ = "credit_ledger"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # grant | hold | charge | release
    permanent_delta: Mapped[int] = mapped_column(default=0)
    rental_delta: Mapped[int] = mapped_column(default=0)
    held_delta: Mapped[int] = mapped_column(default=0)
    # Unique: an operation that must happen once (holding for a run, settling one generation,
    # an idempotent grant) names itself here, so doing it twice is refused by the database.
    reference: Mapped[str | None] = mapped_column(String(200), index=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
