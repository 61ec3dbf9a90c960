"""Fixtures for the content-addressing tests: the golden vectors' inputs regenerated once per session
with the recipe shipped beside them, and the pinned JS `ipfs-car` tool for cross-checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ipfs.vectors import IPFS_JS, VECTORS_DIR


@pytest.fixture(scope="session")
def vector_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run make_vectors_files.py exactly as the vectors' README says (files/ and dirs/ under one
    root), so the inputs are the ones Kubo hashed, not our own re-telling of the recipe."""
    root = tmp_path_factory.mktemp("ipfs-vectors")
    script = VECTORS_DIR / "make_vectors_files.py"
    dirs = str(root / "dirs")
    subprocess.run(
        [sys.executable, str(script), str(root / "files"), dirs, dirs, dirs],
        check=True,
        timeout=120,
    )
    return root


@pytest.fixture(scope="session")
def ipfs_car() -> list[str]:
    """The `ipfs-car` CLI from tools/ipfs-js, installed from its lockfile if needed. A registry
    failure fails the test; only a machine without npm at all skips it."""
    npm = shutil.which("npm")
    node = shutil.which("node")
    if npm is None or node is None:
        pytest.skip("npm/node not installed: the ipfs-car cross-check cannot run here")
    bin_js = IPFS_JS / "node_modules" / "ipfs-car" / "bin.js"
    if not bin_js.exists():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=IPFS_JS,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {IPFS_JS} failed:\n{result.stdout}\n{result.stderr}")
    return [node, str(bin_js)]
