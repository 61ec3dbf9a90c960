"""Generative animation from params and the token hash: looping GIF (one palette) or MP4."""

from emprops.art.animate.animation import choose_look, draw_frames, encode_frames, render_animation
from emprops.art.animate.params import PALETTES, AnimateRenderRequest, AnimationParams

__all__ = [
    "PALETTES",
    "AnimateRenderRequest",
    "AnimationParams",
    "choose_look",
    "draw_frames",
    "encode_frames",
    "render_animation",
]
