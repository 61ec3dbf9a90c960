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
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels[:, :, :3]), "rgb24")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
