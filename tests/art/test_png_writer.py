"""Our PNG writer must be read back, pixel for pixel, by an independent decoder (Pillow)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageDraw

from emprops.art.png_writer import encode_image_png, encode_png


def _decode(data: bytes) -> tuple[str, np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, np.asarray(image)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 2, 3, 4])),
    )
)
def test_round_trips_any_pixels(pixels: np.ndarray) -> None:
    mode, decoded = _decode(encode_png(pixels, keep_alpha=True))
    assert decoded.reshape(pixels.shape).tobytes() == pixels.tobytes()
    assert mode == {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]


def test_opaque_rgba_is_written_as_rgb_with_the_same_pixels() -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (30, 50, 4), dtype=np.uint8)
    pixels[:, :, 3] = 255
    mode, decoded = _decode(encode_png(pixels))
    assert mode == "RGB"
    assert np.array_equal(decoded, pixels[:, :, :3])


def test_translucent_rgba_keeps_its_alpha() -> None:
    pixels = np.full((3, 3, 4), 200, np.uint8)
    pixels[1, 1, 3] = 7
    mode, decoded = _decode(encode_png(pixels))
    assert mode == "RGBA" and np.array_equal(decoded, pixels)


def test_drawn_art_compresses_about_like_pillow() -> None:
    """The writer trades Pillow's per-row filter search for speed (bench/render), not size."""
    y, x = np.mgrid[0:256, 0:256].astype(np.float32)
    base = np.stack([120 + 60 * np.sin(x / 40), 80 + 50 * np.cos(y / 30), 160 + 0 * x], axis=2)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        draw.ellipse((10 + i * 17, 20 + i * 9, 60 + i * 17, 90 + i * 9), fill=(30 * i, 90, 90))
        draw.polygon([(i * 20, 250), (i * 20 + 30, 180), (i * 20 + 50, 240)], fill=(250, i, 9))
    ours = len(encode_png(np.asarray(image)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert ours < 1.25 * len(buffer.getvalue())


@pytest.mark.parametrize("bad", [np.zeros((2, 2), np.float32), np.zeros((2, 2, 5), np.uint8)])
def test_refuses_what_png_cannot_hold(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode_png(bad)


def test_pillow_images_are_written_by_what_they_hold() -> None:
    opaque = Image.new("RGBA", (5, 3), (10, 20, 30, 255))
    mode, decoded = _decode(encode_image_png(opaque))
    assert mode == "RGB" and decoded[0, 0].tolist() == [10, 20, 30]
    clear = Image.new("RGBA", (5, 3), (10, 20, 30, 40))
    assert _decode(encode_image_png(clear))[0] == "RGBA"
    palette = Image.new("P", (2, 2), 0)
    palette.putpalette([200, 100, 0] * 256)
    mode, decoded = _decode(encode_image_png(palette))
    assert mode == "RGBA" and decoded[1, 1].tolist() == [200, 100, 0, 255]
