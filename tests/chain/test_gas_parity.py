"""py-evm (Cancun) and anvil (--hardfork cancun) charge the same gas, so gas measured on either holds."""

from __future__ import annotations

from tests.chain.harness import Chain, CollectionParams, anvil_chain, deploy_platform, pyevm_chain


def _scenario_gas(chain: Chain) -> list[int]:
    platform = deploy_platform(chain)
    owner, minter, holder, buyer = chain.accounts[1:5]
    params = CollectionParams(owner=owner, minter=minter, royalty_receiver=chain.accounts[5])
    collection, created = platform.create_collection(params, b"\x01" * 32)
    gas = [created["gasUsed"]]
    for quantity in (1, 20):
        gas.append(chain.send(collection.functions.mintTo(holder, quantity), minter)["gasUsed"])
    gas.append(chain.send(collection.functions.transferFrom(holder, buyer, 20), holder)["gasUsed"])
    split = platform.create_split(
        sorted([owner, minter], key=lambda a: int(a, 16)), [700_000, 300_000]
    )
    chain.send_eth(split.address, 10**18)
    gas.append(chain.send(split.functions.distributeETH())["gasUsed"])
    return gas


def test_pyevm_and_anvil_gas_agree(anvil_url: str) -> None:
    assert _scenario_gas(pyevm_chain()) == _scenario_gas(anvil_chain(anvil_url))
