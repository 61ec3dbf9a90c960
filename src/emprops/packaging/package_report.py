"""What a package holds and its CIDs, as `report.json` beside the files. `emprops collection
upload` reads it to know what to pin; people read it for the base URI and the rarity table.
Nothing in it depends on the time or the machine, so the same run gives the same report."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, Field, ValidationError

from emprops.ipfs import HamtRule
from emprops.metadata import Attribute, TraitRarity
from emprops.packaging.errors import PackageError

REPORT_NAME = "report.json"
REPORT_FORMAT = "emprops-package/1"


class PackagedFile(BaseModel):
    path: str = Field(description="Relative to the package folder.")
    cid: str
    bytes: int


class PackagedFolder(BaseModel):
    path: str
    cid: str
    files: int
    bytes: int


class TokenEntry(BaseModel):
    token_id: int
    generation: int
    image: str
    image_file: str
    image_cid: str
    image_sha256: str
    image_bytes: int
    animation_file: str | None = None
    animation_cid: str | None = None
    metadata_file: str
    metadata_cid: str
    attributes: list[Attribute]


class PackagePart(BaseModel):
    """A set of folders published together: the reveal (images and metadata), or the hidden
    placeholder published before it."""

    root: str = Field(description="Folder whose CID is root_cid (and the CAR's root).")
    root_cid: str
    base_uri: str = Field(description="The contract's baseURI: ipfs://<metadata CID>/")
    contract_uri: str = Field(description="ipfs://<collection.json CID>")
    folders: list[PackagedFolder]
    files: list[PackagedFile]
    car: PackagedFile | None = None


class PackageReport(BaseModel):
    format: Literal["emprops-package/1"] = "emprops-package/1"
    run_id: str
    tokens: int
    first_token_id: int
    cid_version: int
    hamt_rule: HamtRule
    metadata_extension: str
    workflow_digest: str
    provenance_hash: str = Field(
        description="sha256 of the concatenated sha256 hex digests of the images in token order"
    )
    reveal: PackagePart
    hidden: PackagePart | None = None
    token_entries: list[TokenEntry]
    rarity: dict[str, dict[str, TraitRarity]]

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n"


def read_package_report(package_dir: Path) -> PackageReport:
    path = package_dir / REPORT_NAME
    try:
        return PackageReport.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise PackageError(
            f"{path} does not exist: make the package with `emprops collection package` first",
            details={"path": str(path)},
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PackageError(
            f"{path}: {where}: {first['msg']}", details={"path": str(path), "field": where}
        ) from None
