"""`emprops indexer ...` from the command line against anvil and a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emprops.cli import app
from emprops.core.settings import get_settings
from tests.chain.harness import anvil_chain
from tests.indexer.world import World, build_world

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("COLUMNS", "250")  # whole addresses in the tables
    monkeypatch.setenv("EMPROPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EMPROPS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def world(anvil_url: str) -> World:
    return build_world(anvil_chain(anvil_url))


def invoke(*args: str) -> str:
    result = runner.invoke(app, ["indexer", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_once_then_query(cli_env: None, world: World, anvil_url: str) -> None:
    a = world.chain.accounts
    out = invoke(
        "run", "--once", "--rpc-url", anvil_url, "--factory", world.factory,
        "--finality", "head", "--from-block", str(world.first_block),
    )  # fmt: skip
    assert "3 collections, 7 mints, 9 transfers, 2 upgrades" in out
    assert world.c1.address in invoke("collections", "--creator", a[1])
    assert world.c3.address not in invoke("collections", "--creator", a[1])
    mints = invoke("mints", world.c1.address)
    assert mints.count(a[3]) == 3 and mints.count(a[4]) == 2 and mints.count(a[6]) == 1
    tokens = invoke("tokens", "--owner", a[5])
    assert world.c1.address in tokens and world.c2.address not in tokens
    token = invoke("token", world.c1.address, "1")
    assert token.count(a[4]) == 2  # received, then sent on
    assert "chain" in invoke("replay") and "31337" in invoke("status")


def test_bad_input_is_one_clear_line(cli_env: None, world: World, anvil_url: str) -> None:
    result = runner.invoke(app, ["indexer", "mints", "0x1234"])
    assert result.exit_code == 1
    assert "collection is not an EVM address" in result.output
    result = runner.invoke(app, ["indexer", "run", "--once", "--rpc-url", anvil_url])
    assert result.exit_code == 1 and "give --rpc-url and at least one --factory" in result.output
    result = runner.invoke(
        app, ["indexer", "run", "--once", "--rpc-url", anvil_url, "--factory", "nope"]
    )
    assert result.exit_code == 1 and "not an EVM address" in result.output
    result = runner.invoke(
        app,
        ["indexer", "run", "--once", "--rpc-url", anvil_url, "--factory", world.factory,
         "--chain-id", "1"],
    )  # fmt: skip
    assert result.exit_code == 1 and "not the configured chain 1" in result.output
