"""From the command line, on the embedded local chain and on anvil: deploy the platform, deploy a
packaged collection, mint it, and see the mints in the indexer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emprops.cli import app
from emprops.core.settings import get_settings
from emprops.metadata import CollectionInfo
from emprops.packaging import PackageOptions, package_run_sync
from tests.chain.service_world import stop_node
from tests.packaging.run_fixture import make_run

COLLECTOR = "0x00000000000000000000000000000000000000bB"


@pytest.fixture(params=["local", "anvil"])
def chain_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Path]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("EMPROPS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("EMPROPS_CHAIN", request.param)
    if request.param == "anvil":
        monkeypatch.setenv("EMPROPS_CHAIN_RPC_URL", request.getfixturevalue("anvil_url"))
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()
    stop_node(data_dir)


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    from tests.chain.harness import running_anvil

    with running_anvil() as url:
        yield url


def test_a_packaged_collection_deploys_mints_and_is_indexed(
    chain_env: Path, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    info = CollectionInfo(name="CLI Friends", symbol="CLIF", royalty_bps=500,
                          royalty_recipient="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")  # fmt: skip
    package_run_sync(make_run(tmp_path / "run", 6), package, PackageOptions(info=info))
    runner = CliRunner()

    factory = runner.invoke(app, ["chain", "deploy-factory"])
    assert factory.exit_code == 0, factory.output
    deployed = runner.invoke(app, ["collection", "deploy", str(package)])
    assert deployed.exit_code == 0, deployed.output
    address = re.search(r"collection (0x[0-9a-fA-F]{40})", deployed.output)
    assert address, deployed.output
    minted = runner.invoke(
        app, ["collection", "mint", address.group(1), "--to", COLLECTOR, "--quantity", "6",
              "--batch", "4", "--request-id", "cli-drop"],
    )  # fmt: skip
    assert minted.exit_code == 0, minted.output
    assert "6 minted" in minted.output
    again = runner.invoke(
        app, ["collection", "mint", address.group(1), "--to", COLLECTOR, "--quantity", "6",
              "--request-id", "cli-drop"],
    )  # fmt: skip
    assert again.exit_code == 0 and "6 minted" in again.output
    over = runner.invoke(
        app, ["collection", "mint", address.group(1), "--to", COLLECTOR, "--quantity", "1"]
    )
    assert over.exit_code == 1 and "max supply of 6" in over.output

    indexed = runner.invoke(app, ["indexer", "run", "--once", "--finality", "head"])
    assert indexed.exit_code == 0, indexed.output
    assert "6 mints" in indexed.output
    mints = runner.invoke(app, ["indexer", "mints", address.group(1)])
    rows = [line for line in mints.output.splitlines() if re.match(r"│ (1337|31337) ", line)]
    assert mints.exit_code == 0 and len(rows) == 6, mints.output
