"""Bad layer folders and configs fail with an EmpropsError that names the file, layer or field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.art import ArtInputError
from emprops.art.layers import PieceCache, open_layer_set, parse_layers_config, render_token
from emprops.art.layers.trait_catalog import parse_trait_name
from tests.art.conftest import solid, write_config, write_layers

ONE_LAYER: dict[str, Any] = {
    "configurations": [{"grow_edition_size_to": 2, "layers": [{"name": "Bg"}]}]
}


@given(
    name=st.text(st.characters(blacklist_characters="#/", blacklist_categories=["Cs"]), min_size=1)
    .map(str.strip)
    .filter(bool),
    weight=st.integers(0, 10**6),
)
def test_trait_file_names_give_name_and_weight(name: str, weight: int) -> None:
    assert parse_trait_name(f"{name}#{weight}", "#", Path("x")) == (name, float(weight))


def test_a_name_without_weight_weighs_one_and_the_last_delimiter_counts() -> None:
    assert parse_trait_name("Blue Sky", "#", Path("x")) == ("Blue Sky", 1.0)
    assert parse_trait_name("No#1 Fan#7.5", "#", Path("x")) == ("No#1 Fan", 7.5)


@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("Red#heavy.png", "must be a number, got 'heavy'"),
        ("Red#-3.png", "must be a number >= 0"),
        ("#5.png", "trait name before '#' is empty"),
    ],
)
def test_bad_file_names_are_named(tmp_path: Path, file_name: str, message: str) -> None:
    write_layers(tmp_path, {"Bg": {file_name: solid((4, 4), (1, 2, 3, 255))}})
    with pytest.raises(ArtInputError, match=message) as caught:
        open_layer_set(write_config(tmp_path, ONE_LAYER))
    assert file_name in caught.value.message


def test_a_file_that_is_not_an_image_is_named(tmp_path: Path) -> None:
    write_layers(tmp_path, {"Bg": {"Blue#1.png": solid((4, 4), (1, 2, 3, 255))}})
    (tmp_path / "layers" / "Bg" / "notes.txt").write_text("hello")
    with pytest.raises(ArtInputError, match=r"notes\.txt: not an image file"):
        open_layer_set(write_config(tmp_path, ONE_LAYER))


def test_a_png_that_does_not_decode_is_named(tmp_path: Path) -> None:
    write_layers(tmp_path, {"Bg": {"Blue#1.png": solid((4, 4), (1, 2, 3, 255))}})
    (tmp_path / "layers" / "Bg" / "Broken#1.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ArtInputError, match=r"Broken#1\.png is not a readable image"):
        open_layer_set(write_config(tmp_path, ONE_LAYER))


def test_hidden_files_are_skipped(tmp_path: Path) -> None:
    write_layers(tmp_path, {"Bg": {"Blue#1.png": solid((4, 4), (1, 2, 3, 255))}})
    (tmp_path / "layers" / "Bg" / ".DS_Store").write_bytes(b"\0\0")
    layer_set = open_layer_set(write_config(tmp_path, ONE_LAYER))
    assert [t.name for t in layer_set.configurations[0][0].traits] == ["Blue"]


def test_a_mismatched_size_names_the_file_and_both_sizes(tmp_path: Path) -> None:
    write_layers(
        tmp_path,
        {
            "Bg": {"Blue#1.png": solid((4, 4), (1, 2, 3, 255))},
            "Top": {"Hat#1.png": solid((4, 4), (0, 0, 0, 0)), "Big#1.png": solid((5, 4), (0,) * 4)},
        },
    )
    config = {
        "configurations": [{"grow_edition_size_to": 1, "layers": [{"name": "Bg"}, {"name": "Top"}]}]
    }
    with pytest.raises(ArtInputError, match=r"Big#1\.png is 5×4, but layer 'Top' needs 4×4"):
        open_layer_set(write_config(tmp_path, config))


def test_a_file_changed_after_planning_is_named_at_render(tmp_path: Path) -> None:
    write_layers(tmp_path, {"Bg": {"Blue#1.png": solid((4, 4), (1, 2, 3, 255))}})
    layer_set = open_layer_set(write_config(tmp_path, ONE_LAYER))
    solid((6, 6), (1, 2, 3, 255)).save(tmp_path / "layers" / "Bg" / "Blue#1.png")
    with pytest.raises(ArtInputError, match=r"Blue#1\.png is 6×6, but its layer needs 4×4"):
        render_token(layer_set, 0, {"Bg": "Blue"}, PieceCache())


def test_duplicate_trait_names_and_missing_folders_are_named(tmp_path: Path) -> None:
    write_layers(
        tmp_path,
        {"Bg": {"Blue#1.png": solid((4, 4), (1,) * 4), "Blue#9.png": solid((4, 4), (2,) * 4)}},
    )
    with pytest.raises(ArtInputError, match="trait 'Blue' is given twice"):
        open_layer_set(write_config(tmp_path, ONE_LAYER))
    config = {"configurations": [{"grow_edition_size_to": 1, "layers": [{"name": "Nope"}]}]}
    with pytest.raises(ArtInputError, match=r"layer 'Nope': folder .* does not exist"):
        open_layer_set(write_config(tmp_path, config))


def test_frame_folders_are_animated_traits_in_natural_order(tmp_path: Path) -> None:
    frames = [solid((4, 4), (i, 0, 0, 255)) for i in range(12)]
    write_layers(tmp_path, {"Bg": {"Pulse#2": frames}})
    trait = open_layer_set(write_config(tmp_path, ONE_LAYER)).configurations[0][0].traits[0]
    assert (trait.name, trait.file_weight) == ("Pulse", 2.0)
    assert [p.name for p in trait.frames] == [f"{i}.png" for i in range(12)]


def test_weights_in_the_config_must_name_real_traits(tmp_path: Path) -> None:
    write_layers(tmp_path, {"Bg": {"Blue#1.png": solid((4, 4), (1, 2, 3, 255))}})
    config = {
        "configurations": [
            {"grow_edition_size_to": 1, "layers": [{"name": "Bg", "weights": {"Bleu": 3}}]}
        ]
    }
    with pytest.raises(ArtInputError, match="weights name trait 'Bleu'"):
        open_layer_set(write_config(tmp_path, config))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"configurations": []}, "configurations"),
        (
            {
                "configurations": [
                    {"grow_edition_size_to": 5, "layers": [{"name": "A"}]},
                    {"grow_edition_size_to": 5, "layers": [{"name": "A"}]},
                ]
            },
            "must be greater than 5",
        ),
        (
            {
                "configurations": [
                    {"grow_edition_size_to": 1, "layers": [{"name": "A", "blend": "glow"}]}
                ]
            },
            "unknown blend mode 'glow'",
        ),
        (
            {
                "configurations": [
                    {"grow_edition_size_to": 1, "layers": [{"name": "A", "opacity": 2}]}
                ]
            },
            "opacity",
        ),
        (
            {
                "configurations": [{"grow_edition_size_to": 1, "layers": [{"name": "A"}]}],
                "rules": [{"trait": "A/x"}],
            },
            "neither excludes nor requires",
        ),
        (
            {
                "configurations": [{"grow_edition_size_to": 1, "layers": [{"name": "A"}]}],
                "colour": "red",
            },
            "colour",
        ),
    ],
)
def test_config_errors_name_the_field(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ArtInputError, match=message):
        parse_layers_config(document)


def test_hashlips_config_names_are_accepted() -> None:
    config = parse_layers_config(
        {
            "layerConfigurations": [
                {
                    "growEditionSizeTo": 10,
                    "layersOrder": [
                        {"name": "Background"},
                        {"name": "Eyes", "blend": "lighter", "opacity": 0.7, "displayName": "Look"},
                    ],
                }
            ],
            "shuffleLayerConfigurations": True,
            "rarityDelimiter": "#",
        }
    )
    eyes = config.configurations[0].layers[1]
    assert (eyes.blend, eyes.opacity, eyes.label) == ("add", 0.7, "Look")
    assert config.shuffle_configurations and config.edition_count == 10


def test_rules_must_name_real_traits(tmp_path: Path) -> None:
    write_layers(tmp_path, {"Bg": {"Blue#1.png": solid((4, 4), (1, 2, 3, 255))}})
    config = dict(ONE_LAYER, rules=[{"trait": "Bg/Blue", "excludes": ["Bg/Green"]}])
    with pytest.raises(ArtInputError, match="layer 'Bg' has no trait 'Green'"):
        open_layer_set(write_config(tmp_path, config))
