"""Built-in renderers: pure functions of their inputs and the token hash.

`layers` composites trait images (plan a collection once, render each token as its own job);
`animate` draws a looping animation. Both return `RenderedArt` (bytes + MIME type).
"""

from emprops.art.animate import AnimateRenderRequest, AnimationParams, render_animation
from emprops.art.errors import ArtInputError, TraitSpaceExhausted
from emprops.art.gif_writer import encode_gif
from emprops.art.layers import (
    CollectionPlan,
    LayersConfig,
    LayerSet,
    LayersRenderRequest,
    TokenPlan,
    open_layer_set,
    pick_traits,
    plan_collection,
    render_layers,
    render_token,
)
from emprops.art.mp4_writer import encode_mp4
from emprops.art.png_writer import encode_png
from emprops.art.rendered_art import RenderedArt

__all__ = [
    "AnimateRenderRequest",
    "AnimationParams",
    "ArtInputError",
    "CollectionPlan",
    "LayerSet",
    "LayersConfig",
    "LayersRenderRequest",
    "RenderedArt",
    "TokenPlan",
    "TraitSpaceExhausted",
    "encode_gif",
    "encode_mp4",
    "encode_png",
    "open_layer_set",
    "pick_traits",
    "plan_collection",
    "render_animation",
    "render_layers",
    "render_token",
]
