"""Content types from file extensions, from a fixed table so every machine infers the same type
(the `mimetypes` module also reads the host's /etc/mime.types)."""

from __future__ import annotations

import mimetypes
from functools import lru_cache

DEFAULT_CONTENT_TYPE = "application/octet-stream"

# What our renderers, connectors and packaging write, plus what Python's table lacks or gets wrong.
_OURS = {
    ".avif": "image/avif",
    ".car": "application/vnd.ipld.car",
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".json": "application/json",
    ".md": "text/markdown",
    ".mov": "video/quicktime",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".wav": "audio/wav",
    ".webm": "video/webm",
    ".webp": "image/webp",
}


@lru_cache(maxsize=1)
def _table() -> mimetypes.MimeTypes:
    # A fresh MimeTypes holds only Python's built-in defaults, not the host's files.
    return mimetypes.MimeTypes()


def guess_content_type(path: str) -> str:
    """The content type a blob at `path` gets when its writer names none."""
    name = path.rsplit("/", 1)[-1].lower()
    if "." not in name:
        return DEFAULT_CONTENT_TYPE
    extension = "." + name.rsplit(".", 1)[-1]
    if extension in _OURS:
        return _OURS[extension]
    content_type, _ = _table().guess_type("x" + extension, strict=True)
    return content_type or DEFAULT_CONTENT_TYPE
