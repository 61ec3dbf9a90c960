"""What a renderer returns: the bytes and how to store them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedArt:
    data: bytes
    mime_type: str
    extension: str  # without the dot: "png", "gif", "mp4"
    frames: int = 1
