"""Inputs of the `animate` renderer and the palettes a hash picks from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Style = Literal["auto", "plasma", "orbits", "flow"]
STYLES: tuple[Style, ...] = ("plasma", "orbits", "flow")
HexColour = str

# Named palettes, dark to light; the hash picks one when the params give none.
PALETTES: dict[str, tuple[HexColour, ...]] = {
    "dusk": ("#0b1d51", "#725cff", "#ff6f91", "#ffc75f", "#f9f871"),
    "lagoon": ("#03045e", "#0077b6", "#00b4d8", "#90e0ef", "#caf0f8"),
    "moss": ("#081c15", "#1b4332", "#2d6a4f", "#52b788", "#d8f3dc"),
    "ember": ("#1a0000", "#6a040f", "#d00000", "#e85d04", "#ffba08"),
    "sherbet": ("#3d2c5e", "#e4c1f9", "#ff99c8", "#fcf6bd", "#d0f4de"),
    "graphite": ("#0d0d0d", "#3a3a3a", "#7a7a7a", "#c4c4c4", "#f5f5f5"),
    "arcade": ("#0d0221", "#261447", "#f6019d", "#ff3864", "#2de2e6"),
    "mesa": ("#283618", "#606c38", "#bc6c25", "#dda15e", "#fefae0"),
    "harbour": ("#011627", "#2ec4b6", "#e71d36", "#ff9f1c", "#fdfffc"),
    "heather": ("#22223b", "#4a4e69", "#9a8c98", "#c9ada7", "#f2e9e4"),
}


class AnimationParams(BaseModel):
    """What a collection sets; everything else (palette if not given, waves, orbits, particle
    starts) comes from the token hash."""

    model_config = ConfigDict(extra="forbid")

    style: Style = "auto"
    width: int = Field(default=512, ge=16, le=2048)
    height: int = Field(default=512, ge=16, le=2048)
    frames: int = Field(default=30, ge=1, le=600)
    fps: int = Field(default=15, ge=1, le=60)
    palette: list[HexColour] | str | None = Field(
        default=None, description="Colours (#rrggbb, 2–16) or a palette name; none: by hash."
    )
    complexity: int = Field(default=4, ge=1, le=12, description="Waves, bodies or field terms.")
    crf: int = Field(default=20, ge=0, le=51, description="MP4 quality (lower is better).")
    gif_dither: bool = False

    @model_validator(mode="after")
    def _palette_shape(self) -> AnimationParams:
        if isinstance(self.palette, str):
            if self.palette not in PALETTES:
                raise ValueError(
                    f"unknown palette {self.palette!r}; known: {', '.join(sorted(PALETTES))}"
                )
        elif self.palette is not None:
            if not 2 <= len(self.palette) <= 16:
                raise ValueError("a palette has 2 to 16 colours")
            for colour in self.palette:
                if not (len(colour) == 7 and colour[0] == "#" and _is_hex(colour[1:])):
                    raise ValueError(f"palette colour {colour!r} is not #rrggbb")
        return self


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


class AnimateRenderRequest(BaseModel):
    """One token of an `animate` collection, as a queue job carries it."""

    model_config = ConfigDict(extra="forbid")

    hash: str = Field(min_length=3, max_length=256)
    format: Literal["gif", "mp4"] = "gif"
    params: AnimationParams = Field(default_factory=AnimationParams)
