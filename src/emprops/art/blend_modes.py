"""Canvas-compatible layer blending: the W3C Compositing and Blending formulas, so a layer set made
for HashLips (node-canvas `globalCompositeOperation`) looks the same here.

Separable blend modes mix the colours and then composite source-over; `add` is canvas `lighter`
(Porter-Duff plus). All maths in float32 on non-premultiplied 0..1 values, rounded to 8 bits once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import NDArray

BlendMode = Literal[
    "normal",
    "multiply",
    "screen",
    "overlay",
    "darken",
    "lighten",
    "add",
    "difference",
    "exclusion",
    "hard-light",
    "soft-light",
    "color-dodge",
    "color-burn",
]

# Canvas / HashLips spellings accepted in configs.
BLEND_ALIASES: dict[str, BlendMode] = {
    "source-over": "normal",
    "lighter": "add",
    "hardLight": "hard-light",
    "softLight": "soft-light",
    "colorDodge": "color-dodge",
    "colorBurn": "color-burn",
}

Floats = NDArray[np.float32]


def _multiply(cb: Floats, cs: Floats) -> Floats:
    return cb * cs


def _screen(cb: Floats, cs: Floats) -> Floats:
    return cb + cs - cb * cs


def _hard_light(cb: Floats, cs: Floats) -> Floats:
    return np.where(cs <= 0.5, _multiply(cb, 2 * cs), _screen(cb, 2 * cs - 1))


def _overlay(cb: Floats, cs: Floats) -> Floats:
    return _hard_light(cs, cb)


def _soft_light(cb: Floats, cs: Floats) -> Floats:
    d = np.where(cb <= 0.25, ((16 * cb - 12) * cb + 4) * cb, np.sqrt(cb))
    return np.where(cs <= 0.5, cb - (1 - 2 * cs) * cb * (1 - cb), cb + (2 * cs - 1) * (d - cb))


def _color_dodge(cb: Floats, cs: Floats) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.minimum(1, cb / (1 - cs))
    return np.where(cb == 0, 0, np.where(cs >= 1, 1, ratio)).astype(np.float32)


def _color_burn(cb: Floats, cs: Floats) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 1 - np.minimum(1, (1 - cb) / cs)
    return np.where(cb >= 1, 1, np.where(cs <= 0, 0, ratio)).astype(np.float32)


_SEPARABLE: dict[str, Callable[[Floats, Floats], Floats]] = {
    "normal": lambda cb, cs: cs,
    "multiply": _multiply,
    "screen": _screen,
    "overlay": _overlay,
    "darken": np.minimum,
    "lighten": np.maximum,
    "difference": lambda cb, cs: np.abs(cb - cs),
    "exclusion": lambda cb, cs: cb + cs - 2 * cb * cs,
    "hard-light": _hard_light,
    "soft-light": _soft_light,
    "color-dodge": _color_dodge,
    "color-burn": _color_burn,
}


def normalize_blend_mode(name: str) -> BlendMode:
    """A config's blend name in our spelling; ValueError lists the accepted names."""
    if name in _SEPARABLE or name == "add":
        return name  # type: ignore[return-value]
    if name in BLEND_ALIASES:
        return BLEND_ALIASES[name]
    known = ", ".join(sorted([*_SEPARABLE, "add", *BLEND_ALIASES]))
    raise ValueError(f"unknown blend mode {name!r}; known: {known}")


def _to_bytes(values: Floats) -> NDArray[np.uint8]:
    rounded: NDArray[np.uint8] = np.floor(np.clip(values, 0, 1) * 255 + 0.5).astype(np.uint8)
    return rounded


def blend_rgba(
    backdrop: NDArray[np.uint8],
    source: NDArray[np.uint8],
    mode: BlendMode,
    opacity: float = 1.0,
) -> NDArray[np.uint8]:
    """`source` drawn over `backdrop` (both H×W×4 RGBA uint8, same shape) with `mode` and
    `opacity`, as a new RGBA uint8 array."""
    scale = np.float32(1 / 255)
    b: Floats = backdrop.astype(np.float32) * scale
    s: Floats = source.astype(np.float32) * scale
    cb, ab = b[..., :3], b[..., 3:]
    cs, as_ = s[..., :3], s[..., 3:] * np.float32(opacity)
    if mode == "add":
        co = np.minimum(as_ * cs + ab * cb, 1)
        ao = np.minimum(as_ + ab, 1)
    else:
        mixed = (1 - ab) * cs + ab * _SEPARABLE[mode](cb, cs)
        co = as_ * mixed + (1 - as_) * ab * cb
        ao = as_ + ab * (1 - as_)
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = np.where(ao > 0, co / ao, 0)
    out = np.empty(backdrop.shape, np.uint8)
    out[..., :3] = _to_bytes(colour.astype(np.float32))
    out[..., 3:] = _to_bytes(ao)
    return out
