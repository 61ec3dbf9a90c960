"""The seeded PRNG every random choice of a generation comes from.

It must match the original platform bit for bit (sfc32 seeded from the hash by base-58 chunks),
so collections exported from there make the same picks and seeds here.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

BASE58_ALPHABET = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
_BASE58_INDEX = {c: i for i, c in enumerate(BASE58_ALPHABET)}
_U32 = 0xFFFFFFFF
_TWO_32 = 4294967296.0


def _int32(value: int) -> int:
    """Wrap to a signed 32-bit integer, as JavaScript's `x | 0` does."""
    return ((value + 0x80000000) & _U32) - 0x80000000


def decode_base58_chunk(chunk: str) -> int:
    """Decode one hash chunk; characters outside the alphabet count as -1, as in the original."""
    p = 0
    for char in chunk:
        p = _int32(p * 58 + _BASE58_INDEX.get(char, -1))
    return p


def seed_state(hash_: str) -> tuple[int, int, int, int]:
    """The four sfc32 state words for a hash (unsigned 32-bit)."""
    body = hash_[2:]
    size = len(body) // 4
    words: list[int] = []
    if size > 0:
        whole = len(body) - len(body) % size
        words = [decode_base58_chunk(body[i : i + size]) for i in range(0, whole, size)]
    words = [*words, 0, 0, 0, 0][:4]
    return (words[0] & _U32, words[1] & _U32, words[2] & _U32, words[3] & _U32)


class Pseudorandom:
    """sfc32 seeded from a generation hash; the same hash always yields the same sequence."""

    __slots__ = ("_a", "_b", "_c", "_d")

    def __init__(self, hash_: str) -> None:
        self._a, self._b, self._c, self._d = seed_state(hash_)

    @classmethod
    def from_state(cls, a: int, b: int, c: int, d: int) -> Pseudorandom:
        """Start from raw state words (tests use it to reach edge values of `next`)."""
        instance = cls.__new__(cls)
        instance._a, instance._b, instance._c, instance._d = a & _U32, b & _U32, c & _U32, d & _U32
        return instance

    def next(self) -> float:
        """One sfc32 step: a float in [0, 1) with 32 bits of randomness."""
        a, b, c, d = self._a, self._b, self._c, self._d
        t = (a + b + d) & _U32
        d = (d + 1) & _U32
        a = b ^ (b >> 9)
        b = (c + (c << 3)) & _U32
        c = ((c << 21) | (c >> 11)) & _U32
        c = (c + t) & _U32
        self._a, self._b, self._c, self._d = a, b, c, d
        return t / _TWO_32

    def float(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.next()

    def integer(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi].

        The clamp only matters where float rounding would give hi + 1 (huge bounds); the original
        returned that out-of-range value, everywhere else the result is identical.
        """
        return min(hi, math.floor(self.float(lo, hi + 1)))

    def pick(self, items: Sequence[T]) -> T:
        if not items:
            raise ValueError("cannot pick from an empty sequence")
        return items[self.integer(0, len(items) - 1)]

    def weighted_pick(self, items: Sequence[T], weights: Sequence[builtins.float]) -> T:
        """Walk the cumulative weights to a uniform point in [0, sum(weights))."""
        if not items:
            raise ValueError("cannot pick from an empty sequence")
        r = self.float(0, sum(weights, 0))
        acc: builtins.float = 0
        i = 0
        while i < len(weights) and acc + weights[i] < r:
            acc += weights[i]
            i += 1
        return items[min(len(items) - 1, i)]
