"""The render step's input as a queue job carries it (a small JSON), and the per-process state
that makes consecutive tokens cheap: opened layer sets and their decoded pieces."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from emprops.art.errors import ArtInputError
from emprops.art.layers.collection_plan import pick_traits
from emprops.art.layers.compositor import render_token
from emprops.art.layers.layer_set import LayerSet, open_layer_set
from emprops.art.layers.piece_cache import DEFAULT_CACHE_BYTES, PieceCache
from emprops.art.rendered_art import RenderedArt

_OPEN_SETS = 4


class LayersRenderRequest(BaseModel):
    """One token: the layers config, the configuration the token belongs to and its traits (from
    `plan_collection`). Without `traits`, they are picked from the hash alone (see `pick_traits`)."""

    model_config = ConfigDict(extra="forbid")

    config: str = Field(min_length=1, max_length=1000, description="Path of the layers config.")
    hash: str = Field(min_length=3, max_length=256)
    configuration: int = Field(default=0, ge=0)
    traits: dict[str, str] | None = None
    edition: int | None = Field(default=None, ge=1)


_opened: OrderedDict[tuple[str, int], tuple[LayerSet, PieceCache]] = OrderedDict()


def opened_layer_set(config_path: Path, cache_bytes: int) -> tuple[LayerSet, PieceCache]:
    """The layer set for a config file, reused while the file is unchanged (by mtime)."""
    try:
        stamp = config_path.stat().st_mtime_ns
    except OSError:
        raise ArtInputError(f"layers config {config_path} does not exist") from None
    key = (str(config_path.resolve()), stamp)
    if key in _opened:
        _opened.move_to_end(key)
        return _opened[key]
    entry = (open_layer_set(config_path), PieceCache(cache_bytes))
    _opened[key] = entry
    while len(_opened) > _OPEN_SETS:
        _opened.popitem(last=False)
    return entry


def render_layers(
    request: LayersRenderRequest, config_path: Path, *, cache_bytes: int = DEFAULT_CACHE_BYTES
) -> RenderedArt:
    """Render one token; `config_path` is `request.config` resolved by the caller."""
    layer_set, cache = opened_layer_set(config_path, cache_bytes)
    traits = request.traits
    if traits is None:
        traits = pick_traits(layer_set, request.configuration, request.hash)
    return render_token(layer_set, request.configuration, traits, cache)
