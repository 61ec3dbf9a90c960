"""The three animation styles. Each draws its frames from the params and a `Pseudorandom` seeded by
the token hash, drawing its random numbers in a fixed order, so a hash always gives the same film.

`plasma` and `orbits` are functions of time over one period, so the last frame leads back into the
first and the loop has no seam; `flow` moves particles through a slowly turning field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from emprops.art.animate.params import AnimationParams
from emprops.art.animate.wave_tables import gauss, sin_turns
from emprops.workflows import Pseudorandom

Floats = NDArray[np.float32]
Frame = NDArray[np.uint8]
GRADIENT_STEPS = 1024


def parse_colour(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def gradient(colours: Sequence[str], *, cyclic: bool = False) -> Floats:
    """A GRADIENT_STEPS × 3 table through the colours (and back to the first when cyclic)."""
    stops = np.array([parse_colour(c) for c in colours], dtype=np.float32)
    if cyclic:
        stops = np.concatenate([stops, stops[:1]])
    position = np.arange(GRADIENT_STEPS, dtype=np.float32) * np.float32(
        (len(stops) - 1) / GRADIENT_STEPS
    )
    index = np.minimum(np.floor(position).astype(np.int32), len(stops) - 2)
    frac = (position - index)[:, None]
    table: Floats = stops[index] * (np.float32(1) - frac) + stops[index + 1] * frac
    return table


def _grid(params: AnimationParams) -> tuple[Floats, Floats]:
    """Pixel centres in units of the shorter side, so circles stay round."""
    unit = np.float32(1 / min(params.width, params.height))
    x = (np.arange(params.width, dtype=np.float32) + np.float32(0.5)) * unit
    y = (np.arange(params.height, dtype=np.float32) + np.float32(0.5)) * unit
    return x[None, :], y[:, None]


def _to_frame(rgb: Floats) -> Frame:
    frame: Frame = np.floor(np.clip(rgb, 0, 255) + np.float32(0.5)).astype(np.uint8)
    return frame


def _signed_step(rng: Pseudorandom, lo: int, hi: int) -> int:
    """A non-zero integer in [-hi, -lo] ∪ [lo, hi]."""
    return rng.integer(lo, hi) * (1 if rng.next() < 0.5 else -1)


def draw_plasma(params: AnimationParams, rng: Pseudorandom, colours: Sequence[str]) -> list[Frame]:
    """Interfering waves through a warped plane, read through a cyclic gradient."""
    x, y = _grid(params)
    table = gradient(colours, cyclic=True)
    waves = []
    for _ in range(params.complexity + 2):
        waves.append(
            (
                np.float32(rng.integer(-3, 3)),
                np.float32(_signed_step(rng, 1, 3)),
                np.float32(_signed_step(rng, 1, 2)),
                np.float32(rng.next()),
                np.float32(rng.float(0.4, 1.0)),
            )
        )
    warp_fx, warp_fy = np.float32(rng.integer(1, 3)), np.float32(rng.integer(1, 3))
    warp = np.float32(rng.float(0.03, 0.09))
    warp_phase = np.float32(rng.next())
    bands = np.float32(rng.float(1.0, 2.2))
    total = np.float32(sum(float(w[4]) for w in waves))
    centre_x = np.float32(params.width / min(params.width, params.height) / 2)
    centre_y = np.float32(params.height / min(params.width, params.height) / 2)
    vignette = np.float32(1) - np.float32(0.35) * np.minimum(
        np.float32(1), ((x - centre_x) ** 2 + (y - centre_y) ** 2) * np.float32(1.6)
    )
    frames = []
    for i in range(params.frames):
        t = np.float32(i / params.frames)
        xw: Floats = x + warp * sin_turns(warp_fy * y + t + warp_phase)
        yw: Floats = y + warp * sin_turns(warp_fx * x - t - warp_phase)
        value = np.zeros((params.height, params.width), np.float32)
        for fx, fy, speed, phase, amplitude in waves:
            value += amplitude * sin_turns(fx * xw + fy * yw + speed * t + phase)
        level = (value / total * np.float32(0.5) + np.float32(0.5)) * bands
        level -= np.floor(level)
        index = np.minimum(
            (level * np.float32(GRADIENT_STEPS)).astype(np.int32), GRADIENT_STEPS - 1
        )
        frames.append(_to_frame(table[index] * vignette[:, :, None]))
    return frames


def _splat(
    light: Floats, cx: float, cy: float, sigma: float, colour: Floats, strength: float
) -> None:
    """Add a Gaussian blob (3σ window) of `colour` centred at (cx, cy) in shorter-side units."""
    height, width = light.shape[:2]
    scale = min(width, height)
    px, py, ps = cx * scale, cy * scale, sigma * scale
    x0, x1 = max(0, int(px - 3 * ps)), min(width, int(px + 3 * ps) + 2)
    y0, y1 = max(0, int(py - 3 * ps)), min(height, int(py + 3 * ps) + 2)
    if x0 >= x1 or y0 >= y1:
        return
    dx = (np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - px)) / np.float32(ps)
    dy = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - py)) / np.float32(ps)
    weight = gauss((dx[None, :] ** 2 + dy[:, None] ** 2) * np.float32(0.5)) * np.float32(strength)
    light[y0:y1, x0:x1] += weight[:, :, None] * colour


def _turn_sin(turns: float) -> float:
    return float(sin_turns(np.array([turns], np.float32))[0])


def draw_orbits(params: AnimationParams, rng: Pseudorandom, colours: Sequence[str]) -> list[Frame]:
    """Glowing bodies on tilted elliptical orbits, each closing its orbit a whole number of times
    per loop, with fading trails."""
    _, y = _grid(params)
    stops = np.array([parse_colour(c) for c in colours], dtype=np.float32)
    top, bottom = stops[0], stops[min(1, len(stops) - 1)] * np.float32(0.45)
    span = np.float32(params.height / min(params.width, params.height))
    background = (top + (bottom - top) * (y / span)[:, :, None]) * np.ones(
        (1, params.width, 1), np.float32
    )
    cx0 = params.width / min(params.width, params.height) / 2
    cy0 = params.height / min(params.width, params.height) / 2
    bodies = []
    for _ in range(params.complexity + 2):
        radius = rng.float(0.08, 0.42)
        bodies.append(
            {
                "cx": cx0 + rng.float(-0.06, 0.06),
                "cy": cy0 + rng.float(-0.06, 0.06),
                "rx": radius,
                "ry": radius * rng.float(0.45, 1.0),
                "tilt": rng.next(),
                "cycles": rng.pick([1, 1, 2, 3, -1, -2]),
                "phase": rng.next(),
                "sigma": rng.float(0.012, 0.03),
                "colour": stops[rng.integer(1, len(stops) - 1)] if len(stops) > 1 else stops[0],
            }
        )
    trail, trail_step = 16, 0.006
    frames = []
    for i in range(params.frames):
        t = i / params.frames
        light = np.zeros((params.height, params.width, 3), np.float32)
        for body in bodies:
            cos_tilt, sin_tilt = _turn_sin(body["tilt"] + 0.25), _turn_sin(body["tilt"])
            for k in range(trail):
                angle = (
                    body["cycles"] * t + body["phase"] - k * trail_step * np.sign(body["cycles"])
                )
                ex = body["rx"] * _turn_sin(angle + 0.25)
                ey = body["ry"] * _turn_sin(angle)
                px = body["cx"] + ex * cos_tilt - ey * sin_tilt
                py = body["cy"] + ex * sin_tilt + ey * cos_tilt
                fade = 0.72**k
                size = body["sigma"] * (1 - 0.04 * k)
                _splat(light, px, py, size, body["colour"], 1.1 * fade)
                if k == 0:
                    _splat(light, px, py, size * 4, body["colour"], 0.18)
        frames.append(_to_frame(background + light))
    return frames


def draw_flow(params: AnimationParams, rng: Pseudorandom, colours: Sequence[str]) -> list[Frame]:
    """Particles drifting through a turning vector field, leaving fading trails."""
    width, height = params.width, params.height
    scale = min(width, height)
    extent_x, extent_y = width / scale, height / scale
    table = gradient(colours[1:] if len(colours) > 2 else colours)
    background = np.array(parse_colour(colours[0]), np.float32) * np.float32(0.6)
    terms = [
        (
            np.float32(rng.integer(-2, 2)),
            np.float32(_signed_step(rng, 1, 2)),
            np.float32(rng.next()),
            np.float32(_signed_step(rng, 1, 1)),
        )
        for _ in range(params.complexity)
    ]
    count = 600 * params.complexity + 1200
    px = np.array([rng.float(0, extent_x) for _ in range(count)], np.float32)
    py = np.array([rng.float(0, extent_y) for _ in range(count)], np.float32)
    hue = np.array([rng.next() for _ in range(count)], np.float32)
    ink = table[np.minimum((hue * GRADIENT_STEPS).astype(np.int32), GRADIENT_STEPS - 1)]
    ink *= np.float32(0.32)
    light = np.zeros((height * width, 3), np.float32)
    step = np.float32(0.0035)
    decay = np.float32(0.93)

    def advance(t: np.float32) -> None:
        nonlocal px, py
        angle = np.zeros_like(px)
        for fx, fy, phase, speed in terms:
            angle += sin_turns(fx * px + fy * py + phase + speed * t)
        angle *= np.float32(0.5 / len(terms))
        px = px + step * sin_turns(angle + np.float32(0.25))
        py = py + step * sin_turns(angle)
        px -= np.float32(extent_x) * np.floor(px / np.float32(extent_x))
        py -= np.float32(extent_y) * np.floor(py / np.float32(extent_y))

    def deposit() -> None:
        ix = np.minimum((px * scale).astype(np.int32), width - 1)
        iy = np.minimum((py * scale).astype(np.int32), height - 1)
        flat = iy * width + ix
        for channel in range(3):
            light[:, channel] += np.bincount(
                flat, weights=ink[:, channel], minlength=height * width
            ).astype(np.float32)

    for _ in range(24):  # warm up so the first frame already has trails
        advance(np.float32(0))
        light *= decay
        deposit()
    frames = []
    for i in range(params.frames):
        t = np.float32(i / params.frames)
        for _ in range(3):
            advance(t)
            light *= decay
            deposit()
        frames.append(_to_frame(background + light.reshape(height, width, 3)))
    return frames


SCENES: dict[str, Callable[[AnimationParams, Pseudorandom, Sequence[str]], list[Frame]]] = {
    "plasma": draw_plasma,
    "orbits": draw_orbits,
    "flow": draw_flow,
}
