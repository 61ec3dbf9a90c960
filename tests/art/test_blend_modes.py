"""Blend modes against pixels worked out by hand from the W3C formulas, directly and through a
whole render (layer files -> PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from emprops.art.blend_modes import blend_rgba, normalize_blend_mode
from emprops.art.layers import PieceCache, open_layer_set, render_token
from tests.art.conftest import decode_png, solid, write_config, write_layers

BACKDROP = (200, 100, 50, 255)
SOURCE = (100, 150, 250, 255)

# Worked out on paper: c = x/255, result*255 rounded half up.
OPAQUE_EXPECTED = {
    "normal": (100, 150, 250, 255),
    "multiply": (78, 59, 49, 255),  # 200·100/255 = 78.4, 100·150/255 = 58.8, 50·250/255 = 49.0
    "screen": (222, 191, 251, 255),  # a + b − ab: 221.6, 191.2, 251.0
    "darken": (100, 100, 50, 255),
    "lighten": (200, 150, 250, 255),
    "difference": (100, 50, 200, 255),
    "add": (255, 250, 255, 255),  # sums clipped at 255
    "exclusion": (143, 132, 202, 255),  # a + b − 2ab: 143.1, 132.4, 201.9
    # overlay: backdrop > 0.5 -> screen(src, 2b−1) (R: 188.1); else 2·src·b (G 117.6, B 98.0)
    "overlay": (188, 118, 98, 255),
    # hard-light: source ≤ 0.5 -> multiply(b, 2s) (R: 156.9); else screen(b, 2s−1) (G 127.4, B 247.0)
    "hard-light": (157, 127, 247, 255),
    # color-dodge: b / (1 − s), clipped: 200/155·... R 1.0 clip, G 100/105 → 242.9, B 1.0 clip
    "color-dodge": (255, 243, 255, 255),
    # color-burn: 1 − (1 − b)/s: R 1 − 55/100 = .45 → 114.8, G 1 − 155/150 < 0 → 0, B 1 − 205/250
    "color-burn": (115, 0, 46, 255),
}


def _pixel(backdrop: tuple[int, ...], source: tuple[int, ...], mode: str, opacity: float = 1.0):
    out = blend_rgba(
        np.array([[backdrop]], np.uint8),
        np.array([[source]], np.uint8),
        mode,
        opacity,  # type: ignore[arg-type]
    )
    return tuple(int(v) for v in out[0, 0])


@pytest.mark.parametrize("mode", sorted(OPAQUE_EXPECTED))
def test_opaque_pixels_match_hand_computation(mode: str) -> None:
    assert _pixel(BACKDROP, SOURCE, mode) == OPAQUE_EXPECTED[mode]


def test_soft_light_matches_the_w3c_formula_worked_by_hand() -> None:
    # R: s = .392 ≤ .5: b − (1−2s)·b·(1−b) = .784 − .216·.784·.216 = .7478 → 190.7
    # G: s = .588 > .5, b = .392 > .25: b + (2s−1)(√b − b) = .392 + .176·.234 = .4335 → 110.5
    # B: s = .980, b = .196 ≤ .25: D = ((16b−12)b+4)b = .4437; .196 + .961·.2477 = .4339 → 110.6
    assert _pixel(BACKDROP, SOURCE, "soft-light") == (191, 111, 111, 255)


def test_opacity_scales_the_source_alpha() -> None:
    # multiply at opacity .5 over an opaque backdrop: .5·B + .5·b; R (78.4 + 200)/2 = 139.2,
    # G (58.8 + 100)/2 = 79.4, B (49.0 + 50)/2 = 49.5 → 50
    assert _pixel(BACKDROP, SOURCE, "multiply", 0.5) == (139, 79, 50, 255)


def test_blending_onto_transparency_shows_the_source_as_is() -> None:
    assert _pixel((9, 9, 9, 0), SOURCE, "multiply") == SOURCE
    assert _pixel((9, 9, 9, 0), (100, 150, 250, 128), "difference") == (100, 150, 250, 128)


def test_add_is_canvas_lighter_on_translucent_pixels() -> None:
    # premultiplied sum: R .502·1, B .502·1, alpha min(1, .502 + .502) = 1
    assert _pixel((255, 0, 0, 128), (0, 0, 255, 128), "add") == (128, 0, 128, 255)


def test_canvas_and_hashlips_names_are_accepted() -> None:
    assert normalize_blend_mode("source-over") == "normal"
    assert normalize_blend_mode("lighter") == "add"
    assert normalize_blend_mode("colorDodge") == "color-dodge"
    with pytest.raises(ValueError, match="unknown blend mode 'glow'"):
        normalize_blend_mode("glow")


def _render(tmp_path: Path, top: Image.Image, layer: dict[str, Any]) -> np.ndarray:
    write_layers(tmp_path, {"Base": {"b.png": solid((4, 4), BACKDROP)}, "Top": {"t.png": top}})
    config = write_config(
        tmp_path,
        {"configurations": [{"grow_edition_size_to": 1, "layers": [{"name": "Base"}, layer]}]},
    )
    layer_set = open_layer_set(config)
    art = render_token(layer_set, 0, {"Base": "b", "Top": "t"}, PieceCache())
    return decode_png(art.data)


def test_a_render_applies_the_blend_only_where_the_layer_has_pixels(tmp_path: Path) -> None:
    top = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    top.paste(solid((2, 2), SOURCE), (1, 1))
    pixels = _render(tmp_path, top, {"name": "Top", "blend": "multiply"})
    assert tuple(pixels[1, 1]) == OPAQUE_EXPECTED["multiply"]
    assert tuple(pixels[2, 2]) == OPAQUE_EXPECTED["multiply"]
    assert tuple(pixels[0, 0]) == BACKDROP and tuple(pixels[3, 3]) == BACKDROP


def test_a_render_with_normal_blend_and_opacity(tmp_path: Path) -> None:
    # source-over, alpha 255·.5 = 127.5 → 128: R = 100·128/255 + 200·127/255 = 149.8
    pixels = _render(tmp_path, solid((4, 4), SOURCE), {"name": "Top", "opacity": 0.5})
    expected = np.array([150, 125, 150, 255])
    assert np.abs(pixels[0, 0].astype(int) - expected).max() <= 1  # Pillow's integer rounding
