"""Every contract test runs on both EVMs: py-evm in process (the embedded default) and anvil (a fresh
instance for the session, on a free 127.0.0.1 port, killed at the end)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chain.harness import (
    Chain,
    Platform,
    anvil_chain,
    deploy_platform,
    pyevm_chain,
    running_anvil,
)


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    with running_anvil() as url:
        yield url


@pytest.fixture(scope="module", params=["py-evm", "anvil"])
def chain(request: pytest.FixtureRequest) -> Chain:
    if request.param == "anvil":
        return anvil_chain(request.getfixturevalue("anvil_url"))
    return pyevm_chain()


@pytest.fixture(scope="module")
def platform(chain: Chain) -> Platform:
    """One deployment per module and backend; tests create their own collections and splits in it."""
    return deploy_platform(chain)
