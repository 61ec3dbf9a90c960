"""Packaging a run: files, CIDs (our importer's, i.e. Kubo's), metadata, CARs, report, hidden
mode; determinism; and the errors for bad input, each naming the token and the field."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from emprops.ipfs import CID, cid_of_directory, cid_of_file, iter_car_blocks, read_car_header
from emprops.metadata import CollectionInfo, MetadataInvalid
from emprops.packaging import (
    PackageError,
    PackageOptions,
    PackageReport,
    package_run,
    package_run_sync,
    read_package_report,
)
from tests.ipfs.dag_blocks import decode, read_file
from tests.packaging.run_fixture import RUN_ID, image_path, make_run


def unpack(car: Path) -> dict[str, bytes]:
    """Every file under the CAR's root, read back through the DAG with the strict decoders."""
    with open(car, "rb") as stream:
        (root,) = read_car_header(stream)
        blocks = {block.cid: block.data for block in iter_car_blocks(stream)}
    out: dict[str, bytes] = {}

    def walk_dir(cid: CID, prefix: str) -> None:
        node = decode(blocks, cid)
        for link in node.node.links:
            child = decode(blocks, link.cid) if link.cid.codec == 0x70 else None
            name = prefix + link.name.decode()
            if child is not None and child.unixfs.type.name == "DIRECTORY":
                walk_dir(link.cid, name + "/")
            else:
                out[name] = read_file(blocks, link.cid)

    walk_dir(root, "")
    return out


