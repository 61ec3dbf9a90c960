"""Collection-level metadata, served by the contract's `contractURI()` (ERC-7572), with
OpenSea's legacy royalty fields: marketplaces that do not read ERC-2981 still read these."""

from __future__ import annotations

import orjson
from pydantic import BaseModel, ConfigDict, Field


class ContractMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    symbol: str | None = None
    description: str | None = None
    image: str | None = None
    banner_image: str | None = None
    featured_image: str | None = None
    external_link: str | None = None
    collaborators: list[str] = Field(default_factory=list, description="0x addresses")
    seller_fee_basis_points: int | None = Field(default=None, description="royalty, 100 = 1%")
    fee_recipient: str | None = None

    def to_json(self) -> bytes:
        data = self.model_dump(mode="json", exclude_none=True)
        if not data.get("collaborators"):
            data.pop("collaborators", None)
        return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
