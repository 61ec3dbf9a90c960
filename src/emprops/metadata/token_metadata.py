"""Per-token ERC-721 metadata in the OpenSea metadata standard, the shape every marketplace reads.

Provenance (generation hash, seed, workflow digest, image sha256) goes in `properties`, not in
`attributes`: attributes are what marketplaces show and rank as traits, and a value unique to
every token would only add noise to rarity. `properties` is the ERC-1155-style free-form object
that OpenSea and indexers keep and show as raw data.
"""

from __future__ import annotations

from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

DisplayType = Literal["number", "boost_number", "boost_percentage", "date"]
AttributeValue = str | int | float


class Attribute(BaseModel):
    """One trait. `display_type` makes a numeric trait a number, boost, percentage or date (unix
    seconds); `max_value` caps a numeric trait's range. Checks live in `validation` so a whole
    collection's problems can be reported together."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trait_type: str
    value: AttributeValue
    display_type: DisplayType | None = None
    max_value: int | float | None = None


class TokenProvenance(BaseModel):
    """Where a token came from: enough to re-run its generation and check its image."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generation_hash: str
    seed: int
    workflow_digest: str = Field(
        description="sha256 of the run's GenerationInput (sorted-key JSON)"
    )
    image_sha256: str
    run_id: str
    components: list[str] | None = Field(
        default=None, description="name@digest of each component version the token's steps ran"
    )


class TokenMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str | None = None
    image: str
    animation_url: str | None = None
    external_url: str | None = None
    background_color: str | None = Field(default=None, description="6 hex digits, no '#'")
    attributes: list[Attribute] = Field(default_factory=list)
    properties: TokenProvenance | None = None

    def to_json(self) -> bytes:
        """The file as published: fields in a fixed order, unset ones left out, so the same
        metadata is always the same bytes (and the same CID)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
