"""Where a job's output files go in the blob store, and the step-output shape that points at them.

The job's `ctx` says where: `prefix` (or `output_prefix`) is the folder, e.g.
`generations/{user}/{run}/{generation}/{step}`, and `filename` (or `output_name`) the base name,
e.g. the workflow name (the original clients send `prefix` and `filename`). Without a ctx the
files go under `jobs/{job id}/`. The n-th extra file of one job gets `_{n}` before its extension.
A retried job writes the same paths again, so a retry never leaves orphans behind.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from pydantic import BaseModel

from emprops.core.errors import InvalidInputError, NotFoundError
from emprops.queue.models import Job
from emprops.storage import BlobStore, validate_blob_path
from emprops.worker.connector import JobFailure, PermanentJobError, RetryableJobError

EXTENSIONS: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/svg+xml": "svg",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/flac": "flac",
    "text/plain": "txt",
    "application/json": "json",
    "model/gltf-binary": "glb",
}
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def mime_for_filename(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def sniff_mime(data: bytes) -> str | None:
    """The type of common image and video bytes from their signature."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def extension_for(mime: str, filename: str | None = None) -> str:
    base = mime.split(";", 1)[0].strip().lower()
    if base in EXTENSIONS:
        return EXTENSIONS[base]
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        if re.fullmatch(r"[a-z0-9]{1,8}", ext):
            return ext
    guessed = mimetypes.guess_extension(base)
    return guessed.lstrip(".") if guessed else "bin"


class OutputTarget(BaseModel):
    """The folder and base name of one job's outputs."""

    prefix: str
    name: str

    @classmethod
    def for_job(cls, job: Job, default_name: str) -> OutputTarget:
        ctx = job.ctx or {}
        storage = ctx.get("storage")
        nested = storage.get("prefix") if isinstance(storage, dict) else None
        prefix = ctx.get("output_prefix") or ctx.get("prefix") or nested
        if prefix is None:
            prefix = f"jobs/{_NAME_UNSAFE.sub('_', job.id)}"
        try:
            if not isinstance(prefix, str):
                raise InvalidInputError(
                    f"blob prefix must be a string, not {type(prefix).__name__}"
                )
            prefix = validate_blob_path(prefix.rstrip("/"))
        except InvalidInputError as exc:
            raise PermanentJobError(
                f"job {job.id}: ctx prefix {prefix!r} is not a usable blob path: {exc.message}",
                details={"field": "ctx.prefix"},
            ) from None
        raw_name = ctx.get("output_name") or ctx.get("filename") or default_name
        if not isinstance(raw_name, str):
            raise PermanentJobError(
                f"job {job.id}: ctx filename must be a string", details={"field": "ctx.filename"}
            )
        stem = raw_name.rsplit("/", 1)[-1]
        if "." in stem:
            stem = stem.rsplit(".", 1)[0]  # the extension follows the real content type
        stem = _NAME_UNSAFE.sub("_", stem).strip("._-") or default_name
        return cls(prefix=prefix, name=stem[:120])

    def path(self, index: int, extension: str) -> str:
        suffix = "" if index == 0 else f"_{index}"
        return f"{self.prefix}/{self.name}{suffix}.{extension}"


def failure_from_store(exc: Exception, action: str) -> JobFailure:
    """A blob store error as a job failure: a bad or missing path is permanent, the rest (disk,
    network, credentials being rotated) is worth another try."""
    if isinstance(exc, JobFailure):
        return exc
    if isinstance(exc, InvalidInputError | NotFoundError):
        message = exc.message
        return PermanentJobError(f"could not {action}: {message}", details={"reason": "store"})
    return RetryableJobError(f"could not {action}: {exc}", details={"reason": "store"})


def require_store(store: BlobStore | None, service: str) -> BlobStore:
    if store is None:
        # A worker set up without storage: another worker may have one.
        raise RetryableJobError(
            f"{service}: this worker has no blob store to put outputs in",
            details={"service": service, "reason": "no_store"},
        )
    return store


async def store_output(
    store: BlobStore,
    target: OutputTarget,
    index: int,
    data: bytes,
    mime: str,
    *,
    source_name: str | None = None,
) -> dict[str, Any]:
    """Put one output file and return its step-output entry (`src`, `mimeType`, path, size)."""
    path = target.path(index, extension_for(mime, source_name))
    try:
        blob = await store.put(path, data, content_type=mime)
    except Exception as exc:
        raise failure_from_store(exc, f"store output {path}") from exc
    entry: dict[str, Any] = {
        "src": blob.url,
        "mimeType": mime,
        "path": blob.path,
        "size": blob.size,
    }
    if source_name:
        entry["filename"] = source_name
    return entry
