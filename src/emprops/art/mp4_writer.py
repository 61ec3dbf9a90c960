"""H.264 MP4 through PyAV with reproducible bytes: one encoder thread (x264's output depends on
its thread count) and FFmpeg's bit-exact flags (no version strings or times in the file)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.codec.context import Flags
from numpy.typing import NDArray

from emprops.art.errors import ArtInputError


def encode_mp4(
    frames: Sequence[NDArray[np.uint8]], fps: int, *, crf: int = 18, preset: str = "medium"
) -> bytes:
    """MP4 (H.264, yuv420p, moov first) bytes for H×W×3 uint8 frames of even width and height."""
    if not frames:
        raise ValueError("encode_mp4 needs at least one frame")
    height, width = frames[0].shape[:2]
    if width % 2 or height % 2:
        raise ArtInputError(f"an MP4 needs an even width and height, got {width}×{height}")
    fd, name = tempfile.mkstemp(suffix=".mp4", prefix="emprops-")
    os.close(fd)
    path = Path(name)
    try:
        with av.open(
            str(path),
            mode="w",
            format="mp4",
            options={"movflags": "+faststart", "fflags": "+bitexact"},
        ) as container:
            stream = container.add_stream(
                "libx264",
                rate=Fraction(fps, 1),
                options={"crf": str(crf), "preset": preset, "threads": "1"},
            )
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.thread_count = 1
            stream.codec_context.flags |= Flags.bitexact
            for index, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(pixels), "yuv420p")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def rgb_to_yuv420p(pixels: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 in integer arithmetic, as one (h·3/2, w) array. Done here,
    not by libswscale, whose conversion was seen to vary between runs of the same frames (about
    one encode in forty on a loaded machine), breaking the same-bytes promise."""
    rgb = pixels[:, :, :3].astype(np.int32)
    r, g, b = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
    # chroma from each 2×2 block's mean colour
    h, w = r.shape
    block = rgb.reshape(h // 2, 2, w // 2, 2, 3).sum(axis=(1, 3))
    rb, gb, bb = block[:, :, 0], block[:, :, 1], block[:, :, 2]  # 4× the mean
    u = ((-38 * rb - 74 * gb + 112 * bb + 512) >> 10) + 128
    v = ((112 * rb - 94 * gb - 18 * bb + 512) >> 10) + 128
    planes = [np.clip(p, 0, 255).astype(np.uint8).ravel() for p in (y, u, v)]
    return np.concatenate(planes).reshape(h * 3 // 2, w)
