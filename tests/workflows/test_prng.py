"""The PRNG against generation.md's vectors and a JavaScript transcription of its algorithm."""

from __future__ import annotations

import json
import random
import shutil
import string
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.workflows import MAX_SEED, Pseudorandom, generation_seed
from emprops.workflows.prng import BASE58_ALPHABET, seed_state

from .conftest import SPEC_HASH

NAMES7 = ["John", "Mary", "Peter", "George", "Luis", "Mario", "Mitzy"]
NAMES3 = ["John", "Mary", "Peter"]
REFERENCE = Path(__file__).with_name("prng_reference.mjs")

hashes = st.one_of(
    st.from_regex(r"\A0x[0-9a-f]{64}\Z"),
    st.text(alphabet=BASE58_ALPHABET + "0OIl-_", min_size=0, max_size=80),
)


def test_spec_vectors() -> None:
    assert Pseudorandom(SPEC_HASH).pick(NAMES7) == "George"
    assert Pseudorandom(SPEC_HASH).pick(NAMES3) == "Mary"
    assert Pseudorandom(SPEC_HASH).weighted_pick(NAMES3, [1, 1, 98]) == "Peter"
    same = Pseudorandom(SPEC_HASH)
    assert same.weighted_pick(NAMES3, [1, 1, 98]) == "Peter"
    assert same.pick(["Engineer", "Other"]) == "Engineer"


def _reference_hashes() -> list[str]:
    rng = random.Random(20240501)
    out = [
        SPEC_HASH,
        "",
        "0x",
        "0x123",
        "0x1234",
        "0x12345",
        str(uuid.UUID(int=rng.getrandbits(128))),
    ]
    for _ in range(60):
        out.append("0x" + "".join(rng.choices("0123456789abcdef", k=64)))
        out.append("".join(rng.choices(string.ascii_letters + string.digits, k=51)))
        out.append("".join(rng.choices(BASE58_ALPHABET + "0OIl", k=rng.randint(6, 90))))
        out.append(str(uuid.UUID(int=rng.getrandbits(128))))
    return out


CALLS: list[list[Any]] = [
    ["next"],
    ["integer", 1, MAX_SEED],
    ["pick", NAMES7],
    ["weighted_pick", NAMES3, [1, 1, 98]],
    ["weighted_pick", ["a", "b", "c", "d"], [0.1, 0.25, 0, 3.5]],
    ["float", -5.5, 12.25],
    ["integer", -(2**31), 2**31 - 1],
    ["pick", ["Engineer", "Other"]],
    ["next"],
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_matches_javascript_bit_for_bit() -> None:
    """JavaScript's int32 wrap and `>>>` are the semantics the original ran with."""
    requests = [{"hash": h, "calls": CALLS} for h in _reference_hashes()]
    completed = subprocess.run(
        ["node", str(REFERENCE)],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    expected = json.loads(completed.stdout)
    for request, want in zip(requests, expected, strict=True):
        prng = Pseudorandom(request["hash"])
        got = [getattr(prng, method)(*args) for method, *args in CALLS]
        assert got == want, request["hash"]


@given(hashes)
def test_same_hash_same_sequence(hash_: str) -> None:
    first, second = Pseudorandom(hash_), Pseudorandom(hash_)
    assert [first.next() for _ in range(20)] == [second.next() for _ in range(20)]


@given(hashes)
def test_next_is_in_unit_interval(hash_: str) -> None:
    prng = Pseudorandom(hash_)
    for _ in range(50):
        assert 0 <= prng.next() < 1


@given(hashes, st.integers(-(2**31), 2**32), st.integers(0, 2**32))
def test_integer_stays_within_bounds(hash_: str, lo: int, span: int) -> None:
    prng = Pseudorandom(hash_)
    for _ in range(10):
        assert lo <= prng.integer(lo, lo + span) <= lo + span


@given(
    hashes,
    st.lists(st.integers(), min_size=1, max_size=12),
    st.lists(st.floats(0, 1e6) | st.integers(0, 1000), max_size=16),
)
def test_weighted_pick_never_leaves_the_list(
    hash_: str, items: list[int], weights: list[float]
) -> None:
    """Even with too few or too many weights, or all zeros, the pick is one of the items."""
    prng = Pseudorandom(hash_)
    for _ in range(5):
        assert prng.weighted_pick(items, weights) in items


@given(hashes, st.lists(st.text(max_size=3), min_size=1, max_size=12))
def test_pick_returns_an_item(hash_: str, items: list[str]) -> None:
    assert Pseudorandom(hash_).pick(items) in items


@given(hashes)
def test_generation_seed_range(hash_: str) -> None:
    assert 1 <= generation_seed(hash_) <= MAX_SEED
    assert generation_seed(hash_) == generation_seed(hash_)


def test_integer_clamps_where_float_rounding_would_overshoot() -> None:
    """With next() at its largest value, 2^31 + 0.99999999977 rounds to 2^31 + 1 in floats."""
    top = Pseudorandom.from_state(0xFFFFFFFF, 0, 0, 0)
    assert top.integer(2**31, 2**31) == 2**31


def test_seed_state_short_hash_is_zero_and_only_whole_chunks_count() -> None:
    assert seed_state("0x123") == (0, 0, 0, 0)
    # 9 characters: chunks of 2, the ninth character is ignored.
    assert seed_state("0x222222223") == seed_state("0x222222229")
    assert seed_state("0x22222223") != seed_state("0x22222229")
    # Characters outside the alphabet decode as -1 (so "0" and "l" differ from any digit).
    assert seed_state("0x0000")[0] == (-1 & 0xFFFFFFFF)


def test_empty_pick_is_refused() -> None:
    with pytest.raises(ValueError):
        Pseudorandom(SPEC_HASH).pick([])
