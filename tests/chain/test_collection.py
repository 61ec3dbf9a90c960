"""EmpropsCollection: access rules, mint limits, royalties, metadata events, ownership strides."""

from __future__ import annotations

import itertools

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from emprops.chain.contracts import ContractName
from tests.chain.harness import Chain, CollectionParams, Platform, fresh_address

_salts = itertools.count(1)

# ERC721A's namespaced storage; _packedOwnerships is the 5th field of its layout.
ERC721A_SLOT = int.from_bytes(keccak(text="ERC721A.contracts.storage.ERC721A"), "big")
PACKED_OWNERSHIPS_SLOT = ERC721A_SLOT + 4


def _salt() -> bytes:
    return next(_salts).to_bytes(32, "big")


def _params(chain: Chain, **changes: object) -> CollectionParams:
    owner, minter, royalty = chain.accounts[1], chain.accounts[2], chain.accounts[3]
    return CollectionParams(owner=owner, minter=minter, royalty_receiver=royalty).with_(**changes)


def _ownership_slot(token_id: int) -> int:
    key = token_id.to_bytes(32, "big") + PACKED_OWNERSHIPS_SLOT.to_bytes(32, "big")
    return int.from_bytes(keccak(key), "big")


def test_initialize_sets_everything(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    collection, receipt = platform.create_collection(params, _salt())
    f = collection.functions
    assert f.name().call() == params.name
    assert f.symbol().call() == params.symbol
    assert f.baseURI().call() == params.base_uri
    assert f.contractURI().call() == params.contract_uri
    assert f.owner().call() == params.owner
    assert f.minter().call() == params.minter
    assert f.isMinter(params.minter).call() is True
    assert f.isMinter(params.owner).call() is False
    assert f.maxSupply().call() == params.max_supply
    rules = f.mintRules().call()
    assert rules == (
        params.max_supply,
        params.max_per_tx,
        params.window_limit,
        params.window_seconds,
        0,
        0,
        params.ownership_stride,
    )
    assert f.totalSupply().call() == 0
    (transferred,) = collection.events.OwnershipTransferred().process_receipt(
        receipt, errors=DISCARD
    )
    assert transferred["args"]["newOwner"] == params.owner


def test_initialize_twice_reverts(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    collection, _ = platform.create_collection(params, _salt())
    with chain.reverts("InvalidInitialization"):
        chain.send(collection.functions.initialize(params.as_tuple()), chain.accounts[4])


def test_implementation_cannot_be_initialized(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    with chain.reverts("InvalidInitialization"):
        chain.send(platform.collection_implementation.functions.initialize(params.as_tuple()))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"max_supply": 0}, "InvalidMaxSupply"),
        ({"window_limit": 0}, "InvalidWindow"),
        ({"ownership_stride": 0}, "InvalidStride"),
        ({"royalty_bps": 10_001}, "RoyaltyTooHigh"),
        ({"owner": "0x" + "00" * 20}, "ZeroAddress"),
    ],
)
def test_initialize_rejects_bad_params(
    chain: Chain, platform: Platform, changes: dict[str, object], error: str
) -> None:
    with chain.reverts(error):
        platform.create_collection(_params(chain, **changes), _salt())


def test_only_minter_mints(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    collection, _ = platform.create_collection(params, _salt())
    holder = fresh_address()
    for intruder in (params.owner, chain.accounts[0], chain.accounts[5]):
        with chain.reverts("NotMinter"):
            chain.send(collection.functions.mintTo(holder, 1), intruder)
    receipt = chain.send(collection.functions.mintTo(holder, 3), params.minter)
    transfers = collection.events.Transfer().process_receipt(receipt, errors=DISCARD)
    assert [(t["args"]["from"], t["args"]["to"], t["args"]["tokenId"]) for t in transfers] == [
        ("0x" + "00" * 20, holder, i) for i in range(3)
    ]
    assert collection.functions.balanceOf(holder).call() == 3
    assert collection.functions.totalSupply().call() == 3
    with chain.reverts("ZeroQuantity"):
        chain.send(collection.functions.mintTo(holder, 0), params.minter)


def test_per_transaction_and_max_supply_limits(chain: Chain, platform: Platform) -> None:
    params = _params(chain, max_supply=12, max_per_tx=5, window_seconds=0)
    collection, _ = platform.create_collection(params, _salt())
    holder = fresh_address()
    with chain.reverts("PerTransactionLimitExceeded"):
        chain.send(collection.functions.mintTo(holder, 6), params.minter)
    chain.send(collection.functions.mintTo(holder, 5), params.minter)
    chain.send(collection.functions.mintTo(holder, 5), params.minter)
    with chain.reverts("MaxSupplyExceeded"):
        chain.send(collection.functions.mintTo(holder, 3), params.minter)
    chain.send(collection.functions.mintTo(holder, 2), params.minter)
    assert collection.functions.totalSupply().call() == 12
    with chain.reverts("MaxSupplyExceeded"):
        chain.send(collection.functions.mintTo(holder, 1), params.minter)


def test_window_limit_resets_when_the_window_closes(chain: Chain, platform: Platform) -> None:
    params = _params(chain, window_limit=5, window_seconds=3_600, max_per_tx=0)
    collection, _ = platform.create_collection(params, _salt())
    holder = fresh_address()
    chain.send(collection.functions.mintTo(holder, 3), params.minter)
    chain.send(collection.functions.mintTo(holder, 2), params.minter)
    with chain.reverts("WindowLimitExceeded"):
        chain.send(collection.functions.mintTo(holder, 1), params.minter)
    window_start, window_index = collection.functions.mintRules().call()[4:6]
    assert window_index == 0
    chain.advance_time(3_601)
    receipt = chain.send(collection.functions.mintTo(holder, 5), params.minter)
    new_start, new_index = collection.functions.mintRules().call()[4:6]
    assert new_index == 5
    assert new_start >= window_start + 3_600
    assert new_start == chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]


