"""Media files: present, non-empty, decodable, of the type the step said."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from emprops.metadata import extension_for, media_problem, media_type_for


def png(size: int = 16) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (10, 20, 30)).save(out, format="PNG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, format="GIF")
    return out.getvalue()


def test_good_files(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png())
    (tmp_path / "a.gif").write_bytes(gif())
    (tmp_path / "a.svg").write_text(
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'
    )
    (tmp_path / "a.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    assert media_problem(tmp_path / "a.png", "image/png") is None
    assert media_problem(tmp_path / "a.gif", "image/gif") is None
    assert media_problem(tmp_path / "a.svg", "image/svg+xml") is None
    assert media_problem(tmp_path / "a.mp4", "video/mp4") is None


@pytest.mark.parametrize(
    ("data", "kind", "why"),
    [
        (None, "image/png", "does not exist"),
        (b"", "image/png", "is empty"),
        (png()[:60], "image/png", "corrupt"),
        (b"not an image at all", "image/png", "not a decodable image/png"),
        (gif(), "image/png", "is GIF data, not image/png"),
        (b"\x00" * 64, "video/mp4", "wrong file signature"),
        (b"<html/>", "image/svg+xml", "wrong file signature"),
        (png(), "application/zip", "not one we publish"),
    ],
)
def test_bad_files(tmp_path: Path, data: bytes | None, kind: str, why: str) -> None:
    path = tmp_path / "f"
    if data is not None:
        path.write_bytes(data)
    problem = media_problem(path, kind)
    assert problem is not None and why in problem


def test_corrupt_pixel_data_is_caught(tmp_path: Path) -> None:
    """A PNG whose header is fine but whose image data is damaged fails the full decode."""
    data = bytearray(png(64))
    start = data.index(b"IDAT") + 8
    data[start : start + 20] = b"\xff" * 20
    (tmp_path / "f.png").write_bytes(bytes(data))
    assert media_problem(tmp_path / "f.png", "image/png") is not None


def test_type_names() -> None:
    assert extension_for("image/jpeg") == "jpg" and extension_for("image/png; x=1") == "png"
    assert media_type_for(".JPEG") == "image/jpeg" and media_type_for("txt") is None
