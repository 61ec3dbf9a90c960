"""The compiled contracts (ABI + bytecode), read from the artifacts committed under contracts/artifacts
so that Python users need no Solidity toolchain. `contracts/compile.mjs` writes them."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emprops.core.errors import InvalidInputError, NotFoundError


class ContractName(StrEnum):
    FACTORY = "EmpropsFactory"
    COLLECTION = "EmpropsCollection"
    SPLIT_FACTORY = "EmpropsSplitFactory"
    SPLIT = "EmpropsSplit"
    PROXY = "ERC1967Proxy"
    FACTORY_V2_MOCK = "EmpropsFactoryV2Mock"


class CompilerInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    settings: dict[str, Any]


class ContractArtifact(BaseModel):
    """One artifact file: what a client needs to deploy the contract and to talk to it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    contract_name: str = Field(alias="contractName")
    source_name: str = Field(alias="sourceName")
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str = Field(alias="deployedBytecode")
    compiler: CompilerInfo


class ArtifactNotFoundError(NotFoundError):
    pass


class ArtifactInvalidError(InvalidInputError):
    pass


def artifact_dirs() -> list[Path]:
    """Where artifacts may live: beside this module in a built wheel, else the source checkout."""
    here = Path(__file__).resolve()
    return [here.parent / "artifacts", here.parents[3] / "contracts" / "artifacts"]


@cache
def load_artifact(name: ContractName | str) -> ContractArtifact:
    for directory in artifact_dirs():
        path = directory / f"{name}.json"
        if path.is_file():
            try:
                return ContractArtifact.model_validate_json(path.read_bytes())
            except ValidationError as exc:
                raise ArtifactInvalidError(
                    f"contract artifact {path} is not a valid artifact: {exc}"
                ) from exc
    searched = ", ".join(str(d) for d in artifact_dirs())
    raise ArtifactNotFoundError(f"no artifact for contract {name!s} in {searched}")


def abi(name: ContractName | str) -> list[dict[str, Any]]:
    return load_artifact(name).abi


def bytecode(name: ContractName | str) -> str:
    """Creation bytecode, 0x-prefixed hex."""
    return load_artifact(name).bytecode


def deployed_bytecode(name: ContractName | str) -> str:
    """Runtime bytecode, 0x-prefixed hex (what `eth_getCode` returns for a direct deployment)."""
    return load_artifact(name).deployed_bytecode
