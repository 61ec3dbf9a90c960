"""Animated GIF with one palette shared by every frame: a global colour table and no local ones,
so colours do not shift between frames and the file carries one palette, not one per frame."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image

_PALETTE_SAMPLE_PIXELS = 1 << 20  # enough to see every colour region, small enough to be quick


def shared_palette(frames: Sequence[NDArray[np.uint8]], colors: int = 256) -> Image.Image:
    """A "P" image whose palette (median cut) covers the colours of all frames together."""
    height, width = frames[0].shape[:2]
    total = height * width * len(frames)
    step = max(1, int((total / _PALETTE_SAMPLE_PIXELS) ** 0.5))
    sample = np.concatenate([frame[::step, ::step, :3] for frame in frames], axis=1)
    return Image.fromarray(np.ascontiguousarray(sample), "RGB").quantize(
        colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )


def encode_gif(
    frames: Sequence[NDArray[np.uint8]],
    durations_ms: int | Sequence[int],
    *,
    loop: int = 0,
    dither: bool = False,
) -> bytes:
    """GIF bytes for H×W×3 (or ×4, alpha ignored) uint8 frames. `loop` 0 loops forever. Dithering
    is off by default: error diffusion differs frame to frame and makes still areas shimmer."""
    if not frames:
        raise ValueError("encode_gif needs at least one frame")
    palette = shared_palette(frames)
    mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    images = [
        Image.fromarray(np.ascontiguousarray(frame[:, :, :3]), "RGB").quantize(
            palette=palette, dither=mode
        )
        for frame in frames
    ]
    durations = [durations_ms] * len(images) if isinstance(durations_ms, int) else durations_ms
    if len(durations) != len(images):
        raise ValueError(f"{len(durations)} durations for {len(images)} frames")
    colours = palette.getpalette()
    assert colours is not None
    out = io.BytesIO()
    # Passing the palette is what makes Pillow write it once, globally, with no local tables.
    images[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=list(durations),
        loop=loop,
        optimize=False,
        disposal=1,
        palette=bytes(colours),
    )
    return out.getvalue()
