"""`emprops collection package` and `emprops collection upload`, run as a user runs them."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner, Result

import emprops.cli.collection_package  # registers package/upload on the collection app
from emprops.cli.collection import app
from emprops.ipfs import CID, cid_of_directory
from emprops.packaging import read_package_report
from tests.packaging.conftest import RECIPIENT
from tests.packaging.run_fixture import image_path
from tests.protocol_servers.live_server import free_port
from tests.protocol_servers.pinning_servers import KuboServer, PinataServer, PsaServer

_ = emprops.cli.collection_package
runner = CliRunner()


def package(run_dir: Path, out: Path, *extra: str) -> Result:
    args = ["package", str(run_dir), "--out", str(out), "--name", "Fixture Friends",
            "--symbol", "FIX", "--royalty-bps", "500", "--royalty-recipient", RECIPIENT, *extra]  # fmt: skip
    return runner.invoke(app, args)


async def upload(out: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return await asyncio.to_thread(runner.invoke, app, ["upload", str(out), *args], env=env)


def test_package_prints_cids_and_rarity(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    result = package(run_dir, out, "--description", "Six test tokens.")
    assert result.exit_code == 0, result.output
    report = read_package_report(out)
    assert report.reveal.folders[0].cid in result.output  # images CID
    assert report.reveal.base_uri in result.output
    assert report.provenance_hash in result.output
    assert "background" in result.output and "Body" in result.output
    contract = json.loads((out / "collection.json").read_text())
    assert contract["seller_fee_basis_points"] == 500


def test_package_errors_name_token_and_field(run_dir: Path, tmp_path: Path) -> None:
    image_path(run_dir, 3).write_bytes(b"\x89PNG broken")
    result = runner.invoke(app, ["package", str(run_dir), "--out", str(tmp_path / "p"),
                                 "--name", "x" * 70, "--royalty-bps", "12000"])  # fmt: skip
    assert result.exit_code == 1
    assert "collection: name: is 70 characters long, more than 64" in result.output
    assert "collection: seller_fee_basis_points: 12000 is outside 0..10000" in result.output
    assert "token 3: image:" in result.output
    assert "Traceback" not in result.output


async def test_upload_to_kubo_and_resume(
    run_dir: Path, tmp_path: Path, kubo: tuple[KuboServer, str]
) -> None:
    server, url = kubo
    out = tmp_path / "pkg"
    assert package(run_dir, out).exit_code == 0
    result = await upload(out, "--to", "kubo", "--endpoint", url)
    assert result.exit_code == 0, result.output
    report = read_package_report(out)
    for folder in report.reveal.folders:
        assert CID.parse(folder.cid) in server.pins
    assert report.reveal.base_uri in result.output
    sent = server.added_files
    again = await upload(out, "--to", "kubo", "--endpoint", url)
    assert again.exit_code == 0 and server.added_files == sent
    assert "0 uploaded or pinned" in again.output


async def test_upload_car_to_kubo(
    run_dir: Path, tmp_path: Path, kubo: tuple[KuboServer, str]
) -> None:
    server, url = kubo
    out = tmp_path / "pkg"
    assert package(run_dir, out).exit_code == 0
    result = await upload(out, "--to", "kubo", "--endpoint", url, "--car")
    assert result.exit_code == 0, result.output
    report = read_package_report(out)
    assert CID.parse(report.reveal.root_cid) in server.pins
    assert server.added_files == 0


async def test_hidden_package_uploads_only_the_placeholder_part(
    run_dir: Path, tmp_path: Path, pinata: tuple[PinataServer, str]
) -> None:
    server, url = pinata
    placeholder = tmp_path / "soon.png"
    shutil.copyfile(image_path(run_dir, 0), placeholder)
    out = tmp_path / "pkg"
    assert package(run_dir, out, "--hidden", str(placeholder)).exit_code == 0
    env = {"EMPROPS_PINATA_JWT": "pinata-jwt"}
    result = await upload(out, "--to", "pinata", "--endpoint", url, env=env)
    assert result.exit_code == 0, result.output
    report = read_package_report(out)
    assert report.hidden is not None
    images_cid = str(cid_of_directory(out / "images"))
    assert images_cid not in server.pins
    assert {f.cid for f in report.hidden.folders + report.hidden.files} <= set(server.pins)
    reveal = await upload(out, "--to", "pinata", "--endpoint", url, "--part", "reveal", env=env)
    assert reveal.exit_code == 0, reveal.output
    assert images_cid in server.pins


async def test_upload_failures_exit_1_with_a_message(
    run_dir: Path, tmp_path: Path, pinata: tuple[PinataServer, str], psa: tuple[PsaServer, str]
) -> None:
    server, url = pinata
    out = tmp_path / "pkg"
    assert package(run_dir, out).exit_code == 0
    no_token = await upload(out, "--to", "pinata", "--endpoint", url,
                            "--token-env", "EMPROPS_TEST_NO_SUCH_VAR")  # fmt: skip
    assert no_token.exit_code == 1 and "set EMPROPS_TEST_NO_SUCH_VAR" in no_token.output
    env = {"EMPROPS_PINATA_JWT": "pinata-jwt"}
    server.inject("wrong_cid")
    mismatch = await upload(out, "--to", "pinata", "--endpoint", url, "--concurrency", "1", env=env)
    assert mismatch.exit_code == 1
    assert (
        "the service stored it as" in mismatch.output and "run the same command" in mismatch.output
    )
    down = f"http://127.0.0.1:{free_port()}"
    unreachable = await upload(out, "--to", "pinata", "--endpoint", down, "--attempts", "2",
                               env=env)  # fmt: skip
    assert unreachable.exit_code == 1 and down in unreachable.output
    no_endpoint = await upload(out, "--to", "psa", env={"EMPROPS_PSA_TOKEN": "t"})
    assert no_endpoint.exit_code == 1 and "--endpoint" in no_endpoint.output
    _, psa_url = psa
    pinned = await upload(out, "--to", "psa", "--endpoint", psa_url, "--poll-interval", "0.05",
                          env={"EMPROPS_PSA_TOKEN": "psa-secret"})  # fmt: skip
    assert pinned.exit_code == 0, pinned.output
    missing = await upload(tmp_path, "--to", "kubo")
    assert missing.exit_code == 1 and "report.json does not exist" in missing.output
