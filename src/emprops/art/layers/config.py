"""The layers config file: which layer folders, in which order, with which blend, opacity and
weights, for which edition ranges, and the trait rules. HashLips' camelCase names are accepted
beside ours so an existing `config.js` translates line for line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from emprops.art.blend_modes import BlendMode, normalize_blend_mode
from emprops.art.errors import ArtInputError

MAX_EDITIONS = 1_000_000
MAX_CANVAS = 8192


def _blend_name(value: object) -> object:
    return normalize_blend_mode(value) if isinstance(value, str) else value


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class LayerSpec(BaseModel):
    """One layer of a configuration: a folder of trait images under `layers_dir`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/\\]+$")
    display_name: str | None = Field(
        default=None, max_length=200, validation_alias=_alias("display_name", "displayName")
    )
    blend: Annotated[BlendMode, BeforeValidator(_blend_name)] = "normal"
    opacity: float = Field(default=1.0, ge=0.0, le=1.0)
    in_dna: bool = Field(
        default=True,
        validation_alias=_alias("in_dna", "inDna"),
        description="False leaves the layer out of the uniqueness check (HashLips bypassDNA).",
    )
    weights: dict[str, float] = Field(
        default_factory=dict, description="Trait name -> weight; overrides the file name's weight."
    )
    sprite_frames: int = Field(
        default=1,
        ge=1,
        le=1000,
        validation_alias=_alias("sprite_frames", "spriteFrames"),
        description="Each image of this layer is a horizontal strip of this many frames.",
    )

    @field_validator("weights")
    @classmethod
    def _weights_not_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for trait, weight in value.items():
            if not weight >= 0:
                raise ValueError(f"weight of {trait!r} must be a number >= 0, got {weight}")
        return value

    @property
    def label(self) -> str:
        return self.display_name or self.name


class LayerConfiguration(BaseModel):
    """Layers for the editions up to `grow_edition_size_to` (after the previous configuration's)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    grow_edition_size_to: int = Field(
        ge=1, le=MAX_EDITIONS, validation_alias=_alias("grow_edition_size_to", "growEditionSizeTo")
    )
    layers: list[LayerSpec] = Field(
        min_length=1, max_length=64, validation_alias=_alias("layers", "layersOrder")
    )

    @field_validator("layers")
    @classmethod
    def _distinct_layers(cls, value: list[LayerSpec]) -> list[LayerSpec]:
        names = [layer.name for layer in value]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"layer {duplicated[0]!r} is listed twice")
        return value


TraitRef = Annotated[str, Field(pattern=r"^[^/]+/.+$", description="'Layer/Trait'")]


class TraitRule(BaseModel):
    """`trait` excludes every trait in `excludes`, and needs, for each layer named in `requires`,
    one of the traits listed for that layer."""

    model_config = ConfigDict(extra="forbid")

    trait: TraitRef
    excludes: list[TraitRef] = Field(default_factory=list)
    requires: list[TraitRef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_something(self) -> TraitRule:
        if not self.excludes and not self.requires:
            raise ValueError(f"rule for {self.trait!r} has neither excludes nor requires")
        own_layer = self.trait.split("/", 1)[0]
        for ref in self.requires:
            if ref.split("/", 1)[0] == own_layer:
                raise ValueError(f"rule for {self.trait!r} requires {ref!r} in its own layer")
        return self

    def __str__(self) -> str:
        parts = [f"excludes {', '.join(self.excludes)}"] if self.excludes else []
        parts += [f"requires {', '.join(self.requires)}"] if self.requires else []
        return f"{self.trait} {' and '.join(parts)}"


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["auto", "png", "gif"] = Field(
        default="auto", description="auto: GIF when a chosen trait is animated, else PNG."
    )
    frame_duration_ms: int = Field(default=100, ge=10, le=60_000)
    gif_dither: bool = False
    background: str | None = Field(
        default=None,
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="A solid colour drawn under the first layer.",
    )


class LayersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    version: Literal[1] = 1
    layers_dir: str = Field(
        default="layers",
        min_length=1,
        validation_alias=_alias("layers_dir", "layersDir"),
        description="Folder of layer folders, relative to the config file.",
    )
    rarity_delimiter: str = Field(
        default="#",
        min_length=1,
        max_length=3,
        validation_alias=_alias("rarity_delimiter", "rarityDelimiter"),
    )
    width: int | None = Field(default=None, ge=1, le=MAX_CANVAS)
    height: int | None = Field(default=None, ge=1, le=MAX_CANVAS)
    configurations: list[LayerConfiguration] = Field(
        min_length=1, validation_alias=_alias("configurations", "layerConfigurations")
    )
    rules: list[TraitRule] = Field(default_factory=list)
    shuffle_configurations: bool = Field(
        default=False,
        validation_alias=_alias("shuffle_configurations", "shuffleLayerConfigurations"),
    )
    output: OutputSpec = Field(default_factory=OutputSpec)

    @model_validator(mode="after")
    def _growing_ranges(self) -> LayersConfig:
        previous = 0
        for index, configuration in enumerate(self.configurations):
            if configuration.grow_edition_size_to <= previous:
                raise ValueError(
                    f"configurations[{index}].grow_edition_size_to must be greater than "
                    f"{previous} (the previous configuration's)"
                )
            previous = configuration.grow_edition_size_to
        if (self.width is None) != (self.height is None):
            raise ValueError("give both width and height, or neither")
        return self

    @property
    def edition_count(self) -> int:
        return self.configurations[-1].grow_edition_size_to

    def edition_ranges(self) -> list[range]:
        """Zero-based token indices each configuration covers, in order."""
        ranges, start = [], 0
        for configuration in self.configurations:
            ranges.append(range(start, configuration.grow_edition_size_to))
            start = configuration.grow_edition_size_to
        return ranges


def parse_layers_config(document: object, *, source: str = "layers config") -> LayersConfig:
    """Validate a config document; the error names the first wrong field and the source."""
    try:
        return LayersConfig.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise ArtInputError(
            f"{source}: {where}: {first['msg']}",
            details={"errors": exc.errors(include_url=False, include_context=False)},
        ) from None


def read_layers_config(path: Path) -> LayersConfig:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtInputError(f"layers config {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtInputError(f"layers config {path} is not readable JSON: {exc}") from None
    return parse_layers_config(document, source=str(path))
