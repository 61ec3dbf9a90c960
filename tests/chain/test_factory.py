"""EmpropsFactory: predictable creator-bound addresses, versions, owner-only upgrades."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from emprops.chain.contracts import ContractName
from tests.chain.harness import Chain, CollectionParams, Platform, deploy_platform

# keccak256("eip1967.proxy.implementation") - 1
IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1


def _params(chain: Chain) -> CollectionParams:
    return CollectionParams(
        owner=chain.accounts[1], minter=chain.accounts[2], royalty_receiver=chain.accounts[3]
    )


def _create2_address(deployer: str, salt: bytes, initcode: bytes) -> str:
    digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(initcode))
    return Web3.to_checksum_address(digest[12:])


def test_predicted_address_is_the_deployed_one(chain: Chain, platform: Platform) -> None:
    creator, salt = chain.accounts[5], b"\x11" * 32
    predicted = platform.factory.functions.predictAddress(creator, salt, 1).call()
    # Independently: CREATE2 over the ERC-1167 initcode with salt = keccak(abi.encode(creator, salt)).
    impl = bytes.fromhex(platform.collection_implementation.address[2:])
    initcode = (
        bytes.fromhex("3d602d80600a3d3981f3363d3d373d3d3d363d73")
        + impl
        + bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
    )
    bound_salt = keccak(bytes(12) + bytes.fromhex(creator[2:]) + salt)
    assert platform.factory.functions.collectionSalt(creator, salt).call() == bound_salt
    assert predicted == _create2_address(platform.factory.address, bound_salt, initcode)
    assert chain.w3.eth.get_code(predicted) == b""

    collection, receipt = platform.create_collection(_params(chain), salt, creator=creator)
    assert collection.address == predicted
    (event,) = platform.factory.events.CollectionCreated().process_receipt(receipt, errors=DISCARD)
    assert event["address"] == platform.factory.address
    assert dict(event["args"]) == {
        "collection": predicted,
        "creator": creator,
        "version": 1,
        "owner": chain.accounts[1],
        "userSalt": salt,
    }


def test_salt_is_bound_to_the_creator(chain: Chain, platform: Platform) -> None:
    salt = b"\x22" * 32
    alice, mallory = chain.accounts[6], chain.accounts[7]
    alice_address = platform.factory.functions.predictAddress(alice, salt, 1).call()
    # Mallory using Alice's salt lands elsewhere, and Alice's address stays free.
    mallory_collection, _ = platform.create_collection(_params(chain), salt, creator=mallory)
    assert mallory_collection.address != alice_address
    alice_collection, _ = platform.create_collection(_params(chain), salt, creator=alice)
    assert alice_collection.address == alice_address
    with chain.reverts("FailedDeployment"):
        platform.create_collection(_params(chain), salt, creator=alice)


def test_versions_are_registered_by_the_owner_only(chain: Chain, platform: Platform) -> None:
    factory = platform.factory
    second_impl, _ = chain.deploy(ContractName.COLLECTION)
    with chain.reverts("OwnableUnauthorizedAccount"):
        chain.send(factory.functions.registerImplementation(second_impl.address), chain.accounts[4])
    with chain.reverts("NotAContract"):
        chain.send(factory.functions.registerImplementation(chain.accounts[4]), platform.owner)
    with chain.reverts("UnknownVersion"):
        factory.functions.predictAddress(chain.accounts[0], b"\x00" * 32, 99).call()
    version = factory.functions.latestVersion().call() + 1
    receipt = chain.send(
        factory.functions.registerImplementation(second_impl.address), platform.owner
    )
    (event,) = factory.events.ImplementationRegistered().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["version"], event["args"]["implementation"]) == (
        version,
        second_impl.address,
    )
    assert factory.functions.collectionImplementation(version).call() == second_impl.address
    # Same creator and salt, another version: another address, since the clone code differs.
    salt = b"\x33" * 32
    v1 = factory.functions.predictAddress(chain.accounts[0], salt, 1).call()
    v2 = factory.functions.predictAddress(chain.accounts[0], salt, version).call()
    assert v1 != v2
    collection, _ = platform.create_collection(_params(chain), salt, version=version)
    assert collection.address == v2
    with chain.reverts("UnknownVersion"):
        platform.create_collection(_params(chain), b"\x34" * 32, version=version + 1)


def test_factory_implementation_cannot_be_initialized(chain: Chain, platform: Platform) -> None:
    with chain.reverts("InvalidInitialization"):
        chain.send(
            platform.factory_implementation.functions.initialize(chain.accounts[4]),
            chain.accounts[4],
        )
    with chain.reverts("InvalidInitialization"):
        chain.send(platform.factory.functions.initialize(chain.accounts[4]), chain.accounts[4])


@pytest.fixture
def own_platform(chain: Chain) -> Platform:
    """A platform of its own: the upgrade test changes the factory code."""
    return deploy_platform(chain)


def test_upgrade_keeps_state_and_is_owner_only(chain: Chain, own_platform: Platform) -> None:
    platform = own_platform
    factory = platform.factory
    before, _ = platform.create_collection(_params(chain), b"\x44" * 32)
    v2_impl, _ = chain.deploy(ContractName.FACTORY_V2_MOCK)
    assert factory.functions.factoryVersion().call() == 1

    with chain.reverts("OwnableUnauthorizedAccount"):
        chain.send(factory.functions.upgradeToAndCall(v2_impl.address, b""), chain.accounts[4])
    # Calling the implementation directly is refused: UUPS upgrades only go through the proxy.
    with chain.reverts("UUPSUnauthorizedCallContext"):
        chain.send(platform.factory_implementation.functions.upgradeToAndCall(v2_impl.address, b""))

    receipt = chain.send(factory.functions.upgradeToAndCall(v2_impl.address, b""), platform.owner)
    upgraded = chain.at(ContractName.FACTORY_V2_MOCK, factory.address)
    (event,) = upgraded.events.Upgraded().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["implementation"] == v2_impl.address
    slot_value = chain.storage_word(factory.address, IMPLEMENTATION_SLOT)
    assert Web3.to_checksum_address(slot_value.to_bytes(20, "big")) == v2_impl.address

    f = upgraded.functions
    assert f.factoryVersion().call() == 2
    assert f.owner().call() == platform.owner
    assert f.latestVersion().call() == 1
    assert f.collectionImplementation(1).call() == platform.collection_implementation.address
    assert f.predictAddress(chain.accounts[0], b"\x44" * 32, 1).call() == before.address
    after, _ = platform.create_collection(_params(chain), b"\x45" * 32)
    assert after.functions.name().call() == "EmProps Genesis"
