"""`package_run`: a finished collection run becomes a publishable package.

    out/images/<id>.<ext>       every token's image, bytes as the run made them
    out/animations/<id>.<ext>   (when tokens have one) their animation_url files
    out/metadata/<id>           ERC-721 JSON pointing at ipfs://<images CID>/<id>.<ext>
    out/collection.json         contract metadata (contractURI)
    out/collection.car          CARv1, root = the folder holding the four entries above
    out/hidden/...              (delayed reveal) placeholder, its metadata and collection.json
    out/hidden.car              CARv1 of out/hidden
    out/report.json             CIDs, sizes, provenance hash, rarity

One CAR per published part, not two per folder: the images and metadata folders are subtrees of
the CAR root, so pinning the root pins both, while their own CIDs stay what metadata and baseURI
name. The hidden part gets its own CAR so it can go out before the reveal without the images.

Everything is built in `out/.staging` and moved into place at the end (the old report first
removed, the new one written last): a failed or interrupted packaging leaves the previous package
or no report at all, never a mix. Same run and options, same bytes and CIDs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from emprops.ipfs import (
    CID,
    ImportOptions,
    cid_of_bytes,
    cid_of_directory,
    cid_of_file,
    write_car,
)
from emprops.metadata import (
    Attribute,
    ContractMetadata,
    MetadataInvalid,
    MetadataProblem,
    TokenMetadata,
    TokenProvenance,
    attributes_from_output,
    attributes_from_variables,
    build_contract_metadata,
    build_token_metadata,
    collection_problems,
    contract_problems,
    extension_for,
    ipfs_uri,
    media_problem,
    media_type_for,
    merge_attributes,
    placeholder_token_metadata,
    provenance_hash,
    token_problems,
    trait_rarity,
    workflow_digest,
)
from emprops.packaging.errors import PackageError
from emprops.packaging.options import PackageOptions
from emprops.packaging.package_report import (
    REPORT_NAME,
    PackagedFile,
    PackagedFolder,
    PackagePart,
    PackageReport,
    TokenEntry,
)
from emprops.packaging.run_manifest import ManifestToken, RunManifest, read_run_manifest
from emprops.packaging.token_media import TokenMedia, select_media, steps_in_order
from emprops.workflows import GenerationInput

PackageProgress = Callable[[str, int, int], None]
"""Called as (stage, done, total): stages `check`, `hash`, `metadata`, `car`."""

IMAGES = "images"
ANIMATIONS = "animations"
METADATA = "metadata"
COLLECTION_JSON = "collection.json"
HIDDEN = "hidden"
REVEAL_CAR = "collection.car"
HIDDEN_CAR = "hidden.car"
STAGING = ".staging"
PACKAGE_ENTRIES = (IMAGES, ANIMATIONS, METADATA, COLLECTION_JSON, REVEAL_CAR, HIDDEN, HIDDEN_CAR)
_COPY_CHUNK = 1024 * 1024
_DRAFT_IMAGE = ipfs_uri(cid_of_bytes(b""))


@dataclass
class _Token:
    token_id: int
    source: ManifestToken
    image: TokenMedia
    animation: TokenMedia | None
    attributes: list[Attribute]
    image_sha256: str = ""
    image_bytes: int = 0


async def package_run(
    run_dir: Path,
    out_dir: Path,
    options: PackageOptions,
    progress: PackageProgress | None = None,
) -> PackageReport:
    """Package a run; hashing and copying run in worker threads, off the event loop."""
    return await asyncio.to_thread(package_run_sync, run_dir, out_dir, options, progress)


def package_run_sync(
    run_dir: Path,
    out_dir: Path,
    options: PackageOptions,
    progress: PackageProgress | None = None,
) -> PackageReport:
    run_dir, out_dir = run_dir.resolve(), out_dir.resolve()
    if out_dir == run_dir:
        raise PackageError(f"--out {out_dir} is the run folder: give the package its own folder")
    report_progress = progress or (lambda stage, done, total: None)
    manifest = read_run_manifest(run_dir)
    tokens, problems = _plan_tokens(run_dir, manifest, options)
    problems.extend(contract_problems(build_contract_metadata(options.info, None)))
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    try:
        # Media are checked (decoded) even when other problems are known: one report, all of them.
        problems.extend(_copy_media(staging / "reveal", tokens, report_progress))
        if problems:
            raise MetadataInvalid(sorted(problems, key=_problem_order))
        report = _build(staging, manifest, tokens, options, report_progress)
        _move_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _problem_order(problem: MetadataProblem) -> int:
    """Collection problems first, then by token (stable: fields keep their order)."""
    return -1 if problem.token is None else problem.token


def _plan_tokens(
    run_dir: Path, manifest: RunManifest, options: PackageOptions
) -> tuple[list[_Token], list[MetadataProblem]]:
    """Every token's media and traits, and every problem found on the way."""
    try:
        generation_input = GenerationInput.model_validate(manifest.generation_input)
    except ValidationError as exc:
        raise PackageError(
            f"the manifest's generation_input is not a valid v2 GenerationInput: "
            f"{exc.errors()[0]['msg']}"
        ) from None
    problems: list[MetadataProblem] = []
    steps = steps_in_order(manifest.generation_input)
    planned: list[_Token] = []
    sources = sorted(manifest.tokens, key=lambda t: t.index)
    for position, source in enumerate(sources):
        token_id = options.first_token_id + source.index
        if source.index != position:
            problems.append(MetadataProblem(
                token=token_id, field="index",
                message=f"the manifest's generations are not contiguous: expected generation "
                f"{position}, found {source.index}",
            ))  # fmt: skip
            continue
        if source.status != "complete":
            problems.append(MetadataProblem(
                token=token_id, field="status",
                message=f"generation {source.index} failed in the run ({source.error}); run "
                "`emprops collection run` again with the same --out to finish it",
            ))  # fmt: skip
            continue
        image, animation, found = select_media(
            run_dir, source, token_id, steps,
            image_step=options.image_step, animation_step=options.animation_step,
        )  # fmt: skip
        problems.extend(found)
        picked: list[Attribute] = []
        for step in steps:
            record = source.steps.get(step.id)
            if record is not None and record.output:
                more, bad = attributes_from_output(
                    record.output, token_id, f"steps.{step.id}.output"
                )
                picked = merge_attributes(picked, more)
                problems.extend(bad)
        variables = attributes_from_variables(
            source.variables, generation_input.variables, include=options.trait_variables
        )
        attributes = merge_attributes(picked, variables)
        # Names, texts and traits can be checked now; URIs only once the CIDs are known.
        draft = build_token_metadata(options.info, token_id, image=_DRAFT_IMAGE,
                                     animation_url=None, attributes=attributes, provenance=None)  # fmt: skip
        problems.extend(token_problems(token_id, draft))
        if image is not None:
            planned.append(_Token(token_id, source, image, animation, attributes))
    if not sources:
        problems.append(MetadataProblem(token=None, field="tokens", message="the run has none"))
    placeholder = options.hidden_placeholder
    if placeholder is not None:
        kind = media_type_for(placeholder.suffix) or ""
        problem = media_problem(placeholder, kind) if kind.startswith("image/") else (
            f"{placeholder} is not a png, jpg, gif, webp or svg image"
        )  # fmt: skip
        if problem is not None:
            problems.append(
                MetadataProblem(token=None, field="hidden_placeholder", message=problem)
            )
    return planned, problems


