"""Every chain service query: platforms, deployments, mint requests, signed transactions and the
signer rows whose lock orders nonces."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import (
    ChainPlatform,
    ChainSigner,
    ChainTransaction,
    CollectionDeployment,
    MintRequest,
)


class ChainRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ transactions

    async def transaction(self, purpose: str) -> ChainTransaction | None:
        return (
            await self.session.execute(
                select(ChainTransaction).where(ChainTransaction.purpose == purpose)
            )
        ).scalar_one_or_none()

    async def unsent_before(self, chain_id: int, signer: str, nonce: int) -> list[ChainTransaction]:
        """This signer's recorded but not yet broadcast transactions with a lower nonce, in nonce
        order: they must reach the node first, or it has a gap it will not fill."""
        rows = await self.session.execute(
            select(ChainTransaction)
            .where(
                ChainTransaction.chain_id == chain_id,
                ChainTransaction.signer == signer,
                ChainTransaction.status == "signed",
                ChainTransaction.nonce < nonce,
            )
            .order_by(ChainTransaction.nonce)
        )
        return list(rows.scalars())

    async def transactions_with_prefix(self, prefix: str) -> list[ChainTransaction]:
        rows = await self.session.execute(
            select(ChainTransaction)
            .where(ChainTransaction.purpose.startswith(prefix, autoescape=True))
            .order_by(ChainTransaction.nonce)
        )
        return list(rows.scalars())

    async def update_transaction(self, row_id: uuid.UUID, **values: Any) -> None:
        await self.session.execute(
            update(ChainTransaction).where(ChainTransaction.id == row_id).values(**values)
        )

    async def mark_sent(self, row_ids: list[uuid.UUID]) -> None:
        """signed → sent; never moves a mined or reverted row back."""
        if row_ids:
            await self.session.execute(
                update(ChainTransaction)
                .where(ChainTransaction.id.in_(row_ids), ChainTransaction.status == "signed")
                .values(status="sent")
            )

    # ------------------------------------------------------------------ signers

    async def signer_exists(self, chain_id: int, address: str) -> bool:
        found = await self.session.execute(
            select(ChainSigner.id).where(
                ChainSigner.chain_id == chain_id, ChainSigner.address == address
            )
        )
        return found.first() is not None

    async def lock_signer(self, chain_id: int, address: str) -> ChainSigner:
        """The signer row, locked until this transaction ends. A write comes first: on SQLite it
        takes the database's write lock (a SELECT alone would not), on PostgreSQL the row's."""
        await self.session.execute(
            update(ChainSigner)
            .where(ChainSigner.chain_id == chain_id, ChainSigner.address == address)
            .values(next_nonce=ChainSigner.next_nonce)
        )
        return (
            await self.session.execute(
                select(ChainSigner)
                .where(ChainSigner.chain_id == chain_id, ChainSigner.address == address)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()

    # ------------------------------------------------------------------ platform, deployments

    async def platform(self, chain_id: int, genesis_hash: str) -> ChainPlatform | None:
        return (
            await self.session.execute(
                select(ChainPlatform).where(
                    ChainPlatform.chain_id == chain_id, ChainPlatform.genesis_hash == genesis_hash
                )
            )
        ).scalar_one_or_none()

    async def deployment(self, deployment_id: uuid.UUID) -> CollectionDeployment | None:
        return await self.session.get(CollectionDeployment, deployment_id)

    async def deployment_at(self, chain_id: int, address: str) -> CollectionDeployment | None:
        return (
            await self.session.execute(
                select(CollectionDeployment).where(
                    CollectionDeployment.chain_id == chain_id,
                    CollectionDeployment.address == address,
                )
            )
        ).scalar_one_or_none()

    # ------------------------------------------------------------------ mint requests

    async def mint_request(self, deployment_id: uuid.UUID, request_id: str) -> MintRequest | None:
        return (
            await self.session.execute(
                select(MintRequest).where(
                    MintRequest.deployment_id == deployment_id,
                    MintRequest.request_id == request_id,
                )
            )
        ).scalar_one_or_none()

    async def mint_request_by_id(self, row_id: uuid.UUID) -> MintRequest | None:
        return await self.session.get(MintRequest, row_id, populate_existing=True)

    async def update_mint_request(self, row_id: uuid.UUID, **values: Any) -> None:
        await self.session.execute(
            update(MintRequest).where(MintRequest.id == row_id).values(**values)
        )
