"""Users, sessions and API keys. Never commits: the request's unit of work does."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from emprops.auth.errors import SessionReplayError, UnauthorizedError
from emprops.auth.repository import AuthRepository
from emprops.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, NonceOut, Scope, TokenPair
from emprops.auth.tokens import (
    api_key_prefix,
    credential_hmac,
    issue_access_token,
    new_api_key,
    new_refresh_token,
)
from emprops.core.errors import NotFoundError
from emprops.core.settings import Settings
from emprops.db.models import ApiKey, RefreshToken, SiweNonce, User, Wallet

NONCE_TTL = timedelta(minutes=10)
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling, and with which rights."""

    user: User
    auth: str  # "jwt" | "api_key"
    scopes: frozenset[Scope]


def _now() -> datetime:
    return datetime.now(UTC)


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id, name=key.name, prefix=key.prefix, scopes=key.scopes["scopes"],
        expires_at=key.expires_at, revoked_at=key.revoked_at, last_used_at=key.last_used_at,
        created_at=key.created_at,
    )  # fmt: skip


class AuthService:
    def __init__(self, repository: AuthRepository, secret: bytes, settings: Settings) -> None:
        self.repo, self.secret, self.settings = repository, secret, settings

    async def create_user(self, display_name: str | None = None, *, is_admin: bool = False) -> User:
        user = User(id=uuid.uuid4(), display_name=display_name, is_admin=is_admin)
        await self.repo.add(user)
        return user

    async def user_for_wallet(self, address: str) -> User:
        """The wallet's user, created on first sign-in."""
        address = address.lower()
        wallet = await self.repo.wallet_by_address(address)
        if wallet is not None:
            user = await self.repo.get_user(wallet.user_id)
            assert user is not None
            return user
        user = await self.create_user(display_name=address[:10])
        await self.repo.add(Wallet(id=uuid.uuid4(), user_id=user.id, address=address))
        return user

    # --- sessions ---------------------------------------------------------------------------

    async def issue_tokens(self, user: User, family_id: uuid.UUID | None = None) -> TokenPair:
        access, expires = issue_access_token(
            self.secret, user.id, timedelta(seconds=self.settings.access_token_ttl_s)
        )
        refresh = new_refresh_token()
        await self.repo.add(
            RefreshToken(
                id=uuid.uuid4(), user_id=user.id, family_id=family_id or uuid.uuid4(),
                token_hmac=credential_hmac(self.secret, refresh),
                expires_at=_now() + timedelta(seconds=self.settings.refresh_token_ttl_s),
            )
        )  # fmt: skip
        return TokenPair(access_token=access, expires_at=expires, refresh_token=refresh)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the old token is spent; presenting a spent one revokes its whole family."""
        now = _now()
        row = await self.repo.refresh_token_by_hmac(credential_hmac(self.secret, refresh_token))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise UnauthorizedError("refresh token invalid or expired")
        if not await self.repo.mark_refresh_used(row.id, now):
            await self.repo.revoke_family(row.family_id, now)
            raise SessionReplayError("refresh token already used; all sessions of it are revoked")
        user = await self.repo.get_user(row.user_id)
        if user is None:
            raise UnauthorizedError("user no longer exists")
        return await self.issue_tokens(user, family_id=row.family_id)

    async def new_nonce(self) -> NonceOut:
        nonce = secrets.token_hex(16)
        expires = _now() + NONCE_TTL
        await self.repo.add(SiweNonce(nonce=nonce, expires_at=expires))
        return NonceOut(nonce=nonce, expires_at=expires)

    # --- API keys ---------------------------------------------------------------------------

    async def create_api_key(self, user: User, body: ApiKeyCreate) -> ApiKeyCreated:
        key = new_api_key()
        expires = _now() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
        row = ApiKey(
            id=uuid.uuid4(), user_id=user.id, name=body.name, prefix=key.prefix,
            secret_hmac=credential_hmac(self.secret, key.token),
            scopes={"scopes": sorted(set(body.scopes))}, expires_at=expires, created_at=_now(),
        )  # fmt: skip
        await self.repo.add(row)
        return ApiKeyCreated(**api_key_out(row).model_dump(), token=key.token)

    async def list_api_keys(self, user: User) -> list[ApiKeyOut]:
        return [api_key_out(k) for k in await self.repo.api_keys_of(user.id)]

    async def revoke_api_key(self, user: User, key_id: uuid.UUID) -> ApiKeyOut:
        key = await self.repo.get_api_key(user.id, key_id)
        if key is None:
            raise NotFoundError("API key not found", details={"id": str(key_id)})
        if key.revoked_at is None:
            key.revoked_at = _now()
        return api_key_out(key)

    async def principal_for_api_key(self, token: str) -> Principal:
        prefix = api_key_prefix(token)
        key = await self.repo.api_key_by_prefix(prefix) if prefix else None
        now = _now()
        if key is None or not secrets.compare_digest(
            key.secret_hmac, credential_hmac(self.secret, token)
        ):
            raise UnauthorizedError("invalid API key")
        if key.revoked_at is not None:
            raise UnauthorizedError("API key revoked")
        if key.expires_at is not None and key.expires_at <= now:
            raise UnauthorizedError("API key expired")
        user = await self.repo.get_user(key.user_id)
        if user is None:
            raise UnauthorizedError("invalid API key")
        # Recorded at most once a minute: a write on every read would serialize reads on SQLite.
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            key.last_used_at = now
        return Principal(user=user, auth="api_key", scopes=frozenset(key.scopes["scopes"]))

    async def principal_for_user_id(self, user_id: uuid.UUID) -> Principal:
        user = await self.repo.get_user(user_id)
        if user is None:
            raise UnauthorizedError("user no longer exists")
        scopes: frozenset[Scope] = frozenset(
            {"read", "write", "admin"} if user.is_admin else {"read", "write"}
        )
        return Principal(user=user, auth="jwt", scopes=scopes)
