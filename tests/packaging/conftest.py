"""A finished run to package, and the pinning servers (shared with tests/pinning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emprops.metadata import CollectionInfo
from emprops.packaging import PackageOptions
from tests.ipfs.conftest import ipfs_car
from tests.packaging.run_fixture import make_run
from tests.pinning.conftest import kubo, pinata, psa

__all__ = ["ipfs_car", "kubo", "pinata", "psa"]

RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run", 6)


@pytest.fixture
def options() -> PackageOptions:
    return PackageOptions(
        info=CollectionInfo(
            name="Fixture Friends", symbol="FIX", description="Six test tokens.",
            external_url="https://example.org", royalty_bps=500, royalty_recipient=RECIPIENT,
        )
    )  # fmt: skip
