"""Upload a package (made by `package_run`) to a pinning service: each part's folders and files,
or its CAR. A hidden (delayed-reveal) package uploads only its hidden part unless the reveal is
asked for by name: publishing the images early would give the reveal away."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from emprops.ipfs import CID, ImportOptions
from emprops.packaging.errors import PackageError
from emprops.packaging.package_report import PackagePart, PackageReport, read_package_report
from emprops.pinning import Uploader
from emprops.pinning.uploader import first_error

UploadPart = Literal["reveal", "hidden", "all"]


class UploadedItem(BaseModel):
    part: str
    name: str
    cid: str


class UploadSummary(BaseModel):
    service: str
    parts: list[str]
    items: list[UploadedItem]
    base_uri: str
    contract_uri: str


def package_import_options(report: PackageReport) -> ImportOptions:
    """The importer settings the package's CIDs were computed with."""
    return ImportOptions(cid_version=1 if report.cid_version else 0, hamt_rule=report.hamt_rule)


def parts_to_upload(
    report: PackageReport, part: UploadPart | None
) -> list[tuple[str, PackagePart]]:
    if part is None:
        part = "hidden" if report.hidden is not None else "reveal"
    if part in ("hidden", "all") and report.hidden is None:
        if part == "hidden":
            raise PackageError("the package has no hidden part (package it with --hidden)")
        part = "reveal"
    chosen: list[tuple[str, PackagePart]] = []
    if part in ("hidden", "all") and report.hidden is not None:
        chosen.append(("hidden", report.hidden))
    if part in ("reveal", "all"):
        chosen.append(("reveal", report.reveal))
    return chosen


async def upload_package(
    package_dir: Path,
    uploader: Uploader,
    *,
    part: UploadPart | None = None,
    use_car: bool = False,
    report: PackageReport | None = None,
) -> UploadSummary:
    report = report or read_package_report(package_dir)
    wanted = package_import_options(report)
    if uploader.options != wanted:
        raise PackageError(
            f"the uploader hashes with {uploader.options!r}, the package was made with {wanted!r}"
        )
    items: list[UploadedItem] = []
    chosen = parts_to_upload(report, part)
    for name, section in chosen:
        if use_car:
            if section.car is None:
                raise PackageError(
                    f"the {name} part has no CAR (packaged without one): upload without --car"
                )
            cid = await uploader.car(
                package_dir / section.car.path, section.car.path, CID.parse(section.car.cid)
            )
            items.append(UploadedItem(part=name, name=section.car.path, cid=str(cid)))
            continue
        tasks: list[asyncio.Task[CID]] = []
        labels: list[str] = []
        try:
            async with asyncio.TaskGroup() as group:
                for folder in section.folders:
                    labels.append(folder.path)
                    tasks.append(group.create_task(uploader.folder(
                        package_dir / folder.path, folder.path, CID.parse(folder.cid)
                    )))  # fmt: skip
                for file in section.files:
                    labels.append(file.path)
                    tasks.append(group.create_task(
                        uploader.file(package_dir / file.path, file.path, CID.parse(file.cid))
                    ))  # fmt: skip
        except BaseExceptionGroup as failure:
            raise first_error(failure) from None
        items.extend(
            UploadedItem(part=name, name=label, cid=str(task.result()))
            for label, task in zip(labels, tasks, strict=True)
        )
    last = chosen[-1][1]
    return UploadSummary(
        service=uploader.service.identity,
        parts=[name for name, _ in chosen],
        items=items,
        base_uri=last.base_uri,
        contract_uri=last.contract_uri,
    )
