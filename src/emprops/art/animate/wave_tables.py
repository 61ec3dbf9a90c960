"""Sine and Gaussian from tables with linear interpolation, using only + − × and rounding.

numpy's own `sin`/`exp` pick SIMD code by CPU (SVML on AVX-512), whose last bits differ between
machines; IEEE + − × do not. Tables keep an animation's pixels the same on every worker.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float32]

_SIN_STEPS = 4096
# Two entries past a full turn: a wrapped phase of 1 − ε can round up to exactly 1 in float32.
_SIN = np.array(
    [math.sin(2 * math.pi * i / _SIN_STEPS) for i in range(_SIN_STEPS + 2)], dtype=np.float32
)
_GAUSS_RANGE = 9.0  # exp(-9) ≈ 1e-4: beyond this the curve is taken as 0
_GAUSS_STEPS = 4096
_GAUSS = np.array(
    [math.exp(-_GAUSS_RANGE * i / _GAUSS_STEPS) for i in range(_GAUSS_STEPS + 1)] + [0.0],
    dtype=np.float32,
)


def _interpolate(table: Floats, position: Floats) -> Floats:
    index = np.floor(position)
    frac = position - index
    i = index.astype(np.int32)
    out: Floats = table[i] * (np.float32(1) - frac) + table[i + 1] * frac
    return out


def sin_turns(turns: Floats) -> Floats:
    """sin(2π·turns), to about 1e-6."""
    wrapped = turns - np.floor(turns)
    return _interpolate(_SIN, (wrapped * np.float32(_SIN_STEPS)).astype(np.float32))


def gauss(squared: Floats) -> Floats:
    """exp(−squared) for squared >= 0 (0 past exp(−9))."""
    position = np.minimum(squared, np.float32(_GAUSS_RANGE)) * np.float32(
        _GAUSS_STEPS / _GAUSS_RANGE
    )
    return _interpolate(_GAUSS, position.astype(np.float32))
