"""How a run becomes a package: collection facts, reveal mode, file naming, CID settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from emprops.ipfs import HamtRule, ImportOptions
from emprops.metadata import CollectionInfo


class PackageOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    info: CollectionInfo
    hidden_placeholder: Path | None = Field(
        default=None,
        description="Delayed reveal: every token's published metadata points at this image.",
    )
    metadata_extension: Literal["", ".json"] = Field(
        default="",
        description="'' (tokenURI = baseURI + id, as ERC721A builds it) or '.json'.",
    )
    first_token_id: Literal[0, 1] = Field(
        default=0, description="Token id of the run's first generation (our contract starts at 0)."
    )
    cid_version: Literal[0, 1] = 0
    hamt_rule: HamtRule = HamtRule.KUBO_0_22
    image_step: str | None = Field(
        default=None,
        description="Step (id, alias or workflow name) whose output is the image; default: the "
        "last step with an image output.",
    )
    animation_step: str | None = Field(
        default=None,
        description="Step whose output is the animation_url; default: the last step with a "
        "video, audio, model or HTML output.",
    )
    trait_variables: list[str] | None = Field(
        default=None, description="Variables shown as traits; None: all of them."
    )
    car: bool = Field(default=True, description="Also write the package as a CARv1.")

    @property
    def import_options(self) -> ImportOptions:
        return ImportOptions(cid_version=self.cid_version, hamt_rule=self.hamt_rule)
