"""`emprops ipfs cid` and `emprops ipfs car`, run through Typer as a user would."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from emprops.cli.ipfs import app
from emprops.ipfs import read_car_header
from tests.ipfs.vectors import load_vectors

_ALL = load_vectors()
VECTORS = {entry["path"]: entry for entry in _ALL["files"] + _ALL["dirs"]}
runner = CliRunner()


def test_cid_prints_only_the_cid(vector_root: Path) -> None:
    entry = VECTORS["files/medium_300KiB.bin"]
    result = runner.invoke(app, ["cid", str(vector_root / entry["path"])])
    assert result.exit_code == 0, result.output
    assert result.stdout == entry["cid_v0_kubo_default"] + "\n"


def test_cid_version_1_defaults_to_raw_leaves(vector_root: Path) -> None:
    entry = VECTORS["dirs/nested"]
    path = str(vector_root / entry["path"])
    v1 = runner.invoke(app, ["cid", "--cid-version", "1", path])
    assert v1.stdout.strip() == entry["cid_v1_kubo_cid_version_1"]
    no_raw = runner.invoke(app, ["cid", "--cid-version", "1", "--no-raw-leaves", path])
    assert no_raw.exit_code == 0
    assert no_raw.stdout.strip() not in (entry["cid_v1_kubo_cid_version_1"], "")


def test_hamt_rule_option(vector_root: Path) -> None:
    entry = VECTORS["dirs/edge_262144"]
    path = str(vector_root / entry["path"])
    kubo = runner.invoke(app, ["cid", path])
    newer = runner.invoke(app, ["cid", "--hamt-rule", "newer", path])
    assert kubo.stdout.strip() == entry["cid_v0_kubo_default"]
    assert newer.stdout.strip() == entry["note_threshold"]["boxo_current_gt_rule_v0"]


def test_wrap_with_directory(vector_root: Path) -> None:
    result = runner.invoke(app, ["cid", "-w", str(vector_root / "files/metadata_1.json")])
    assert result.stdout.strip() == VECTORS["dirs/wrap_metadata"]["cid_v0_kubo_default"]


def test_car_command(vector_root: Path, tmp_path: Path) -> None:
    entry = VECTORS["dirs/dir_3"]
    out = tmp_path / "dir3.car"
    result = runner.invoke(app, ["car", str(vector_root / entry["path"]), str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == entry["cid_v0_kubo_default"]
    with open(out, "rb") as stream:
        assert [str(c) for c in read_car_header(stream)] == [entry["cid_v0_kubo_default"]]


def test_unsupported_input_is_a_clean_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    result = runner.invoke(app, ["cid", str(tmp_path)])
    assert result.exit_code == 1
    assert "neither a file" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
