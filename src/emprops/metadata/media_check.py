"""Is a token's media file really there and really what it claims to be? Run before anything is
hashed or published: a truncated PNG pinned forever is a broken token forever."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

# Media type -> (extension, Pillow format or None for the non-raster kinds checked by signature).
MEDIA_TYPES: dict[str, tuple[str, str | None]] = {
    "image/png": ("png", "PNG"),
    "image/jpeg": ("jpg", "JPEG"),
    "image/gif": ("gif", "GIF"),
    "image/webp": ("webp", "WEBP"),
    "image/svg+xml": ("svg", None),
    "video/mp4": ("mp4", None),
    "video/quicktime": ("mov", None),
    "video/webm": ("webm", None),
    "audio/mpeg": ("mp3", None),
    "audio/wav": ("wav", None),
    "model/gltf-binary": ("glb", None),
    "text/html": ("html", None),
}
_BY_EXTENSION = {ext: mime for mime, (ext, _) in MEDIA_TYPES.items()} | {"jpeg": "image/jpeg"}
_SNIFF = 4096


def media_type_for(extension: str) -> str | None:
    return _BY_EXTENSION.get(extension.lower().lstrip("."))


def extension_for(media_type: str) -> str | None:
    entry = MEDIA_TYPES.get(media_type.split(";")[0].strip().lower())
    return entry[0] if entry else None


def media_problem(path: Path, media_type: str) -> str | None:
    """Why the file at `path` is not a usable `media_type` file, or None. Raster images are fully
    decoded (a truncated file fails here, not in a marketplace)."""
    kind = media_type.split(";")[0].strip().lower()
    if kind not in MEDIA_TYPES:
        return f"media type {media_type!r} is not one we publish ({', '.join(MEDIA_TYPES)})"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"file {path} does not exist"
    except OSError as exc:
        return f"file {path} cannot be read: {exc}"
    if size == 0:
        return f"file {path} is empty"
    pillow_format = MEDIA_TYPES[kind][1]
    if pillow_format is not None:
        return _raster_problem(path, kind, pillow_format)
    with open(path, "rb") as stream:
        head = stream.read(_SNIFF)
    return _signature_problem(path, kind, head)


def _raster_problem(path: Path, kind: str, pillow_format: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                found = image.format
                image.verify()
            if found != pillow_format:
                return f"file {path} is {found or 'unknown'} data, not {kind}"
            with Image.open(path) as image:
                image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        return f"file {path} is not a decodable {kind}: {exc}"
    except Image.DecompressionBombWarning as exc:
        return f"file {path} is too large to decode safely: {exc}"
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return f"file {path} is a corrupt {kind}: {exc}"
    return None


def _signature_problem(path: Path, kind: str, head: bytes) -> str | None:
    ok: bool
    if kind in ("video/mp4", "video/quicktime"):
        ok = head[4:8] == b"ftyp"
    elif kind == "video/webm":
        ok = head.startswith(b"\x1a\x45\xdf\xa3")
    elif kind == "audio/mpeg":
        ok = head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
    elif kind == "audio/wav":
        ok = head.startswith(b"RIFF") and head[8:12] == b"WAVE"
    elif kind == "model/gltf-binary":
        ok = head.startswith(b"glTF")
    else:  # svg, html: text
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the sniff boundary is fine; anything else is not.
            if exc.start < len(head) - 4:
                return f"file {path} is not UTF-8 text, so not {kind}"
            text = head[: exc.start].decode("utf-8")
        ok = "<svg" in text if kind == "image/svg+xml" else bool(text.strip())
    return None if ok else f"file {path} does not look like {kind} (wrong file signature)"
