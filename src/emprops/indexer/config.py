"""What one indexer instance follows and how far it trusts the chain, validated at the boundary."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from eth_utils.address import is_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from emprops.core.settings import Settings


class FinalityMode(StrEnum):
    """Where indexing stops. `head` follows the latest block and rolls back on reorgs; the others
    stop at a block the chain is not expected to replace (the check for reorgs still runs)."""

    FINALIZED = "finalized"
    SAFE = "safe"
    CONFIRMATIONS = "confirmations"
    HEAD = "head"


def checksum_address(value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an EVM address: {value!r}")
    return str(to_checksum_address(value))


Address = Annotated[str, AfterValidator(checksum_address)]


class Finality(BaseModel):
    model_config = ConfigDict(frozen=True)

    mode: FinalityMode = FinalityMode.FINALIZED
    confirmations: int = Field(default=12, ge=0)

    @classmethod
    def head(cls) -> Finality:
        return cls(mode=FinalityMode.HEAD, confirmations=0)


class LogRanges(BaseModel):
    """eth_getLogs block ranges: start at `initial`, halve on refusal, double back towards `maximum`
    after `grow_after` successes in a row."""

    model_config = ConfigDict(frozen=True)

    initial: int = Field(default=1_000, ge=1)
    maximum: int = Field(default=10_000, ge=1)
    grow_after: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _initial_within_maximum(self) -> Self:
        if self.initial > self.maximum:
            raise ValueError(f"initial range {self.initial} exceeds the maximum {self.maximum}")
        return self


class IndexerConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    factories: tuple[Address, ...] = Field(min_length=1)
    chain_id: int | None = Field(default=None, ge=1, description="Checked against the node's.")
    finality: Finality = Finality()
    ranges: LogRanges = LogRanges()
    start_block: int = Field(default=0, ge=0)
    reorg_window: int = Field(default=256, ge=1)
    poll_interval_s: float = Field(default=2.0, gt=0)
    # Addresses per eth_getLogs call; providers cap the address list as well as the range.
    addresses_per_request: int = Field(default=500, ge=1)

    @model_validator(mode="after")
    def _sorted_unique_factories(self) -> Self:
        unique = tuple(sorted(set(self.factories), key=lambda a: int(a, 16)))
        object.__setattr__(self, "factories", unique)
        return self

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        factories: list[str] | tuple[str, ...],
        chain_id: int | None = None,
        **overrides: object,
    ) -> IndexerConfig:
        values: dict[str, object] = {
            "factories": tuple(factories),
            "chain_id": chain_id,
            "finality": {
                "mode": settings.indexer_finality,
                "confirmations": settings.indexer_confirmations,
            },
            "ranges": {
                "initial": settings.indexer_initial_range,
                "maximum": settings.indexer_max_range,
            },
            "start_block": settings.indexer_start_block,
            "reorg_window": settings.indexer_reorg_window,
            "poll_interval_s": settings.indexer_poll_interval_s,
        }
        values.update(overrides)
        return cls.model_validate(values)
