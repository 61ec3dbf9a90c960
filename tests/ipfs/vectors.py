"""Where the golden CID vectors live: tests/data/ipfs/ (see its README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VECTORS_DIR = REPO / "tests" / "data" / "ipfs"
IPFS_JS = REPO / "tools" / "ipfs-js"


def load_vectors() -> dict[str, Any]:
    """Read at collection time so each CID is its own test; a missing file fails loudly."""
    with open(VECTORS_DIR / "cid_vectors.json", encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data
