"""Auth request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["read", "write", "admin"]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    refresh_token: str


class RefreshRequest(StrictBody):
    refresh_token: str = Field(min_length=10, max_length=200)


class ApiKeyCreate(StrictBody):
    name: str = Field(min_length=1, max_length=120)
    scopes: list[Scope] = Field(default=["read", "write"], min_length=1)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[Scope]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class ApiKeyCreated(ApiKeyOut):
    token: str = Field(description="Shown once; store it now.")


class NonceOut(BaseModel):
    nonce: str
    expires_at: datetime


class SiweVerify(StrictBody):
    message: str = Field(min_length=20, max_length=4000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130,}$", max_length=2000)


class MeOut(BaseModel):
    id: uuid.UUID
    display_name: str | None
    is_admin: bool
    wallets: list[str]
    auth: Literal["jwt", "api_key"]
    scopes: list[Scope]