def _copy_checked(source: Path, target: Path, media_type: str) -> tuple[str | None, str, int]:
    """Check the file decodes as its media type, then copy it while hashing it."""
    problem = media_problem(source, media_type)
    if problem is not None:
        return problem, "", 0
    hasher = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(_COPY_CHUNK):
            hasher.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    if size == 0:
        return f"file {source} is empty", "", 0
    return None, hasher.hexdigest(), size


def _copy_media(
    reveal: Path, tokens: list[_Token], progress: PackageProgress
) -> list[MetadataProblem]:
    (reveal / IMAGES).mkdir(parents=True)
    if any(t.animation for t in tokens):
        (reveal / ANIMATIONS).mkdir()
    problems: list[MetadataProblem] = []
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="package") as pool:
        jobs = []
        for token in tokens:
            target = reveal / IMAGES / f"{token.token_id}.{token.image.extension}"
            jobs.append(
                (token, "image", pool.submit(_copy_checked, token.image.path, target,
                                             token.image.media_type))
            )  # fmt: skip
            if token.animation is not None:
                target = reveal / ANIMATIONS / f"{token.token_id}.{token.animation.extension}"
                jobs.append(
                    (token, "animation_url", pool.submit(_copy_checked, token.animation.path,
                                                         target, token.animation.media_type))
                )  # fmt: skip
        for done, (token, field, job) in enumerate(jobs, 1):
            problem, digest, size = job.result()
            if problem is not None:
                problems.append(MetadataProblem(token=token.token_id, field=field, message=problem))
            elif field == "image":
                token.image_sha256, token.image_bytes = digest, size
            progress("check", done, len(jobs))
    return problems


