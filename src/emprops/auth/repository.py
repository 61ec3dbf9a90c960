"""Every query of the auth domain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import ApiKey, RefreshToken, SiweNonce, User, Wallet


class AuthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_user(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def wallet_by_address(self, address: str) -> Wallet | None:
        return (
            await self.session.execute(select(Wallet).where(Wallet.address == address))
        ).scalar_one_or_none()

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        return (
            await self.session.execute(select(ApiKey).where(ApiKey.prefix == prefix))
        ).scalar_one_or_none()

    async def api_keys_of(self, user_id: uuid.UUID) -> list[ApiKey]:
        rows = await self.session.execute(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at)
        )
        return list(rows.scalars())

    async def get_api_key(self, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
        return (
            await self.session.execute(
                select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def refresh_token_by_hmac(self, token_hmac: str) -> RefreshToken | None:
        return (
            await self.session.execute(
                select(RefreshToken).where(RefreshToken.token_hmac == token_hmac)
            )
        ).scalar_one_or_none()

    async def mark_refresh_used(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Atomically claim a refresh token; False when it was already used (a replay)."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def use_nonce(self, nonce: str, now: datetime) -> bool:
        """Consume a SIWE nonce once; False when unknown, expired or already used."""
        result = await self.session.execute(
            update(SiweNonce)
            .where(
                SiweNonce.nonce == nonce, SiweNonce.used_at.is_(None), SiweNonce.expires_at > now
            )
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def wallets_of(self, user_id: uuid.UUID) -> list[str]:
        rows = await self.session.execute(select(Wallet.address).where(Wallet.user_id == user_id))
        return list(rows.scalars())
