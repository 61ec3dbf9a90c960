"""Packaging a collection run for publication: images and metadata folders with Kubo-identical
CIDs, contract metadata, CARs, a report; and uploading a package to a pinning service."""

from emprops.packaging.errors import PackageError
from emprops.packaging.options import PackageOptions
from emprops.packaging.package_report import (
    REPORT_NAME,
    PackagedFile,
    PackagedFolder,
    PackagePart,
    PackageReport,
    TokenEntry,
    read_package_report,
)
from emprops.packaging.package_run import PackageProgress, package_run, package_run_sync
from emprops.packaging.run_manifest import (
    ManifestToken,
    RunManifest,
    StepRecord,
    read_run_manifest,
)
from emprops.packaging.upload import (
    UploadedItem,
    UploadPart,
    UploadSummary,
    package_import_options,
    parts_to_upload,
    upload_package,
)

__all__ = [
    "REPORT_NAME",
    "ManifestToken",
    "PackageError",
    "PackageOptions",
    "PackagePart",
    "PackageProgress",
    "PackageReport",
    "PackagedFile",
    "PackagedFolder",
    "RunManifest",
    "StepRecord",
    "TokenEntry",
    "UploadPart",
    "UploadSummary",
    "UploadedItem",
    "package_import_options",
    "package_run",
    "package_run_sync",
    "parts_to_upload",
    "read_package_report",
    "read_run_manifest",
    "upload_package",
]
