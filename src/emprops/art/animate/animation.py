"""The `animate` renderer: a hash and a few params in, a looping GIF or an MP4 out."""

from __future__ import annotations

from collections.abc import Sequence

from emprops.art.animate.params import PALETTES, STYLES, AnimateRenderRequest, AnimationParams
from emprops.art.animate.scenes import SCENES, Frame
from emprops.art.gif_writer import encode_gif
from emprops.art.mp4_writer import encode_mp4
from emprops.art.rendered_art import RenderedArt
from emprops.workflows import Pseudorandom


def choose_look(params: AnimationParams, rng: Pseudorandom) -> tuple[str, tuple[str, ...]]:
    """Style and colours: the params' own, else drawn from the hash (palette first, then style)."""
    if isinstance(params.palette, list):
        colours = tuple(params.palette)
    elif isinstance(params.palette, str):
        colours = PALETTES[params.palette]
    else:
        colours = PALETTES[rng.pick(sorted(PALETTES))]
    style = params.style if params.style != "auto" else rng.pick(STYLES)
    return style, colours


def draw_frames(params: AnimationParams, token_hash: str) -> list[Frame]:
    rng = Pseudorandom(token_hash)
    style, colours = choose_look(params, rng)
    return SCENES[style](params, rng, colours)


def encode_frames(frames: Sequence[Frame], params: AnimationParams, format: str) -> RenderedArt:
    if format == "mp4":
        data = encode_mp4(frames, params.fps, crf=params.crf)
        return RenderedArt(data, "video/mp4", "mp4", frames=len(frames))
    duration = max(10, round(1000 / params.fps / 10) * 10)  # GIF delays are in centiseconds
    data = encode_gif(frames, duration, dither=params.gif_dither)
    return RenderedArt(data, "image/gif", "gif", frames=len(frames))


def render_animation(request: AnimateRenderRequest) -> RenderedArt:
    """Deterministic: the same request gives the same bytes."""
    return encode_frames(draw_frames(request.params, request.hash), request.params, request.format)
