"""A layers config joined to its folders: every name, weight, size and rule checked together, so
planning and rendering never meet a half-valid layer set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emprops.art.errors import ArtInputError
from emprops.art.layers.config import LayersConfig, LayerSpec, TraitRule, read_layers_config
from emprops.art.layers.trait_catalog import (
    LayerFolder,
    Trait,
    check_trait_sizes,
    image_size,
    scan_layer_folder,
)


@dataclass(frozen=True)
class ConfiguredLayer:
    """A layer as one configuration uses it: its folder and each trait's effective weight."""

    spec: LayerSpec
    folder: LayerFolder
    weights: tuple[float, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def traits(self) -> tuple[Trait, ...]:
        return self.folder.traits

    def trait_index(self, name: str) -> int:
        for index, trait in enumerate(self.folder.traits):
            if trait.name == name:
                return index
        return -1


@dataclass(frozen=True)
class LayerSet:
    config: LayersConfig
    root: Path
    size: tuple[int, int]
    configurations: tuple[tuple[ConfiguredLayer, ...], ...]

    def configuration(self, index: int) -> tuple[ConfiguredLayer, ...]:
        if not 0 <= index < len(self.configurations):
            raise ArtInputError(
                f"configuration {index} does not exist; the layer config has "
                f"{len(self.configurations)}"
            )
        return self.configurations[index]


def _configured(spec: LayerSpec, folder: LayerFolder) -> ConfiguredLayer:
    names = {trait.name for trait in folder.traits}
    unknown = sorted(set(spec.weights) - names)
    if unknown:
        raise ArtInputError(
            f"layer {spec.name!r}: weights name trait {unknown[0]!r}, which is not in "
            f"{folder.path}; traits there: {', '.join(sorted(names))}"
        )
    weights = tuple(spec.weights.get(t.name, t.file_weight) for t in folder.traits)
    if sum(weights) <= 0:
        raise ArtInputError(f"layer {spec.name!r}: every trait has weight 0")
    return ConfiguredLayer(spec=spec, folder=folder, weights=weights)


def _canvas_size(config: LayersConfig, first: ConfiguredLayer) -> tuple[int, int]:
    if config.width is not None and config.height is not None:
        return config.width, config.height
    path = first.traits[0].frames[0]
    width, height = image_size(path)
    frames = first.spec.sprite_frames
    if width % frames:
        raise ArtInputError(f"{path} is {width} wide, not a multiple of its {frames} sprite frames")
    return width // frames, height


def _check_rule(rule: TraitRule, folders: dict[str, LayerFolder]) -> None:
    for ref in [rule.trait, *rule.excludes, *rule.requires]:
        layer, _, trait = ref.partition("/")
        if layer not in folders:
            raise ArtInputError(f"rule {rule}: no configuration has a layer {layer!r}")
        if trait not in {t.name for t in folders[layer].traits}:
            raise ArtInputError(f"rule {rule}: layer {layer!r} has no trait {trait!r}")


def build_layer_set(config: LayersConfig, root: Path) -> LayerSet:
    """Scan every layer folder the config names (each once) and check everything against it."""
    layers_dir = (root / config.layers_dir).resolve()
    folders: dict[str, LayerFolder] = {}
    sprite_frames: dict[str, int] = {}
    configurations: list[tuple[ConfiguredLayer, ...]] = []
    for index, configuration in enumerate(config.configurations):
        configured = []
        for spec in configuration.layers:
            if spec.name not in folders:
                folders[spec.name] = scan_layer_folder(
                    spec.name, layers_dir / spec.name, config.rarity_delimiter
                )
            if sprite_frames.setdefault(spec.name, spec.sprite_frames) != spec.sprite_frames:
                raise ArtInputError(
                    f"configurations[{index}]: layer {spec.name!r} has sprite_frames "
                    f"{spec.sprite_frames} here but {sprite_frames[spec.name]} elsewhere"
                )
            configured.append(_configured(spec, folders[spec.name]))
        configurations.append(tuple(configured))
    size = _canvas_size(config, configurations[0][0])
    for name, folder in folders.items():
        check_trait_sizes(folder, size, sprite_frames[name])
    for rule in config.rules:
        _check_rule(rule, folders)
    return LayerSet(config=config, root=root, size=size, configurations=tuple(configurations))


def open_layer_set(config_path: Path) -> LayerSet:
    """Read a layers config file; `layers_dir` is relative to the file's folder."""
    config = read_layers_config(config_path)
    return build_layer_set(config, config_path.resolve().parent)