def _folder_cids(
    folder: Path, relative: str, options: ImportOptions
) -> tuple[CID, dict[str, CID], PackagedFolder]:
    cids: dict[str, CID] = {}
    root = cid_of_directory(
        folder, options, on_entry=lambda path, node: cids.__setitem__(path, node.cid)
    )
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    entry = PackagedFolder(path=relative, cid=str(root), files=len(cids), bytes=size)
    return root, cids, entry


def _packaged_file(path: Path, relative: str, options: ImportOptions) -> PackagedFile:
    return PackagedFile(
        path=relative, cid=str(cid_of_file(path, options)), bytes=path.stat().st_size
    )


def _contract_checked(contract: ContractMetadata, tokens: list[tuple[int, TokenMetadata]],
                      options: PackageOptions) -> None:  # fmt: skip
    problems = collection_problems(tokens, contract, options.first_token_id)
    if problems:
        raise MetadataInvalid(problems)


def _build(
    staging: Path,
    manifest: RunManifest,
    tokens: list[_Token],
    options: PackageOptions,
    progress: PackageProgress,
) -> PackageReport:
    reveal = staging / "reveal"
    import_options = options.import_options
    progress("hash", 0, 1)
    images_cid, image_cids, images_entry = _folder_cids(reveal / IMAGES, IMAGES, import_options)
    folders = [images_entry]
    animations_cid: CID | None = None
    animation_cids: dict[str, CID] = {}
    if (reveal / ANIMATIONS).is_dir():
        animations_cid, animation_cids, entry = _folder_cids(
            reveal / ANIMATIONS, ANIMATIONS, import_options
        )
        folders.append(entry)
    progress("hash", 1, 1)

    digest = workflow_digest(manifest.generation_input)
    info = options.info
    built: list[tuple[int, TokenMetadata]] = []
    for token in tokens:
        image_name = f"{token.token_id}.{token.image.extension}"
        animation_url = None
        if token.animation is not None and animations_cid is not None:
            animation_url = ipfs_uri(
                animations_cid, f"{token.token_id}.{token.animation.extension}"
            )
        pinned = sorted({s.component for s in token.source.steps.values() if s.component})
        provenance = TokenProvenance(
            generation_hash=token.source.hash, seed=token.source.seed, workflow_digest=digest,
            image_sha256=token.image_sha256, run_id=manifest.run_id, components=pinned or None,
        )  # fmt: skip
        metadata = build_token_metadata(
            info, token.token_id, image=ipfs_uri(images_cid, image_name),
            animation_url=animation_url, attributes=token.attributes, provenance=provenance,
        )  # fmt: skip
        built.append((token.token_id, metadata))
    first_image = built[0][1].image
    contract = build_contract_metadata(info, first_image)
    _contract_checked(contract, built, options)

    extension = options.metadata_extension
    metadata_dir = reveal / METADATA
    metadata_dir.mkdir()
    for done, (token_id, metadata) in enumerate(built, 1):
        (metadata_dir / f"{token_id}{extension}").write_bytes(metadata.to_json())
        progress("metadata", done, len(built))
    (reveal / COLLECTION_JSON).write_bytes(contract.to_json())
    metadata_cid, metadata_cids, metadata_entry = _folder_cids(
        metadata_dir, METADATA, import_options
    )
    folders.append(metadata_entry)
    collection_file = _packaged_file(reveal / COLLECTION_JSON, COLLECTION_JSON, import_options)

    progress("car", 0, 2 if options.hidden_placeholder else 1)
    reveal_part = _part(
        reveal, ".", staging / REVEAL_CAR, REVEAL_CAR, metadata_cid, collection_file,
        folders, [collection_file], options,
    )  # fmt: skip
    progress("car", 1, 2 if options.hidden_placeholder else 1)
    hidden_part = None
    if options.hidden_placeholder is not None:
        hidden_part = _hidden_part(staging, options, built)
        progress("car", 2, 2)

    entries = []
    for token, (token_id, metadata) in zip(tokens, built, strict=True):
        image_file = f"{IMAGES}/{token_id}.{token.image.extension}"
        animation_file = None
        if token.animation is not None:
            animation_file = f"{ANIMATIONS}/{token_id}.{token.animation.extension}"
        entries.append(TokenEntry(
            token_id=token_id, generation=token.source.index, image=metadata.image,
            image_file=image_file, image_cid=str(image_cids[image_file.split("/", 1)[1]]),
            image_sha256=token.image_sha256, image_bytes=token.image_bytes,
            animation_file=animation_file,
            animation_cid=str(animation_cids[animation_file.split("/", 1)[1]])
            if animation_file else None,
            metadata_file=f"{METADATA}/{token_id}{extension}",
            metadata_cid=str(metadata_cids[f"{token_id}{extension}"]),
            attributes=token.attributes,
        ))  # fmt: skip
    report = PackageReport(
        run_id=manifest.run_id,
        tokens=len(tokens),
        first_token_id=options.first_token_id,
        cid_version=options.cid_version,
        hamt_rule=options.hamt_rule,
        metadata_extension=extension,
        workflow_digest=digest,
        provenance_hash=provenance_hash([t.image_sha256 for t in tokens]),
        reveal=reveal_part,
        hidden=hidden_part,
        token_entries=entries,
        rarity=trait_rarity([t.attributes for t in tokens]),
    )
    (staging / REPORT_NAME).write_bytes(report.to_json())
    return report


