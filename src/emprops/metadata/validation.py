"""Checks in the spirit of Metaplex Sugar's `validate`: run over the whole collection before
anything is published, every problem named by token and field.

Our limits (ERC-721 itself has none; these keep on-chain strings cheap and marketplaces happy):
collection name 1-64 characters, symbol 1-10 (no spaces), token name 1-128, description up to
10,000, trait types 1-64, text trait values 1-256, at most 100 attributes a token, royalty
0-10,000 basis points. Token ids are contiguous from the first id (0, as our ERC721A contract
starts, or 1): ids `first .. first + N - 1`, each once, in order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from eth_utils.address import is_checksum_address

from emprops.metadata.contract_metadata import ContractMetadata
from emprops.metadata.errors import MetadataProblem
from emprops.metadata.token_metadata import Attribute, TokenMetadata
from emprops.metadata.uris import uri_problem

MAX_COLLECTION_NAME_LENGTH = 64
MAX_SYMBOL_LENGTH = 10
MAX_TOKEN_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 10_000
MAX_TRAIT_TYPE_LENGTH = 64
MAX_TRAIT_VALUE_LENGTH = 256
MAX_ATTRIBUTES = 100
MAX_ROYALTY_BPS = 10_000

_COLOR = re.compile(r"[0-9A-Fa-f]{6}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMERIC = ("number", "boost_number", "boost_percentage")


def address_problem(address: str) -> str | None:
    if not _ADDRESS.fullmatch(address):
        return f"is not a 0x-prefixed 20-byte hex address: {address!r}"
    body = address[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(address):
        return f"has a wrong EIP-55 checksum (mixed case): {address!r}"
    return None


def _text_problem(value: str, limit: int, *, single_line: bool = True) -> str | None:
    if not value.strip():
        return "is empty"
    if len(value) > limit:
        return f"is {len(value)} characters long, more than {limit}"
    if single_line and _CONTROL.search(value):
        return "contains control characters (newline, tab, ...)"
    return None


class _Problems:
    def __init__(self, token: int | None) -> None:
        self.token = token
        self.items: list[MetadataProblem] = []

    def add(self, field: str, message: str | None) -> None:
        if message is not None:
            self.items.append(MetadataProblem(token=self.token, field=field, message=message))

    def uri(self, field: str, value: str | None, *, allow_ipfs: bool = True) -> None:
        if value is not None:
            self.add(field, uri_problem(value, allow_ipfs=allow_ipfs))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _attribute_problems(out: _Problems, i: int, attribute: Attribute) -> None:
    field = f"attributes[{i}]"
    out.add(f"{field}.trait_type", _text_problem(attribute.trait_type, MAX_TRAIT_TYPE_LENGTH))
    value, kind = attribute.value, attribute.display_type
    if isinstance(value, str):
        out.add(f"{field}.value", _text_problem(value, MAX_TRAIT_VALUE_LENGTH))
    elif not _is_number(value):
        out.add(f"{field}.value", f"is not a finite number: {value!r}")
    if kind is not None and not _is_number(value):
        out.add(f"{field}.value", f"must be a number for display_type {kind!r}, not {value!r}")
    if kind == "date" and not (isinstance(value, int) and value >= 0):
        out.add(f"{field}.value", f"a date is whole unix seconds >= 0, not {value!r}")
    if attribute.max_value is not None:
        if kind not in _NUMERIC:
            out.add(f"{field}.max_value", f"only numeric display types take one, not {kind!r}")
        elif not _is_number(attribute.max_value):
            out.add(f"{field}.max_value", f"is not a finite number: {attribute.max_value!r}")
        elif _is_number(value) and value > attribute.max_value:  # type: ignore[operator]
            out.add(f"{field}.value", f"{value} is above max_value {attribute.max_value}")


def token_problems(token_id: int, token: TokenMetadata) -> list[MetadataProblem]:
    out = _Problems(token_id)
    out.add("name", _text_problem(token.name, MAX_TOKEN_NAME_LENGTH))
    if token.description is not None:
        out.add(
            "description",
            _text_problem(token.description, MAX_DESCRIPTION_LENGTH, single_line=False),
        )
    out.uri("image", token.image)
    out.uri("animation_url", token.animation_url)
    out.uri("external_url", token.external_url, allow_ipfs=False)
    if token.background_color is not None and not _COLOR.fullmatch(token.background_color):
        out.add("background_color", f"must be 6 hex digits without '#': {token.background_color!r}")
    if len(token.attributes) > MAX_ATTRIBUTES:
        out.add("attributes", f"{len(token.attributes)} attributes, more than {MAX_ATTRIBUTES}")
    seen: dict[str, int] = {}
    for i, attribute in enumerate(token.attributes):
        _attribute_problems(out, i, attribute)
        if attribute.trait_type in seen:
            out.add(
                f"attributes[{i}].trait_type",
                f"{attribute.trait_type!r} repeats attributes[{seen[attribute.trait_type]}]",
            )
        seen.setdefault(attribute.trait_type, i)
    return out.items


def contract_problems(contract: ContractMetadata) -> list[MetadataProblem]:
    out = _Problems(None)
    out.add("name", _text_problem(contract.name, MAX_COLLECTION_NAME_LENGTH))
    if contract.symbol is not None:
        problem = _text_problem(contract.symbol, MAX_SYMBOL_LENGTH)
        if problem is None and any(c.isspace() for c in contract.symbol):
            problem = f"contains whitespace: {contract.symbol!r}"
        out.add("symbol", problem)
    if contract.description is not None:
        out.add(
            "description",
            _text_problem(contract.description, MAX_DESCRIPTION_LENGTH, single_line=False),
        )
    out.uri("image", contract.image)
    out.uri("banner_image", contract.banner_image)
    out.uri("featured_image", contract.featured_image)
    out.uri("external_link", contract.external_link, allow_ipfs=False)
    for i, collaborator in enumerate(contract.collaborators):
        out.add(f"collaborators[{i}]", address_problem(collaborator))
    bps = contract.seller_fee_basis_points
    if bps is not None and not 0 <= bps <= MAX_ROYALTY_BPS:
        out.add("seller_fee_basis_points", f"{bps} is outside 0..{MAX_ROYALTY_BPS}")
    if contract.fee_recipient is not None:
        out.add("fee_recipient", address_problem(contract.fee_recipient))
    elif bps:
        out.add("fee_recipient", f"is required with a royalty of {bps} basis points")
    return out.items


def token_id_problems(token_ids: Sequence[int], first_token_id: int) -> list[MetadataProblem]:
    """Ids must be `first, first + 1, ...` in order, each once."""
    problems: list[MetadataProblem] = []
    if first_token_id not in (0, 1):
        problems.append(
            MetadataProblem(
                token=None, field="first_token_id", message=f"must be 0 or 1, not {first_token_id}"
            )
        )
    for position, token_id in enumerate(token_ids):
        expected = first_token_id + position
        if token_id != expected:
            problems.append(
                MetadataProblem(
                    token=token_id,
                    field="token_id",
                    message=f"expected token id {expected} at position {position}: ids must be "
                    f"contiguous from {first_token_id}",
                )
            )
    return problems


def collection_problems(
    tokens: Sequence[tuple[int, TokenMetadata]],
    contract: ContractMetadata | None,
    first_token_id: int,
) -> list[MetadataProblem]:
    """Every problem of a collection: contract metadata, token ids, each token."""
    problems = contract_problems(contract) if contract is not None else []
    if not tokens:
        problems.append(MetadataProblem(token=None, field="tokens", message="no tokens"))
    problems.extend(token_id_problems([t for t, _ in tokens], first_token_id))
    for token_id, token in tokens:
        problems.extend(token_problems(token_id, token))
    return problems
