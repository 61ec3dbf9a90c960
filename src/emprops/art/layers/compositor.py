"""The render step of one token: draw its chosen traits layer by layer, encode PNG (or GIF when a
trait is animated). Pure: the same layers and traits give the same bytes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from emprops.art.blend_modes import blend_rgba
from emprops.art.errors import ArtInputError
from emprops.art.gif_writer import encode_gif
from emprops.art.layers.layer_set import ConfiguredLayer, LayerSet
from emprops.art.layers.piece_cache import PieceCache, trait_frame_count
from emprops.art.layers.trait_catalog import Trait
from emprops.art.png_writer import encode_image_png
from emprops.art.rendered_art import RenderedArt


def _chosen(
    layers: tuple[ConfiguredLayer, ...], traits: Mapping[str, str], configuration: int
) -> list[tuple[ConfiguredLayer, Trait]]:
    names = [layer.name for layer in layers]
    extra = sorted(set(traits) - set(names))
    if extra:
        raise ArtInputError(
            f"traits name layer {extra[0]!r}, which configuration {configuration} does not have; "
            f"its layers: {', '.join(names)}"
        )
    chosen = []
    for layer in layers:
        if layer.name not in traits:
            raise ArtInputError(f"traits give nothing for layer {layer.name!r}")
        chosen.append((layer, layer.folder.trait(traits[layer.name])))
    return chosen


def _background(colour: str | None) -> tuple[int, int, int, int]:
    if colour is None:
        return (0, 0, 0, 0)
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16), 255)


def composite_frame(
    layer_set: LayerSet,
    chosen: list[tuple[ConfiguredLayer, Trait]],
    frame: int,
    cache: PieceCache,
) -> Image.Image:
    """One RGBA frame. Normal layers go through Pillow's integer source-over on their visible box
    (an opaque box is simply copied); other blend modes through the float blend on that box."""
    canvas = Image.new("RGBA", layer_set.size, _background(layer_set.config.output.background))
    for layer, trait in chosen:
        spec = layer.spec
        if spec.opacity == 0:
            continue
        normal = spec.blend == "normal"
        piece = cache.piece(
            trait,
            frame,
            size=layer_set.size,
            sprite_frames=spec.sprite_frames,
            opacity=spec.opacity if normal else 1.0,
        )
        if piece is None:
            continue
        if normal and piece.opaque:
            canvas.paste(piece.image, (piece.left, piece.top))
        elif normal:
            canvas.alpha_composite(piece.image, dest=(piece.left, piece.top))
        else:
            box = piece.box
            backdrop = np.asarray(canvas.crop(box))
            mixed = blend_rgba(backdrop, np.asarray(piece.image), spec.blend, spec.opacity)
            canvas.paste(Image.fromarray(mixed, "RGBA"), box[:2])
    return canvas


def _flatten(frame: Image.Image, background: tuple[int, int, int, int]) -> NDArray[np.uint8]:
    """GIF has no partial transparency: draw the frame over the background (black if unset)."""
    base = Image.new("RGBA", frame.size, (*background[:3], 255))
    base.alpha_composite(frame)
    return np.asarray(base.convert("RGB"))


def render_token(
    layer_set: LayerSet,
    configuration: int,
    traits: Mapping[str, str],
    cache: PieceCache,
) -> RenderedArt:
    chosen = _chosen(layer_set.configuration(configuration), traits, configuration)
    output = layer_set.config.output
    frames = max(trait_frame_count(t, layer.spec.sprite_frames) for layer, t in chosen)
    as_gif = output.format == "gif" or (output.format == "auto" and frames > 1)
    if not as_gif:
        image = composite_frame(layer_set, chosen, 0, cache)
        return RenderedArt(encode_image_png(image), "image/png", "png")
    background = _background(output.background)
    rendered = [
        _flatten(composite_frame(layer_set, chosen, f, cache), background) for f in range(frames)
    ]
    data = encode_gif(rendered, output.frame_duration_ms, dither=output.gif_dither)
    return RenderedArt(data, "image/gif", "gif", frames=frames)
