"""Import options; the defaults are Kubo 0.22's `ipfs add` defaults, so a default CID is Kubo's CID."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CHUNK_SIZE = 262_144
DEFAULT_MAX_LINKS = 174
DEFAULT_HAMT_THRESHOLD = 262_144


class HamtRule(StrEnum):
    """When a directory becomes a HAMT shard. The `>=` versus `>` difference changes the CID of a
    directory whose estimate lands exactly on the threshold."""

    KUBO_0_22 = "kubo-0.22"  # links-bytes estimate >= threshold (Kubo 0.22 / boxo 0.11)
    NEWER = "newer"  # links-bytes estimate > threshold (current boxo, JS importer)
    BLOCK_BYTES = "block-bytes"  # exact encoded node size > threshold (IPIP-499 unixfs-v1-2025)


class ImportOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cid_version: Literal[0, 1] = 0
    raw_leaves: bool | None = Field(
        default=None, description="None follows Kubo: raw leaves exactly when cid_version is 1."
    )
    chunk_size: int = Field(default=DEFAULT_CHUNK_SIZE, ge=1, le=1_048_576)
    max_links: int = Field(default=DEFAULT_MAX_LINKS, ge=2, le=65_536)
    hamt_rule: HamtRule = HamtRule.KUBO_0_22
    hamt_threshold: int = Field(default=DEFAULT_HAMT_THRESHOLD, ge=0)
    include_hidden: bool = Field(
        default=False, description="Kubo skips dot-files inside added folders unless --hidden."
    )

    @property
    def uses_raw_leaves(self) -> bool:
        return self.cid_version == 1 if self.raw_leaves is None else self.raw_leaves

    @classmethod
    def unixfs_v1_2025(cls) -> ImportOptions:
        """The IPIP-499 `unixfs-v1-2025` profile (what `ipfs-car pack` 3.x produces)."""
        return cls(
            cid_version=1,
            raw_leaves=True,
            chunk_size=1_048_576,
            max_links=1024,
            hamt_rule=HamtRule.BLOCK_BYTES,
        )