async def test_package_layout_cids_and_metadata(
    run_dir: Path, options: PackageOptions, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    report = await package_run(run_dir, out, options)
    assert report.tokens == 6 and report.run_id == RUN_ID
    images_cid = cid_of_directory(out / "images")
    metadata_cid = cid_of_directory(out / "metadata")
    folders = {f.path: f.cid for f in report.reveal.folders}
    assert folders == {"images": str(images_cid), "metadata": str(metadata_cid)}
    assert report.reveal.base_uri == f"ipfs://{metadata_cid}/"
    assert report.reveal.contract_uri == f"ipfs://{cid_of_file(out / 'collection.json')}"
    assert sorted(p.name for p in (out / "metadata").iterdir()) == [str(i) for i in range(6)]
    for entry in report.token_entries:
        generation = entry.generation
        assert entry.token_id == generation
        image = (out / entry.image_file).read_bytes()
        assert image == image_path(run_dir, generation).read_bytes()
        assert entry.image_sha256 == hashlib.sha256(image).hexdigest()
        metadata = json.loads((out / entry.metadata_file).read_text())
        assert metadata["name"] == f"Fixture Friends #{entry.token_id}"
        assert metadata["image"] == f"ipfs://{images_cid}/{entry.token_id}.png"
        assert metadata["external_url"] == "https://example.org"
        traits = {a["trait_type"]: a for a in metadata["attributes"]}
        assert traits["Body"]["value"] == ["Tan", "Robot"][generation % 2]
        assert traits["Level"] == {"trait_type": "Level", "value": generation + 1,
                                   "display_type": "number", "max_value": 100}  # fmt: skip
        assert traits["background"]["value"] in ("Blue", "Gold", "Green")
        props = metadata["properties"]
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert props["generation_hash"] == manifest["tokens"][generation]["hash"]
        assert props["seed"] == manifest["tokens"][generation]["seed"]
        assert props["workflow_digest"] == report.workflow_digest
    contract = json.loads((out / "collection.json").read_text())
    assert contract == {
        "name": "Fixture Friends", "symbol": "FIX", "description": "Six test tokens.",
        "image": f"ipfs://{images_cid}/0.png", "external_link": "https://example.org",
        "seller_fee_basis_points": 500,
        "fee_recipient": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    }  # fmt: skip
    digests = [e.image_sha256 for e in report.token_entries]
    assert report.provenance_hash == hashlib.sha256("".join(digests).encode()).hexdigest()
    assert sum(v.count for v in report.rarity["Body"].values()) == 6
    assert read_package_report(out) == report
    assert not (out / ".staging").exists()


async def test_car_unpacks_to_the_package(
    run_dir: Path, options: PackageOptions, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    report = await package_run(run_dir, out, options)
    files = unpack(out / "collection.car")
    expected = {
        p.relative_to(out).as_posix(): p.read_bytes()
        for sub in ("images", "metadata")
        for p in (out / sub).iterdir()
    }
    expected["collection.json"] = (out / "collection.json").read_bytes()
    assert files == expected
    assert report.reveal.car is not None and report.reveal.car.cid == report.reveal.root_cid


def test_car_cross_checked_with_ipfs_car(
    run_dir: Path, options: PackageOptions, tmp_path: Path, ipfs_car: list[str]
) -> None:
    """The JS `ipfs-car` tool unpacks our CAR to byte-identical files."""
    out = tmp_path / "out"
    package_run_sync(run_dir, out, options)
    target = tmp_path / "unpacked"
    subprocess.run([*ipfs_car, "unpack", str(out / "collection.car"), "--output", str(target)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    for sub in ("images", "metadata"):
        for path in (out / sub).iterdir():
            assert (target / sub / path.name).read_bytes() == path.read_bytes()
    assert (target / "collection.json").read_bytes() == (out / "collection.json").read_bytes()


def test_same_run_same_bytes(run_dir: Path, options: PackageOptions, tmp_path: Path) -> None:
    first = package_run_sync(run_dir, tmp_path / "a", options)
    moved = tmp_path / "moved-run"
    shutil.copytree(run_dir, moved)
    shutil.rmtree(run_dir)  # file:// srcs now point nowhere; `path` still finds the files
    second = package_run_sync(moved, tmp_path / "b", options)
    assert first == second
    for name in ("collection.car", "report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # Packaging again into the same folder replaces the package, same CIDs.
    assert package_run_sync(moved, tmp_path / "a", options) == first


def test_hidden_mode(run_dir: Path, options: PackageOptions, tmp_path: Path) -> None:
    placeholder = tmp_path / "mystery.png"
    shutil.copyfile(image_path(run_dir, 0), placeholder)
    hidden_options = options.model_copy(update={"hidden_placeholder": placeholder})
    out = tmp_path / "out"
    report = package_run_sync(run_dir, out, hidden_options)
    assert report.hidden is not None
    placeholder_cid = cid_of_file(out / "hidden" / "placeholder.png")
    hidden_metadata_cid = cid_of_directory(out / "hidden" / "metadata")
    assert report.hidden.base_uri == f"ipfs://{hidden_metadata_cid}/"
    for token_id in range(6):
        hidden = json.loads((out / "hidden" / "metadata" / str(token_id)).read_text())
        assert hidden["image"] == f"ipfs://{placeholder_cid}"
        assert hidden["name"] == f"Fixture Friends #{token_id}"
        assert "properties" not in hidden and hidden.get("attributes", []) == []
    hidden_contract = json.loads((out / "hidden" / "collection.json").read_text())
    assert hidden_contract["image"] == f"ipfs://{placeholder_cid}"
    assert set(unpack(out / "hidden.car")) == {
        "placeholder.png", "collection.json", *(f"metadata/{i}" for i in range(6))
    }  # fmt: skip
    # The reveal part is the same as without --hidden.
    plain = package_run_sync(run_dir, tmp_path / "plain", options)
    assert plain.reveal == report.reveal and plain.provenance_hash == report.provenance_hash


def test_naming_options(run_dir: Path, tmp_path: Path) -> None:
    options = PackageOptions(
        info=CollectionInfo(name="X", token_name="X number {id}", background_color="112233"),
        metadata_extension=".json", first_token_id=1, cid_version=1, car=False,
    )  # fmt: skip
    report = package_run_sync(run_dir, tmp_path / "out", options)
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "metadata").iterdir()) == [
        f"{i}.json" for i in range(1, 7)
    ]
    first = json.loads((out / "metadata" / "1.json").read_text())
    assert first["name"] == "X number 1" and first["background_color"] == "112233"
    assert first["image"].endswith("/1.png") and first["image"].startswith("ipfs://bafy")
    assert report.reveal.car is None and not (out / "collection.car").exists()
    assert report.token_entries[0].generation == 0 and report.token_entries[0].token_id == 1


def test_variables_are_the_traits_without_renderer_picks(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", 4, renderer_traits=False)
    options = PackageOptions(info=CollectionInfo(name="V"), trait_variables=["background"])
    report = package_run_sync(run, tmp_path / "out", options)
    assert list(report.rarity) == ["background"]
    for entry in report.token_entries:
        assert [a.trait_type for a in entry.attributes] == ["background"]


def test_animation_url_from_a_video_step(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", 3, animation=True)
    out = tmp_path / "out"
    report = package_run_sync(run, out, PackageOptions(info=CollectionInfo(name="A")))
    animations_cid = cid_of_directory(out / "animations")
    assert {f.path for f in report.reveal.folders} == {"images", "animations", "metadata"}
    for entry in report.token_entries:
        metadata = json.loads((out / entry.metadata_file).read_text())
        assert metadata["animation_url"] == f"ipfs://{animations_cid}/{entry.token_id}.mp4"
        assert metadata["image"].endswith(f"/{entry.token_id}.png")
        assert entry.animation_file == f"animations/{entry.token_id}.mp4"
    assert "animations/0.mp4" in unpack(out / "collection.car")
    # Choosing the steps by alias: the image must be an image.
    with pytest.raises(MetadataInvalid) as error:
        package_run_sync(run, tmp_path / "o2",
                         PackageOptions(info=CollectionInfo(name="A"), image_step="loop"))  # fmt: skip
    assert "image" in {p.field for p in error.value.problems}
    assert "step 'loop' has no image output" in error.value.message


def _problems(error: pytest.ExceptionInfo[MetadataInvalid]) -> set[tuple[int | None, str]]:
    return {(p.token, p.field) for p in error.value.problems}


def test_missing_and_corrupt_images_are_named_and_nothing_is_replaced(
    run_dir: Path, options: PackageOptions, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = package_run_sync(run_dir, out, options)
    image_path(run_dir, 2).unlink()
    data = image_path(run_dir, 4).read_bytes()
    image_path(run_dir, 4).write_bytes(data[: len(data) // 2])
    image_path(run_dir, 5).write_bytes(b"")
    with pytest.raises(MetadataInvalid) as error:
        package_run_sync(run_dir, out, options)
    assert _problems(error) == {(2, "image"), (4, "image"), (5, "image")}
    message = error.value.message
    assert "token 2: image: file missing: looked for" in message
    assert "token 4: image:" in message and "corrupt" in message
    assert "token 5: image:" in message and "is empty" in message
    assert read_package_report(out) == before  # the previous package is untouched
    assert not (out / ".staging").exists()


def test_bad_collection_facts_are_named(run_dir: Path, tmp_path: Path) -> None:
    info = CollectionInfo(name="N" * 126, symbol="WAYTOOLONGSYMBOL", royalty_bps=20_000,
                          token_name="{name} #{id}")  # fmt: skip
    with pytest.raises(MetadataInvalid) as error:
        package_run_sync(run_dir, tmp_path / "out", PackageOptions(info=info))
    found = _problems(error)
    assert {(None, "name"), (None, "symbol"), (None, "seller_fee_basis_points"),
            (None, "fee_recipient")} <= found  # fmt: skip
    assert (0, "name") in found  # "NNN… #0" is longer than a token name may be
    assert not (tmp_path / "out" / "report.json").exists()


def test_failed_token_and_bad_traits(
    run_dir: Path, options: PackageOptions, tmp_path: Path
) -> None:
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    manifest["tokens"][1]["status"] = "failed"
    manifest["tokens"][1]["error"] = "worker vanished"
    manifest["tokens"][3]["steps"]["101"]["output"]["attributes"] = [{"value": "no type"}]
    manifest["tokens"][4]["steps"]["101"]["output"]["mimeType"] = "application/zip"
    (run_dir / "manifest.json").write_bytes(orjson.dumps(manifest))
    with pytest.raises(MetadataInvalid) as error:
        package_run_sync(run_dir, tmp_path / "out", options)
    assert _problems(error) == {(1, "status"), (3, "steps.101.output.attributes[0]"), (4, "image")}
    assert "worker vanished" in error.value.message
    assert "emprops collection run` again" in error.value.message


def test_run_folder_problems(tmp_path: Path, options: PackageOptions) -> None:
    with pytest.raises(PackageError, match=r"manifest\.json does not exist"):
        package_run_sync(tmp_path, tmp_path / "out", options)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(PackageError, match="not JSON"):
        package_run_sync(tmp_path, tmp_path / "out", options)
    (tmp_path / "manifest.json").write_text('{"run_id": "r", "tokens": []}')
    with pytest.raises(PackageError, match="generation_input"):
        package_run_sync(tmp_path, tmp_path / "out", options)
    with pytest.raises(PackageError, match="is the run folder"):
        package_run_sync(tmp_path, tmp_path, options)


def test_placeholder_must_be_an_image(
    run_dir: Path, options: PackageOptions, tmp_path: Path
) -> None:
    bad = tmp_path / "placeholder.png"
    bad.write_bytes(b"nope")
    with pytest.raises(MetadataInvalid) as error:
        package_run_sync(run_dir, tmp_path / "out",
                         options.model_copy(update={"hidden_placeholder": bad}))  # fmt: skip
    assert _problems(error) == {(None, "hidden_placeholder")}


def test_report_round_trip(run_dir: Path, options: PackageOptions, tmp_path: Path) -> None:
    report = package_run_sync(run_dir, tmp_path / "out", options)
    assert PackageReport.model_validate_json(report.to_json()) == report
    assert io.BytesIO(report.to_json()).read().endswith(b"\n")
