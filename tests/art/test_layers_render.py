"""Rendering tokens: the same traits give the same bytes, the pixels equal an independent
composite, animated traits make a looping GIF with one palette, bad traits are named."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emprops.art import ArtInputError
from emprops.art.layers import (
    LayersRenderRequest,
    PieceCache,
    open_layer_set,
    plan_collection,
    render_layers,
    render_token,
)
from emprops.art.layers.token_render import opened_layer_set
from tests.art.conftest import HASH, decode_png, solid, token_hashes, write_config, write_layers
from tests.art.gif_blocks import read_gif_structure

STILL = {
    "Background": "Night Sky", "Body": "Robot", "Eyes": "Laser", "Mouth": "Teeth",
    "Headwear": "Crown", "Glow": "Warm", "Accessory": "Necklace", "Frame": "Neon",
}  # fmt: skip
ANIMATED = dict(STILL, Accessory="Sparkle Loop")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_same_traits_render_to_the_same_bytes(example_layers: Path) -> None:
    plan = plan_collection(open_layer_set(example_layers), token_hashes(60))
    tokens = plan.tokens[:4] + plan.tokens[30:32]
    first = [
        _sha(
            render_token(
                open_layer_set(example_layers), t.configuration, t.traits, PieceCache()
            ).data
        )
        for t in tokens
    ]
    layer_set, cache = open_layer_set(example_layers), PieceCache()
    again = [_sha(render_token(layer_set, t.configuration, t.traits, cache).data) for t in tokens]
    assert first == again
    assert len(set(first)) == len(first)


def test_pixels_equal_a_plain_full_canvas_composite(example_layers: Path, tmp_path: Path) -> None:
    """Cropping to visible boxes and caching must not change a pixel."""
    config = json.loads(example_layers.read_text())
    config["layers_dir"] = str(example_layers.parent / "layers")
    layers = [{"name": spec["name"]} for spec in config["configurations"][0]["layers"]]
    config["configurations"] = [{"grow_edition_size_to": 1, "layers": layers}]
    config["rules"] = []
    path = tmp_path / "normal.json"
    path.write_text(json.dumps(config))
    layer_set = open_layer_set(path)
    art = render_token(layer_set, 0, STILL, PieceCache())
    expected = Image.new("RGBA", layer_set.size, (0, 0, 0, 0))
    for layer in layer_set.configurations[0]:
        trait = layer.folder.trait(STILL[layer.name])
        with Image.open(trait.frames[0]) as image:
            expected = Image.alpha_composite(expected, image.convert("RGBA"))
    assert np.array_equal(decode_png(art.data), np.asarray(expected))


def test_an_animated_trait_makes_a_looping_gif_with_one_palette(example_layers: Path) -> None:
    layer_set = open_layer_set(example_layers)
    art = render_token(layer_set, 0, ANIMATED, PieceCache())
    assert (art.mime_type, art.extension, art.frames) == ("image/gif", "gif", 8)
    structure = read_gif_structure(art.data)
    assert structure.frames == 8 and structure.local_tables == 0
    assert structure.global_table_size == 256 and structure.loop_count == 0
    assert structure.delays_cs == [12] * 8  # frame_duration_ms 120 in the config
    with Image.open(io.BytesIO(art.data)) as gif:
        assert gif.n_frames == 8 and gif.is_animated
        frames = []
        for index in range(8):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("RGB")))
    assert not np.array_equal(frames[0], frames[3])  # the sparkles move
    assert _sha(render_token(open_layer_set(example_layers), 0, ANIMATED, PieceCache()).data) == (
        _sha(art.data)
    )


def test_sprite_strips_are_frames(tmp_path: Path) -> None:
    strip = Image.new("RGBA", (12, 4))
    for frame, colour in enumerate([(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)]):
        strip.paste(solid((4, 4), colour), (frame * 4, 0))
    write_layers(tmp_path, {"Bg": {"Blink.png": strip}})
    config = write_config(
        tmp_path,
        {
            "configurations": [
                {"grow_edition_size_to": 1, "layers": [{"name": "Bg", "sprite_frames": 3}]}
            ],
            "output": {"frame_duration_ms": 50},
        },
    )
    art = render_token(open_layer_set(config), 0, {"Bg": "Blink"}, PieceCache())
    with Image.open(io.BytesIO(art.data)) as gif:
        colours = []
        for index in range(gif.n_frames):
            gif.seek(index)
            colours.append(tuple(np.asarray(gif.convert("RGB"))[0, 0]))
    assert colours == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def test_output_format_and_background_follow_the_config(tmp_path: Path) -> None:
    top = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    top.putpixel((0, 0), (10, 20, 30, 255))
    write_layers(tmp_path, {"Top": {"t.png": top}})
    document = {
        "configurations": [{"grow_edition_size_to": 1, "layers": [{"name": "Top"}]}],
        "output": {"format": "png"},
    }
    art = render_token(
        open_layer_set(write_config(tmp_path, document)), 0, {"Top": "t"}, PieceCache()
    )
    pixels = decode_png(art.data)
    assert tuple(pixels[0, 0]) == (10, 20, 30, 255) and pixels[3, 3, 3] == 0  # kept transparent
    document["output"] = {"format": "png", "background": "#ff8000"}
    art = render_token(
        open_layer_set(write_config(tmp_path, document)), 0, {"Top": "t"}, PieceCache()
    )
    assert tuple(decode_png(art.data)[3, 3]) == (255, 128, 0, 255)
    document["output"] = {"format": "gif"}
    art = render_token(
        open_layer_set(write_config(tmp_path, document)), 0, {"Top": "t"}, PieceCache()
    )
    assert art.mime_type == "image/gif" and read_gif_structure(art.data).frames == 1


@pytest.mark.parametrize(
    ("traits", "message"),
    [
        (dict(STILL, Eyes="Googly"), "layer 'Eyes' has no trait 'Googly'"),
        ({k: v for k, v in STILL.items() if k != "Mouth"}, "traits give nothing for layer 'Mouth'"),
        (dict(STILL, Hat="Fez"), "traits name layer 'Hat'"),
    ],
)
def test_bad_traits_are_named(example_layers: Path, traits: dict[str, str], message: str) -> None:
    with pytest.raises(ArtInputError, match=message):
        render_token(open_layer_set(example_layers), 0, traits, PieceCache())


def test_a_request_without_traits_picks_them_from_its_hash(example_layers: Path) -> None:
    request = LayersRenderRequest(config="layers.json", hash=HASH, configuration=1)
    art = render_layers(request, example_layers)
    assert art.data == render_layers(request, example_layers).data
    other = render_layers(request.model_copy(update={"hash": token_hashes(1)[0]}), example_layers)
    assert other.data != art.data
    with pytest.raises(ArtInputError, match="configuration 5 does not exist"):
        render_layers(request.model_copy(update={"configuration": 5}), example_layers)


def test_the_piece_cache_stays_within_its_budget(example_layers: Path) -> None:
    layer_set = open_layer_set(example_layers)
    budget = 48 * 48 * 4 * 3  # room for three full-canvas pieces
    cache = PieceCache(max_bytes=budget)
    for token in plan_collection(layer_set, token_hashes(60)).tokens[:20]:
        render_token(layer_set, token.configuration, token.traits, cache)
        assert cache.bytes <= budget


def test_an_edited_config_is_read_again(tmp_path: Path) -> None:
    write_layers(tmp_path, {"Bg": {"a.png": solid((4, 4), (1, 2, 3, 255))}})
    document = {"configurations": [{"grow_edition_size_to": 1, "layers": [{"name": "Bg"}]}]}
    path = write_config(tmp_path, document)
    first, _ = opened_layer_set(path, 1 << 20)
    assert opened_layer_set(path, 1 << 20)[0] is first
    document["width"], document["height"] = 4, 4
    path.write_text(json.dumps(document))
    import os

    os.utime(path, ns=(1, 1))
    assert opened_layer_set(path, 1 << 20)[0] is not first