def _part(
    folder: Path,
    relative: str,
    car_path: Path,
    car_name: str,
    metadata_cid: CID,
    collection_file: PackagedFile,
    folders: list[PackagedFolder],
    files: list[PackagedFile],
    options: PackageOptions,
) -> PackagePart:
    import_options = options.import_options
    car = None
    if options.car:
        root = write_car(folder, car_path, import_options)
        car = PackagedFile(path=car_name, cid=str(root), bytes=car_path.stat().st_size)
    else:
        root = cid_of_directory(folder, import_options)
    return PackagePart(
        root=relative,
        root_cid=str(root),
        base_uri=f"ipfs://{metadata_cid}/",
        contract_uri=ipfs_uri(collection_file.cid),
        folders=folders,
        files=files,
        car=car,
    )


def _hidden_part(
    staging: Path, options: PackageOptions, built: list[tuple[int, TokenMetadata]]
) -> PackagePart:
    assert options.hidden_placeholder is not None
    import_options = options.import_options
    hidden = staging / HIDDEN
    (hidden / METADATA).mkdir(parents=True)
    source = options.hidden_placeholder
    extension = extension_for(media_type_for(source.suffix) or "") or source.suffix.lstrip(".")
    placeholder = hidden / f"placeholder.{extension}"
    shutil.copyfile(source, placeholder)
    placeholder_file = _packaged_file(placeholder, f"{HIDDEN}/{placeholder.name}", import_options)
    image = ipfs_uri(placeholder_file.cid)
    info = options.info
    hidden_tokens = [
        (token_id, placeholder_token_metadata(info, token_id, image)) for token_id, _ in built
    ]
    contract = build_contract_metadata(info, image)
    _contract_checked(contract, hidden_tokens, options)
    for token_id, metadata in hidden_tokens:
        (hidden / METADATA / f"{token_id}{options.metadata_extension}").write_bytes(
            metadata.to_json()
        )
    (hidden / COLLECTION_JSON).write_bytes(contract.to_json())
    metadata_cid, _, metadata_entry = _folder_cids(
        hidden / METADATA, f"{HIDDEN}/{METADATA}", import_options
    )
    collection_file = _packaged_file(
        hidden / COLLECTION_JSON, f"{HIDDEN}/{COLLECTION_JSON}", import_options
    )
    return _part(
        hidden, HIDDEN, staging / HIDDEN_CAR, HIDDEN_CAR, metadata_cid, collection_file,
        [metadata_entry], [placeholder_file, collection_file], options,
    )  # fmt: skip


def _move_into_place(staging: Path, out_dir: Path) -> None:
    (out_dir / REPORT_NAME).unlink(missing_ok=True)
    for name in PACKAGE_ENTRIES:
        target = out_dir / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    reveal = staging / "reveal"
    for name in PACKAGE_ENTRIES:
        for source in (reveal / name, staging / name):
            if source.exists():
                os.replace(source, out_dir / name)
                break
    os.replace(staging / REPORT_NAME, out_dir / REPORT_NAME)