def test_minter_handover_moves_rules_and_window(chain: Chain, platform: Platform) -> None:
    params = _params(chain, window_limit=4, window_seconds=3_600)
    collection, _ = platform.create_collection(params, _salt())
    holder, new_minter = fresh_address(), chain.accounts[6]
    chain.send(collection.functions.mintTo(holder, 3), params.minter)
    with chain.reverts("NotOwner"):
        chain.send(collection.functions.setMinter(new_minter), params.minter)
    receipt = chain.send(collection.functions.setMinter(new_minter), params.owner)
    (event,) = collection.events.MinterUpdated().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["previousMinter"], event["args"]["newMinter"]) == (
        params.minter,
        new_minter,
    )
    assert collection.functions.minter().call() == new_minter
    assert collection.functions.isMinter(params.minter).call() is False
    with chain.reverts("NotMinter"):
        chain.send(collection.functions.mintTo(holder, 1), params.minter)
    # The open window came along: only one more token fits in it.
    with chain.reverts("WindowLimitExceeded"):
        chain.send(collection.functions.mintTo(holder, 2), new_minter)
    chain.send(collection.functions.mintTo(holder, 1), new_minter)
    assert collection.functions.name().call() == params.name  # the profile kept its strings


def test_royalties(chain: Chain, platform: Platform) -> None:
    params = _params(chain, royalty_bps=750)
    collection, _ = platform.create_collection(params, _salt())
    assert collection.functions.royaltyInfo(0, 10**18).call() == [
        params.royalty_receiver,
        75 * 10**15,
    ]
    assert collection.functions.royaltyInfo(7, 999).call() == [params.royalty_receiver, 74]
    new_receiver = chain.accounts[7]
    with chain.reverts("NotOwner"):
        chain.send(collection.functions.setRoyalty(new_receiver, 100), params.minter)
    with chain.reverts("RoyaltyTooHigh"):
        chain.send(collection.functions.setRoyalty(new_receiver, 10_001), params.owner)
    receipt = chain.send(collection.functions.setRoyalty(new_receiver, 1_000), params.owner)
    (event,) = collection.events.RoyaltyUpdated().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["bps"] == 1_000
    assert collection.functions.royaltyInfo(1, 10_000).call() == [new_receiver, 1_000]


def test_supports_interfaces(chain: Chain, platform: Platform) -> None:
    collection, _ = platform.create_collection(_params(chain), _salt())
    supports = collection.functions.supportsInterface
    for interface_id in ("01ffc9a7", "80ac58cd", "5b5e139f", "2a55205a", "49064906"):
        assert supports(bytes.fromhex(interface_id)).call() is True, interface_id
    for interface_id in ("ffffffff", "d9b67a26", "780e9d63"):  # invalid, ERC-1155, enumerable
        assert supports(bytes.fromhex(interface_id)).call() is False, interface_id


