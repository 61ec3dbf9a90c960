"""A lossless PNG writer tuned for composited art: the PNG encoder, not compositing, is what
decides how many images a core renders per second.

Pillow's writer spends most of its time on trying five row filters and on zlib level 6. Measured on
these 1000×1000 layers, the "Up" filter (vectorized in numpy) with zlib-ng level 6 writes files as
small as Pillow's in under half the time, and an opaque image is written as RGB (a quarter less
data, same pixels). The output is a plain PNG every decoder reads.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from zlib_ng import zlib_ng

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_FILTER_UP = 2
DEFAULT_LEVEL = 6


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(tag)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def _up_filtered_rows(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Each row minus the row above (mod 256), prefixed by the filter type byte. (A contiguous
    copy first: numpy's strided loops over an RGBA image's RGB view are several times slower.)"""
    height = pixels.shape[0]
    flat = np.ascontiguousarray(pixels).reshape(height, -1)
    out = np.empty((height, flat.shape[1] + 1), np.uint8)
    out[:, 0] = _FILTER_UP
    out[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=out[1:, 1:])
    return out


def encode_png(
    pixels: NDArray[np.uint8], *, level: int = DEFAULT_LEVEL, keep_alpha: bool = False
) -> bytes:
    """PNG bytes for an H×W×C uint8 array (C = 1 to 4). An RGBA image whose alpha is 255 everywhere
    is written as RGB unless `keep_alpha`; the decoded pixels are the same either way."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(
            f"encode_png wants an H×W×C uint8 array, got {pixels.dtype} {pixels.shape}"
        )
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    channels = pixels.shape[2]
    if channels not in _COLOR_TYPE:
        raise ValueError(f"encode_png wants 1 to 4 channels, got {channels}")
    if channels == 4 and not keep_alpha and bool((pixels[:, :, 3] == 255).all()):
        pixels = pixels[:, :, :3]
        channels = 3
    height, width = pixels.shape[:2]
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    data = zlib_ng.compress(_up_filtered_rows(pixels).data, level)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def encode_image_png(image: Image.Image, *, level: int = DEFAULT_LEVEL) -> bytes:
    """PNG bytes for a Pillow image; an opaque RGBA image is written as RGB. Pillow drops the
    alpha channel more than twice as fast as a numpy copy of the RGB view."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    elif image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA")
    return encode_png(np.asarray(image), level=level, keep_alpha=True)
