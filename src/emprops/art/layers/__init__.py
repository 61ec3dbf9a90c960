"""Layered trait compositing (HashLips-style layer folders): plan a collection, render a token."""

from emprops.art.layers.collection_plan import (
    CollectionPlan,
    ConfigurationCounts,
    TokenPlan,
    TraitAttribute,
    exact_counts,
    pick_traits,
    plan_collection,
)
from emprops.art.layers.compositor import render_token
from emprops.art.layers.config import (
    LayerConfiguration,
    LayersConfig,
    LayerSpec,
    OutputSpec,
    TraitRule,
    parse_layers_config,
    read_layers_config,
)
from emprops.art.layers.layer_set import LayerSet, build_layer_set, open_layer_set
from emprops.art.layers.piece_cache import PieceCache
from emprops.art.layers.token_render import LayersRenderRequest, render_layers

__all__ = [
    "CollectionPlan",
    "ConfigurationCounts",
    "LayerConfiguration",
    "LayerSet",
    "LayerSpec",
    "LayersConfig",
    "LayersRenderRequest",
    "OutputSpec",
    "PieceCache",
    "TokenPlan",
    "TraitAttribute",
    "TraitRule",
    "build_layer_set",
    "exact_counts",
    "open_layer_set",
    "parse_layers_config",
    "pick_traits",
    "plan_collection",
    "read_layers_config",
    "render_layers",
    "render_token",
]