def test_metadata_updates_and_freeze(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    collection, _ = platform.create_collection(params, _salt())
    f = collection.functions
    chain.send(f.mintTo(params.owner, 2), params.minter)
    assert f.tokenURI(1).call() == f"{params.base_uri}1"

    receipt = chain.send(f.setBaseURI("https://meta.example/t/"), params.owner)
    (batch,) = collection.events.BatchMetadataUpdate().process_receipt(receipt, errors=DISCARD)
    assert (batch["args"]["_fromTokenId"], batch["args"]["_toTokenId"]) == (0, 2**256 - 1)
    assert f.tokenURI(1).call() == "https://meta.example/t/1"

    receipt = chain.send(f.setContractURI("ipfs://new-collection"), params.owner)
    assert len(collection.events.ContractURIUpdated().process_receipt(receipt, errors=DISCARD)) == 1
    assert f.contractURI().call() == "ipfs://new-collection"

    with chain.reverts("NotOwner"):
        chain.send(f.setBaseURI("x"), params.minter)
    with chain.reverts("NotOwner"):
        chain.send(f.freezeMetadata(), params.minter)
    receipt = chain.send(f.freezeMetadata(), params.owner)
    assert len(collection.events.MetadataFrozen().process_receipt(receipt, errors=DISCARD)) == 1
    assert f.metadataFrozen().call() is True
    with chain.reverts("MetadataIsFrozen"):
        chain.send(f.setBaseURI("https://elsewhere/"), params.owner)
    with chain.reverts("MetadataIsFrozen"):
        chain.send(f.recordTokenUpgrade(0, 1), params.minter)
    chain.send(f.setContractURI("ipfs://still-editable"), params.owner)
    assert f.tokenURI(0).call() == "https://meta.example/t/0"


def test_token_upgrade_record(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    collection, _ = platform.create_collection(params, _salt())
    f = collection.functions
    chain.send(f.mintTo(params.owner, 1), params.minter)
    assert f.tokenVersion(0).call() == 0
    with chain.reverts("NotMinter"):
        chain.send(f.recordTokenUpgrade(0, 2), params.owner)
    with chain.reverts("NonexistentToken"):
        chain.send(f.recordTokenUpgrade(5, 2), params.minter)
    receipt = chain.send(f.recordTokenUpgrade(0, 2), params.minter)
    (upgraded,) = collection.events.TokenUpgraded().process_receipt(receipt, errors=DISCARD)
    (update,) = collection.events.MetadataUpdate().process_receipt(receipt, errors=DISCARD)
    assert (upgraded["args"]["tokenId"], upgraded["args"]["version"]) == (0, 2)
    assert update["args"]["_tokenId"] == 0
    assert f.tokenVersion(0).call() == 2
    with chain.reverts("VersionNotNewer"):
        chain.send(f.recordTokenUpgrade(0, 2), params.minter)


def test_owner_rules(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    collection, _ = platform.create_collection(params, _salt())
    f = collection.functions
    new_owner = chain.accounts[8]
    with chain.reverts("NotOwner"):
        chain.send(f.transferOwnership(new_owner), new_owner)
    with chain.reverts("ZeroAddress"):
        chain.send(f.transferOwnership("0x" + "00" * 20), params.owner)
    chain.send(f.transferOwnership(new_owner), params.owner)
    assert f.owner().call() == new_owner
    with chain.reverts("NotOwner"):
        chain.send(f.setContractURI("x"), params.owner)


def test_stray_eth_is_withdrawn_by_the_owner(chain: Chain, platform: Platform) -> None:
    params = _params(chain)
    collection, _ = platform.create_collection(params, _salt())
    chain.send(collection.functions.mintTo(params.owner, 1), params.minter)
    # ERC721A's approve is payable, so ETH can arrive with it.
    chain.send(collection.functions.approve(chain.accounts[9], 0), params.owner, value=12_345)
    to = fresh_address()
    with chain.reverts("NotOwner"):
        chain.send(collection.functions.withdrawETH(to), params.minter)
    chain.send(collection.functions.withdrawETH(to), params.owner)
    assert chain.w3.eth.get_balance(to) == 12_345
    assert chain.w3.eth.get_balance(collection.address) == 0


@pytest.mark.parametrize(("stride", "batch"), [(8, 20), (5, 5), (3, 10)])
def test_batch_ownership_is_written_every_stride(
    chain: Chain, platform: Platform, stride: int, batch: int
) -> None:
    params = _params(chain, ownership_stride=stride)
    collection, _ = platform.create_collection(params, _salt())
    first, second = fresh_address(), fresh_address()
    chain.send(collection.functions.mintTo(first, 1), params.minter)
    chain.send(collection.functions.mintTo(second, batch), params.minter)
    written = [
        token
        for token in range(1, 1 + batch)
        if chain.storage_word(collection.address, _ownership_slot(token)) != 0
    ]
    assert written == list(range(1, 1 + batch, stride))
    owners = [collection.functions.ownerOf(t).call() for t in range(1 + batch)]
    assert owners == [first] + [second] * batch


def test_transfers_after_strided_mint_keep_owners_right(chain: Chain, platform: Platform) -> None:
    params = _params(chain, ownership_stride=4)
    collection, _ = platform.create_collection(params, _salt())
    holder = chain.accounts[4]
    chain.send(collection.functions.mintTo(holder, 11), params.minter)
    buyers = {2: fresh_address(), 4: fresh_address(), 7: fresh_address(), 10: fresh_address()}
    for token, buyer in buyers.items():
        chain.send(collection.functions.transferFrom(holder, buyer, token), holder)
    owners = [collection.functions.ownerOf(t).call() for t in range(11)]
    assert owners == [buyers.get(t, holder) for t in range(11)]
    assert collection.functions.balanceOf(holder).call() == 7


def test_clone_is_an_erc1167_proxy_of_the_implementation(chain: Chain, platform: Platform) -> None:
    collection, _ = platform.create_collection(_params(chain), _salt())
    code = bytes(chain.w3.eth.get_code(collection.address))
    impl = bytes.fromhex(platform.collection_implementation.address[2:])
    assert code == bytes.fromhex("363d3d373d3d3d363d73") + impl + bytes.fromhex(
        "5af43d82803e903d91602b57fd5bf3"
    )
    assert chain.at(ContractName.COLLECTION, collection.address).address == collection.address
