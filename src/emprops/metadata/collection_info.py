"""What a creator says about the collection (name, symbol, royalties, links), and the metadata
built from it for each token and for the contract."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from emprops.metadata.contract_metadata import ContractMetadata
from emprops.metadata.token_metadata import Attribute, TokenMetadata, TokenProvenance

DEFAULT_TOKEN_NAME = "{name} #{id}"


class CollectionInfo(BaseModel):
    """Loose on purpose: limits are checked by `validation`, which reports every problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    symbol: str | None = None
    description: str | None = None
    external_url: str | None = Field(default=None, description="The collection's website.")
    image: str | None = Field(
        default=None, description="Collection image URI; default: token 0's (or the placeholder)."
    )
    banner_image: str | None = None
    featured_image: str | None = None
    collaborators: list[str] = Field(default_factory=list)
    royalty_bps: int | None = None
    royalty_recipient: str | None = None
    token_name: str = Field(
        default=DEFAULT_TOKEN_NAME, description="Token name; {name} and {id} are replaced."
    )
    background_color: str | None = None


def token_name(info: CollectionInfo, token_id: int) -> str:
    # str.replace, not str.format: a creator's template must not reach attributes or indexes.
    return info.token_name.replace("{name}", info.name).replace("{id}", str(token_id))


def build_token_metadata(
    info: CollectionInfo,
    token_id: int,
    *,
    image: str,
    animation_url: str | None,
    attributes: list[Attribute],
    provenance: TokenProvenance | None,
) -> TokenMetadata:
    return TokenMetadata(
        name=token_name(info, token_id),
        description=info.description,
        image=image,
        animation_url=animation_url,
        external_url=info.external_url,
        background_color=info.background_color,
        attributes=attributes,
        properties=provenance,
    )


def placeholder_token_metadata(info: CollectionInfo, token_id: int, image: str) -> TokenMetadata:
    """Before a reveal: the token's name and the placeholder, nothing that hints at its traits
    (no attributes, no hash: the hash alone reproduces the picks)."""
    return TokenMetadata(
        name=token_name(info, token_id),
        description=info.description,
        image=image,
        external_url=info.external_url,
    )


def build_contract_metadata(info: CollectionInfo, default_image: str | None) -> ContractMetadata:
    return ContractMetadata(
        name=info.name,
        symbol=info.symbol,
        description=info.description,
        image=info.image or default_image,
        banner_image=info.banner_image,
        featured_image=info.featured_image,
        external_link=info.external_url,
        collaborators=list(info.collaborators),
        seller_fee_basis_points=info.royalty_bps,
        fee_recipient=info.royalty_recipient,
    )
