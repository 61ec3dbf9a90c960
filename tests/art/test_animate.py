"""The animate renderer: same hash, same bytes; a real looping GIF with one palette; an MP4 that
decodes to the asked number of frames."""

from __future__ import annotations

import hashlib
import io
import math

import av
import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from emprops.art.animate import (
    PALETTES,
    AnimateRenderRequest,
    AnimationParams,
    choose_look,
    draw_frames,
    render_animation,
)
from emprops.art.animate.wave_tables import gauss, sin_turns
from emprops.workflows import Pseudorandom
from tests.art.conftest import HASH, token_hashes
from tests.art.gif_blocks import read_gif_structure

SMALL = {"width": 64, "height": 48, "frames": 8, "fps": 10}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("style", ["plasma", "orbits", "flow"])
@pytest.mark.parametrize("format", ["gif", "mp4"])
def test_the_same_request_gives_the_same_bytes(style: str, format: str) -> None:
    request = AnimateRenderRequest.model_validate(
        {"hash": HASH, "format": format, "params": dict(SMALL, style=style)}
    )
    first = render_animation(request)
    assert _sha(render_animation(request).data) == _sha(first.data)
    other = render_animation(request.model_copy(update={"hash": token_hashes(1)[0]}))
    assert other.data != first.data


@pytest.mark.parametrize("style", ["plasma", "orbits", "flow"])
def test_gif_is_animated_loops_and_shares_one_palette(style: str) -> None:
    request = AnimateRenderRequest.model_validate(
        {"hash": HASH, "params": dict(SMALL, style=style)}
    )
    art = render_animation(request)
    assert (art.mime_type, art.frames) == ("image/gif", 8)
    structure = read_gif_structure(art.data)
    assert structure.frames == 8
    assert structure.global_table_size == 256 and structure.local_tables == 0
    assert structure.loop_count == 0 and structure.delays_cs == [10] * 8
    with Image.open(io.BytesIO(art.data)) as gif:
        assert gif.is_animated and gif.n_frames == 8 and gif.size == (64, 48)
        assert gif.info["loop"] == 0
        decoded = []
        for index in range(8):
            gif.seek(index)
            decoded.append(np.asarray(gif.convert("RGB")).astype(int))
    frames = draw_frames(request.params, HASH)
    assert not np.array_equal(decoded[0], decoded[4])
    # one shared 256-colour palette keeps each frame close to what was drawn
    assert np.abs(decoded[2] - frames[2]).mean() < 6


@pytest.mark.parametrize("style", ["plasma", "orbits", "flow"])
def test_mp4_decodes_with_the_right_frames(style: str) -> None:
    params = dict(SMALL, style=style, frames=12)
    art = render_animation(
        AnimateRenderRequest.model_validate({"hash": HASH, "format": "mp4", "params": params})
    )
    assert art.mime_type == "video/mp4" and art.data[4:8] == b"ftyp"
    with av.open(io.BytesIO(art.data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
        assert stream.average_rate == 10
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == 12
    drawn = draw_frames(AnimationParams.model_validate(params), HASH)
    assert np.abs(decoded[5].astype(int) - drawn[5]).mean() < 12  # lossy, but the same picture


def test_plasma_and_orbits_loop_without_a_seam() -> None:
    """Frame k of an n-frame loop is frame 2k of the 2n-frame loop: both are time k/n."""
    for style in ("plasma", "orbits"):
        short = draw_frames(AnimationParams(style=style, width=32, height=32, frames=4), HASH)
        long = draw_frames(AnimationParams(style=style, width=32, height=32, frames=8), HASH)
        for k in range(4):
            assert np.array_equal(short[k], long[2 * k])


def test_the_hash_picks_palette_and_style_unless_the_params_do() -> None:
    looks = {choose_look(AnimationParams(), Pseudorandom(h)) for h in token_hashes(40)}
    assert len({style for style, _ in looks}) == 3
    assert len({colours for _, colours in looks}) > 3
    assert all(colours in PALETTES.values() for _, colours in looks)
    fixed = AnimationParams(style="orbits", palette=["#000000", "#ffffff"])
    assert choose_look(fixed, Pseudorandom(HASH)) == ("orbits", ("#000000", "#ffffff"))
    named = AnimationParams(palette="ember")
    assert choose_look(named, Pseudorandom(HASH))[1] == PALETTES["ember"]


@pytest.mark.parametrize(
    "params",
    [
        {"palette": ["#00000"]},
        {"palette": ["#000000"]},
        {"palette": "plaid"},
        {"style": "fractal"},
        {"frames": 0},
        {"width": 4096},
    ],
)
def test_bad_params_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AnimationParams.model_validate(params)


def test_an_odd_size_mp4_is_refused_with_the_size() -> None:
    from emprops.art import ArtInputError

    request = AnimateRenderRequest.model_validate(
        {"hash": HASH, "format": "mp4", "params": dict(SMALL, width=33)}
    )
    with pytest.raises(ArtInputError, match="even width and height, got 33×48"):
        render_animation(request)


def test_wave_tables_follow_sin_and_exp() -> None:
    turns = np.linspace(-3, 3, 10_001, dtype=np.float32)
    expected = np.array([math.sin(2 * math.pi * float(t)) for t in turns])
    assert np.abs(sin_turns(turns) - expected).max() < 2e-5
    squared = np.linspace(0, 12, 5_001, dtype=np.float32)
    expected = np.array([math.exp(-float(s)) if s <= 9 else 0.0 for s in squared])
    assert np.abs(gauss(squared) - expected).max() < 2e-4
