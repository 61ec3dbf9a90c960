"""What the publishing routes take and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CollectionStageName = Literal["draft", "generated", "packaged", "deployed", "minted"]
OperationKindName = Literal["package", "deploy", "mint"]
OperationStatusName = Literal["queued", "running", "completed", "failed"]
ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class PackageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: uuid.UUID | None = Field(
        default=None, description="The generation run to package; default: the latest finished."
    )
    symbol: str | None = Field(default=None, min_length=1, max_length=11, pattern=r"^[A-Za-z0-9]+$")
    royalty_bps: int = Field(default=0, ge=0, le=10_000, description="Secondary-sale royalty.")
    royalty_recipient: str | None = Field(
        default=None, pattern=ADDRESS, description="Who receives royalties (required with them)."
    )

    @model_validator(mode="after")
    def _recipient_with_royalty(self) -> PackageRequest:
        if self.royalty_bps and self.royalty_recipient is None:
            raise ValueError("royalty_recipient is required when royalty_bps is above 0")
        return self


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9-]{1,40}$",
        description="A chain preset (local, anvil, base, ...); default: the configured chain.",
    )
    owner: str | None = Field(
        default=None,
        pattern=ADDRESS,
        description="The contract's owner (the creator); default: the package's royalty "
        "recipient, else the platform's signer.",
    )


class MintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(pattern=ADDRESS, description="The receiving address (0x + 40 hex).")
    quantity: int = Field(ge=1, le=100_000)
    request_id: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Idempotency key: the same id again is the same mint, never a second one.",
    )


class OperationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: OperationKindName
    request_key: str
    status: OperationStatusName
    attempt: int
    job_id: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class PublishStatus(BaseModel):
    collection_id: uuid.UUID
    stage: CollectionStageName
    package: dict[str, Any] | None = Field(description="The latest completed package's summary.")
    deployment: dict[str, Any] | None = Field(description="The latest completed deployment.")
    minted: int = Field(description="Tokens minted by completed mint requests.")
    operations: list[OperationOut]
