"""Decoded trait images kept between tokens of one worker process, cropped to their visible pixels.

Decoding is a third of a token's work when done each time; cropping to the visible box keeps the
cache small (most traits cover a small part of the canvas) and makes compositing touch only the
pixels that change. The cache is bounded in bytes, so memory stays flat over a long run.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from emprops.art.errors import ArtInputError
from emprops.art.layers.trait_catalog import Trait

DEFAULT_CACHE_BYTES = 384 * 1024 * 1024


@dataclass(frozen=True)
class Piece:
    """The visible part of one frame of a trait: an RGBA image and where it goes on the canvas."""

    image: Image.Image
    left: int
    top: int
    opaque: bool = False  # every pixel has alpha 255: drawing it is a plain copy

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.left + self.image.width, self.top + self.image.height)

    @property
    def nbytes(self) -> int:
        return self.image.width * self.image.height * 4


def trait_frame_count(trait: Trait, sprite_frames: int) -> int:
    return len(trait.frames) if len(trait.frames) > 1 else sprite_frames


def _decode(path: Path, size: tuple[int, int], sprite_frames: int, frame: int) -> Image.Image:
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ArtInputError(f"{path} is not a readable image ({exc})") from None
    width, height = size
    expected = (width * sprite_frames, height)
    if image.size != expected:
        raise ArtInputError(
            f"{path} is {image.width}×{image.height}, but its layer needs "
            f"{expected[0]}×{expected[1]}",
            details={"file": str(path)},
        )
    if sprite_frames > 1:
        image = image.crop((frame * width, 0, (frame + 1) * width, height))
    return image


def _with_opacity(image: Image.Image, opacity: float) -> Image.Image:
    pixels = np.array(image)
    alpha = pixels[:, :, 3].astype(np.float32) * np.float32(opacity)
    pixels[:, :, 3] = np.floor(alpha + 0.5).astype(np.uint8)
    return Image.fromarray(pixels, "RGBA")


class PieceCache:
    """LRU of decoded pieces keyed by file, frame and the opacity baked into the alpha."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._pieces: OrderedDict[tuple[str, int, float], Piece | None] = OrderedDict()

    def piece(
        self,
        trait: Trait,
        frame: int,
        *,
        size: tuple[int, int],
        sprite_frames: int,
        opacity: float = 1.0,
    ) -> Piece | None:
        """Frame `frame` (wrapping) of a trait; None when it has no visible pixel."""
        count = trait_frame_count(trait, sprite_frames)
        frame %= count
        path = trait.frames[frame] if len(trait.frames) > 1 else trait.frames[0]
        sprite_frame = frame if len(trait.frames) == 1 else 0
        key = (str(path), sprite_frame, opacity)
        if key in self._pieces:
            self._pieces.move_to_end(key)
            return self._pieces[key]
        image = _decode(path, size, sprite_frames if len(trait.frames) == 1 else 1, sprite_frame)
        if opacity < 1.0:
            image = _with_opacity(image, opacity)
        box = image.getbbox(alpha_only=True)
        piece = None
        if box is not None:
            crop = image.crop(box)
            opaque = crop.getchannel("A").getextrema() == (255, 255)
            piece = Piece(crop, box[0], box[1], opaque=opaque)
        self._pieces[key] = piece
        self.bytes += piece.nbytes if piece else 0
        while self.bytes > self.max_bytes and len(self._pieces) > 1:
            _, dropped = self._pieces.popitem(last=False)
            self.bytes -= dropped.nbytes if dropped else 0
        return piece
