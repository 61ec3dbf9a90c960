"""EmpropsSplit / EmpropsSplitFactory: validation, predictable addresses, exact payouts."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.logs import DISCARD

from emprops.chain.contracts import ContractName
from tests.chain.harness import Chain, Platform, fresh_address, sorted_addresses

SCALE = 1_000_000


def test_create_predicts_and_is_idempotent(chain: Chain, platform: Platform) -> None:
    accounts = sorted_addresses([fresh_address(), fresh_address()])
    allocations = [700_000, 300_000]
    predicted = platform.split_factory.functions.predictSplitAddress(accounts, allocations).call()
    receipt = chain.send(platform.split_factory.functions.createSplit(accounts, allocations))
    (event,) = platform.split_factory.events.SplitCreated().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["split"] == predicted
    assert list(event["args"]["accounts"]) == accounts
    assert list(event["args"]["percentAllocations"]) == allocations
    split = chain.at(ContractName.SPLIT, predicted)
    assert split.functions.recipients().call() == [accounts, allocations]
    # A second create of the same split returns the same address and creates nothing.
    receipt = chain.send(platform.split_factory.functions.createSplit(accounts, allocations))
    assert (
        platform.split_factory.events.SplitCreated().process_receipt(receipt, errors=DISCARD) == ()
    )
    other = platform.split_factory.functions.predictSplitAddress(
        accounts, [600_000, 400_000]
    ).call()
    assert other != predicted


@pytest.mark.parametrize(
    ("order", "allocations", "error"),
    [
        ([1, 0], [500_000, 500_000], "AccountsNotSorted"),
        ([0, 0], [500_000, 500_000], "AccountsNotSorted"),
        ([0, 1], [500_000, 400_000], "AllocationsSumInvalid"),
        ([0, 1], [1_000_000, 0], "ZeroAllocation"),
        ([0, 1], [1_000_000], "LengthMismatch"),
        ([0], [1_000_000], "TooFewAccounts"),
    ],
)
def test_create_rejects_bad_splits(
    chain: Chain, platform: Platform, order: list[int], allocations: list[int], error: str
) -> None:
    pool = sorted_addresses([fresh_address(), fresh_address()])
    with chain.reverts(error):
        chain.send(
            platform.split_factory.functions.createSplit([pool[i] for i in order], allocations)
        )


def test_distribute_and_withdraw_pay_exact_shares(chain: Chain, platform: Platform) -> None:
    accounts = sorted_addresses([fresh_address(), fresh_address(), fresh_address()])
    allocations = [333_333, 333_333, 333_334]
    split = platform.create_split(accounts, allocations)
    f = split.functions
    amount = 10**18 + 7
    chain.send_eth(split.address, amount)
    assert f.distributable().call() == amount
    # Anyone may distribute.
    receipt = chain.send(f.distributeETH(), chain.accounts[9])
    shares = [amount * a // SCALE for a in allocations]
    (event,) = split.events.ETHDistributed().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["amount"], event["args"]["credited"]) == (amount, sum(shares))
    assert [f.withdrawable(a).call() for a in accounts] == shares
    dust = amount - sum(shares)
    assert 0 <= dust < len(accounts)
    assert f.distributable().call() == dust

    for account, share in zip(accounts, shares, strict=True):
        receipt = chain.send(f.withdraw(account), chain.accounts[8])
        (paid,) = split.events.Withdrawal().process_receipt(receipt, errors=DISCARD)
        assert (paid["args"]["account"], paid["args"]["amount"]) == (account, share)
        assert chain.w3.eth.get_balance(account) == share
    assert chain.w3.eth.get_balance(split.address) == dust
    assert f.totalWithdrawable().call() == 0
    with chain.reverts("NothingToWithdraw"):
        chain.send(f.withdraw(accounts[0]))

    # The dust is not lost: it joins the next distribution.
    chain.send_eth(split.address, 1_000_000)
    chain.send(f.distributeETH())
    assert f.withdrawable(accounts[2]).call() == (1_000_000 + dust) * 333_334 // SCALE


def test_implementation_refuses_direct_use(chain: Chain, platform: Platform) -> None:
    implementation = chain.at(
        ContractName.SPLIT, platform.split_factory.functions.splitImplementation().call()
    )
    with chain.reverts("NotAClone"):
        chain.send(implementation.functions.distributeETH())


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.integers(1, SCALE - 1), min_size=1, max_size=4, unique=True),
    amount=st.integers(0, 10**21),
)
def test_payouts_never_exceed_the_balance(
    chain: Chain, platform: Platform, cuts: list[int], amount: int
) -> None:
    bounds = [0, *sorted(cuts), SCALE]
    allocations = [b - a for a, b in itertools.pairwise(bounds)]
    accounts = sorted_addresses([fresh_address() for _ in allocations])
    split = platform.create_split(accounts, allocations)
    if amount:
        chain.send_eth(split.address, amount)
    chain.send(split.functions.distributeETH())
    credited = [split.functions.withdrawable(a).call() for a in accounts]
    assert credited == [amount * a // SCALE for a in allocations]
    assert amount - len(accounts) < sum(credited) <= amount
