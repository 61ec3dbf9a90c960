"""Sugar-style validation: every problem, each naming the token and the field."""

from __future__ import annotations

from emprops.ipfs import cid_of_bytes
from emprops.metadata import (
    Attribute,
    ContractMetadata,
    MetadataInvalid,
    MetadataProblem,
    TokenMetadata,
    address_problem,
    collection_problems,
    contract_problems,
    token_id_problems,
    token_problems,
)

IMAGE = f"ipfs://{cid_of_bytes(b'img')}/0.png"
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def fields(problems: list[MetadataProblem]) -> set[tuple[int | None, str]]:
    return {(p.token, p.field) for p in problems}


def test_a_good_token_has_no_problem() -> None:
    token = TokenMetadata(
        name="Demo #0", image=IMAGE, background_color="A0b1C2", external_url="https://a.org",
        attributes=[Attribute(trait_type="Level", value=3, display_type="number", max_value=10),
                    Attribute(trait_type="Born", value=1_700_000_000, display_type="date"),
                    Attribute(trait_type="Eyes", value="Round")],
    )  # fmt: skip
    assert token_problems(0, token) == []


def test_token_problems_name_the_field() -> None:
    token = TokenMetadata(
        name="x" * 129, image="images/0.png", animation_url="http://a.org/a.mp4",
        external_url=IMAGE, background_color="#ffffff",
        attributes=[
            Attribute(trait_type="Level", value="high", display_type="number"),
            Attribute(trait_type="Power", value=11, display_type="boost_number", max_value=10),
            Attribute(trait_type="Born", value=1.5, display_type="date"),
            Attribute(trait_type="Eyes", value="Round", max_value=3),
            Attribute(trait_type="Eyes", value=""),
            Attribute(trait_type="", value="x"),
        ],
    )  # fmt: skip
    found = fields(token_problems(7, token))
    assert found == {
        (7, "name"), (7, "image"), (7, "animation_url"), (7, "external_url"),
        (7, "background_color"), (7, "attributes[0].value"), (7, "attributes[1].value"),
        (7, "attributes[2].value"), (7, "attributes[3].max_value"),
        (7, "attributes[4].trait_type"), (7, "attributes[4].value"),
        (7, "attributes[5].trait_type"),
    }  # fmt: skip
    messages = {p.field: p.message for p in token_problems(7, token)}
    assert "129 characters long, more than 128" in messages["name"]
    assert "repeats attributes[3]" in messages["attributes[4].trait_type"]
    assert "above max_value 10" in messages["attributes[1].value"]


def test_contract_limits() -> None:
    good = ContractMetadata(name="Demo", symbol="DEMO", image=IMAGE,
                            seller_fee_basis_points=500, fee_recipient=CHECKSUMMED)  # fmt: skip
    assert contract_problems(good) == []
    bad = ContractMetadata(
        name="N" * 65, symbol="TOO LONG SYM", external_link="ipfs://x",
        collaborators=["0x123"], seller_fee_basis_points=10_001,
        fee_recipient=CHECKSUMMED.replace("a", "A", 1),
    )  # fmt: skip
    found = fields(contract_problems(bad))
    assert found == {(None, "name"), (None, "symbol"), (None, "external_link"),
                     (None, "collaborators[0]"), (None, "seller_fee_basis_points"),
                     (None, "fee_recipient")}  # fmt: skip
    missing = ContractMetadata(name="Demo", seller_fee_basis_points=250)
    assert fields(contract_problems(missing)) == {(None, "fee_recipient")}
    assert contract_problems(ContractMetadata(name="D", seller_fee_basis_points=10_000,
                                              fee_recipient=CHECKSUMMED.lower())) == []  # fmt: skip


def test_symbol_whitespace_and_addresses() -> None:
    assert "whitespace" in contract_problems(ContractMetadata(name="D", symbol="A B"))[0].message
    assert address_problem(CHECKSUMMED) is None
    assert address_problem(CHECKSUMMED.upper().replace("0X", "0x")) is None
    assert "checksum" in (address_problem(CHECKSUMMED.replace("a", "A", 1)) or "")


def test_token_ids_contiguous() -> None:
    assert token_id_problems([0, 1, 2], 0) == []
    assert token_id_problems([1, 2, 3], 1) == []
    gap = token_id_problems([0, 1, 3], 0)
    assert [(p.token, p.field) for p in gap] == [(3, "token_id")]
    assert "expected token id 2" in gap[0].message
    assert fields(token_id_problems([2], 2)) == {(None, "first_token_id")}


def test_collection_problems_and_error_message() -> None:
    tokens = [(0, TokenMetadata(name="A #0", image=IMAGE)),
              (1, TokenMetadata(name="", image=IMAGE))]  # fmt: skip
    problems = collection_problems(tokens, ContractMetadata(name="A", symbol="ABCDEFGHIJK"), 0)
    assert fields(problems) == {(None, "symbol"), (1, "name")}
    error = MetadataInvalid(problems)
    assert "2 metadata problems" in error.message
    assert "token 1: name: is empty" in error.message
    assert "collection: symbol:" in error.message
    assert len(error.details["problems"]) == 2
    assert fields(collection_problems([], None, 0)) == {(None, "tokens")}
