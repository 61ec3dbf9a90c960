"""NFT metadata: per-token ERC-721 JSON (OpenSea standard), contract-level metadata (ERC-7572),
traits, rarity, the provenance hash for reveals, and Sugar-style validation of a whole collection."""

from emprops.metadata.collection_info import (
    DEFAULT_TOKEN_NAME,
    CollectionInfo,
    build_contract_metadata,
    build_token_metadata,
    placeholder_token_metadata,
    token_name,
)
from emprops.metadata.contract_metadata import ContractMetadata
from emprops.metadata.errors import MetadataInvalid, MetadataProblem
from emprops.metadata.media_check import MEDIA_TYPES, extension_for, media_problem, media_type_for
from emprops.metadata.provenance import file_sha256, provenance_hash, workflow_digest
from emprops.metadata.rarity import TraitRarity, trait_rarity
from emprops.metadata.token_metadata import (
    Attribute,
    AttributeValue,
    DisplayType,
    TokenMetadata,
    TokenProvenance,
)
from emprops.metadata.traits import (
    attributes_from_output,
    attributes_from_variables,
    merge_attributes,
)
from emprops.metadata.uris import ipfs_uri, uri_problem
from emprops.metadata.validation import (
    MAX_COLLECTION_NAME_LENGTH,
    MAX_ROYALTY_BPS,
    MAX_SYMBOL_LENGTH,
    MAX_TOKEN_NAME_LENGTH,
    address_problem,
    collection_problems,
    contract_problems,
    token_id_problems,
    token_problems,
)

__all__ = [
    "DEFAULT_TOKEN_NAME",
    "MAX_COLLECTION_NAME_LENGTH",
    "MAX_ROYALTY_BPS",
    "MAX_SYMBOL_LENGTH",
    "MAX_TOKEN_NAME_LENGTH",
    "MEDIA_TYPES",
    "Attribute",
    "AttributeValue",
    "CollectionInfo",
    "ContractMetadata",
    "DisplayType",
    "MetadataInvalid",
    "MetadataProblem",
    "TokenMetadata",
    "TokenProvenance",
    "TraitRarity",
    "address_problem",
    "attributes_from_output",
    "attributes_from_variables",
    "build_contract_metadata",
    "build_token_metadata",
    "collection_problems",
    "contract_problems",
    "extension_for",
    "file_sha256",
    "ipfs_uri",
    "media_problem",
    "media_type_for",
    "merge_attributes",
    "placeholder_token_metadata",
    "provenance_hash",
    "token_id_problems",
    "token_name",
    "token_problems",
    "trait_rarity",
    "uri_problem",
    "workflow_digest",
]
