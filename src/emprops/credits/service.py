"""Credits: a balance per user, an append-only ledger, holds for runs. Never commits.

Accounting: a hold reserves credits (`held` grows; nothing is spent yet), so
`available = permanent + rental - held`. Settling one generation either charges its share (spent
from rental first, then permanent, and un-held) or releases it (un-held). Every ledger entry
carries the deltas it applied, so summing a user's ledger gives the balance exactly.

Idempotency: an operation that must happen once names itself in the entry's unique `reference`
(`hold:<run>`, `settle:<run>:<generation>`, `grant:<key>`). Settling checks the reference under
the balance row's lock, so a generation that is both completed by the runner and released by a
cancel is settled exactly once, by whichever came first.
"""

from __future__ import annotations

import uuid

from emprops.core.errors import ConflictError, NotFoundError
from emprops.credits.errors import PaymentRequiredError
from emprops.credits.repository import CreditRepository
from emprops.credits.schemas import BalanceOut, GrantRequest
from emprops.db.models import CreditBalance, CreditLedgerEntry


def balance_out(balance: CreditBalance | None) -> BalanceOut:
    if balance is None:
        return BalanceOut(permanent=0, rental=0, held=0, available=0)
    return BalanceOut(
        permanent=balance.permanent,
        rental=balance.rental,
        held=balance.held,
        available=balance.permanent + balance.rental - balance.held,
    )


def hold_reference(run_id: uuid.UUID) -> str:
    return f"hold:{run_id}"


def settle_reference(run_id: uuid.UUID, generation: int) -> str:
    return f"settle:{run_id}:{generation}"


class CreditService:
    def __init__(self, repository: CreditRepository) -> None:
        self.repo = repository

    async def balance(self, user_id: uuid.UUID) -> BalanceOut:
        return balance_out(await self.repo.balance(user_id))

    async def history(
        self, user_id: uuid.UUID, *, limit: int = 50, offset: int = 0
    ) -> list[CreditLedgerEntry]:
        return await self.repo.history(user_id, limit=limit, offset=offset)

    async def grant(self, body: GrantRequest) -> tuple[CreditLedgerEntry, bool]:
        """Add credits (an administrator's act); with a reference, a repeat is a no-op."""
        if not await self.repo.user_exists(body.user_id):
            raise NotFoundError("user not found", details={"user_id": str(body.user_id)})
        await self.repo.ensure_balance(body.user_id)
        await self.repo.lock_balance(body.user_id)
        reference = f"grant:{body.reference}" if body.reference else None
        if reference is not None:
            existing = await self.repo.entry_by_reference(reference)
            if existing is not None:
                delta = existing.permanent_delta + existing.rental_delta
                if existing.user_id != body.user_id or delta != body.amount:
                    raise ConflictError(
                        f"grant reference {body.reference!r} was used for a different grant",
                        details={"reference": body.reference},
                    )
                return existing, False
        permanent = body.amount if body.kind == "permanent" else 0
        rental = body.amount if body.kind == "rental" else 0
        await self.repo.apply(body.user_id, permanent=permanent, rental=rental)
        entry = CreditLedgerEntry(
            id=uuid.uuid4(), user_id=body.user_id, kind="grant",
            permanent_delta=permanent, rental_delta=rental, held_delta=0, reference=reference,
        )  # fmt: skip
        await self.repo.add_entry(entry)
        return entry, True

    async def hold(self, user_id: uuid.UUID, amount: int, reference: str) -> None:
        """Reserve `amount` or refuse with 402; atomic, so concurrent holds never overdraw."""
        if amount <= 0:
            return
        if not await self.repo.try_hold(user_id, amount):
            available = balance_out(await self.repo.balance(user_id)).available
            raise PaymentRequiredError(
                f"this needs {amount} credits and {available} are available",
                details={"needed": amount, "available": available},
            )
        await self.repo.add_entry(
            CreditLedgerEntry(
                id=uuid.uuid4(), user_id=user_id, kind="hold", held_delta=amount,
                reference=reference,
            )
        )  # fmt: skip

    async def settle(
        self, user_id: uuid.UUID, amount: int, reference: str, *, charge: bool
    ) -> bool:
        """Charge (spend rental first, then permanent) or release `amount` of what is held.
        Returns False when `reference` was already settled (nothing changes)."""
        if amount <= 0:
            return True
        balance = await self.repo.lock_balance(user_id)
        if balance is None or await self.repo.entry_by_reference(reference) is not None:
            return False
        amount = min(amount, balance.held)  # never below zero, whatever the caller believes
        rental = min(balance.rental, amount) if charge else 0
        permanent = amount - rental if charge else 0
        await self.repo.apply(user_id, permanent=-permanent, rental=-rental, held=-amount)
        await self.repo.add_entry(
            CreditLedgerEntry(
                id=uuid.uuid4(), user_id=user_id, kind="charge" if charge else "release",
                permanent_delta=-permanent, rental_delta=-rental, held_delta=-amount,
                reference=reference,
            )
        )  # fmt: skip
        return True
