"""The committed artifacts are exactly what the pinned compiler makes of the sources, and load."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from emprops.chain.contracts import (
    ArtifactNotFoundError,
    ContractName,
    abi,
    bytecode,
    deployed_bytecode,
    load_artifact,
)
from tests.chain.harness import CONTRACTS_DIR, ensure_node_modules


def test_committed_artifacts_match_a_fresh_compile(tmp_path: Path) -> None:
    ensure_node_modules()
    node = shutil.which("node")
    assert node, "node is needed to recompile the contracts"
    subprocess.run(
        [node, "compile.mjs", str(tmp_path)], cwd=CONTRACTS_DIR, check=True, capture_output=True
    )
    committed = {p.name: p.read_bytes() for p in (CONTRACTS_DIR / "artifacts").glob("*.json")}
    fresh = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    assert sorted(committed) == sorted(fresh), (
        "artifact set differs: run `node compile.mjs` in contracts/"
    )
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale artifacts {stale}: run `node compile.mjs` in contracts/"


def test_every_contract_name_has_an_artifact() -> None:
    for name in ContractName:
        artifact = load_artifact(name)
        assert artifact.contract_name == name.value
        assert artifact.compiler.settings["evmVersion"] == "cancun"
        assert artifact.compiler.settings["optimizer"] == {"enabled": True, "runs": 200}
        assert bytecode(name).startswith("0x") and len(bytecode(name)) > 2
        assert deployed_bytecode(name).startswith("0x")
        assert any(
            entry["type"] == "function" or entry["type"] == "fallback" for entry in abi(name)
        )


def test_collection_abi_has_the_platform_surface() -> None:
    functions = {e["name"] for e in abi(ContractName.COLLECTION) if e["type"] == "function"}
    events = {e["name"] for e in abi(ContractName.COLLECTION) if e["type"] == "event"}
    assert {"mintTo", "royaltyInfo", "contractURI", "tokenURI", "recordTokenUpgrade"} <= functions
    assert {
        "Transfer",
        "MetadataUpdate",
        "BatchMetadataUpdate",
        "ContractURIUpdated",
        "TokenUpgraded",
    } <= events


def test_unknown_contract_is_a_not_found_error() -> None:
    with pytest.raises(ArtifactNotFoundError, match="NoSuchContract"):
        load_artifact("NoSuchContract")
