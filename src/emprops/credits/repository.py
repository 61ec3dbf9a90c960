"""Every query of the credits domain.

Concurrency: holding is one conditional UPDATE (`... WHERE permanent + rental - held >= amount`),
atomic on both databases. Settling locks the balance row first (`SELECT ... FOR UPDATE` on
PostgreSQL; on SQLite a no-op UPDATE, which takes the database's single write lock), so the
check for an existing ledger reference and the write that follows cannot interleave with another.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.base import utcnow
from emprops.db.models import CreditBalance, CreditLedgerEntry, User


class CreditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def user_exists(self, user_id: uuid.UUID) -> bool:
        found = await self.session.execute(select(User.id).where(User.id == user_id))
        return found.scalar_one_or_none() is not None

    async def balance(self, user_id: uuid.UUID) -> CreditBalance | None:
        return (
            await self.session.execute(
                select(CreditBalance)
                .where(CreditBalance.user_id == user_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def ensure_balance(self, user_id: uuid.UUID) -> None:
        """Create the user's (empty) balance row unless it exists; safe under concurrency."""
        insert = pg_insert if self._postgresql else sqlite_insert
        await self.session.execute(
            insert(CreditBalance)
            .values(user_id=user_id, permanent=0, rental=0, held=0, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["user_id"])
        )

    async def lock_balance(self, user_id: uuid.UUID) -> CreditBalance | None:
        """The balance row, locked until the transaction ends."""
        if not self._postgresql:
            await self.session.execute(
                update(CreditBalance)
                .where(CreditBalance.user_id == user_id)
                .values(held=CreditBalance.held)
                .execution_options(synchronize_session=False)
            )
        return (
            await self.session.execute(
                select(CreditBalance)
                .where(CreditBalance.user_id == user_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def try_hold(self, user_id: uuid.UUID, amount: int) -> bool:
        """Reserve `amount` if that much is available, in one atomic statement."""
        available = CreditBalance.permanent + CreditBalance.rental - CreditBalance.held
        held = await self.session.execute(
            update(CreditBalance)
            .where(CreditBalance.user_id == user_id, available >= amount)
            .values(held=CreditBalance.held + amount, updated_at=utcnow())
            .returning(CreditBalance.user_id)
            .execution_options(synchronize_session=False)
        )
        return held.first() is not None

    async def apply(
        self, user_id: uuid.UUID, *, permanent: int = 0, rental: int = 0, held: int = 0
    ) -> None:
        """Add these deltas to the balance (the caller holds the row lock)."""
        await self.session.execute(
            update(CreditBalance)
            .where(CreditBalance.user_id == user_id)
            .values(
                permanent=CreditBalance.permanent + permanent,
                rental=CreditBalance.rental + rental,
                held=CreditBalance.held + held,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )

    async def entry_by_reference(self, reference: str) -> CreditLedgerEntry | None:
        return (
            await self.session.execute(
                select(CreditLedgerEntry).where(CreditLedgerEntry.reference == reference)
            )
        ).scalar_one_or_none()

    async def references_with_prefix(self, prefix: str) -> set[str]:
        rows = await self.session.execute(
            select(CreditLedgerEntry.reference).where(
                CreditLedgerEntry.reference.startswith(prefix, autoescape=True)
            )
        )
        return {r for r in rows.scalars() if r is not None}

    async def add_entry(self, entry: CreditLedgerEntry) -> None:
        self.session.add(entry)
        await self.session.flush()

    async def history(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> list[CreditLedgerEntry]:
        rows = await self.session.execute(
            select(CreditLedgerEntry)
            .where(CreditLedgerEntry.user_id == user_id)
            .order_by(CreditLedgerEntry.created_at.desc(), CreditLedgerEntry.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars())
