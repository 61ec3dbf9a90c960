"""What is on disk: each layer folder's traits (`Name#weight.png`, or a folder of frames for an
animated trait), checked once so that planning and rendering can trust names, weights and sizes.

Only image headers are read here; pixels are decoded when a token needs them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from emprops.art.errors import ArtInputError

IMAGE_SUFFIXES = frozenset({".png", ".gif", ".webp", ".jpg", ".jpeg"})
_NUMBER_RUN = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Trait:
    layer: str
    name: str
    file_weight: float
    # One path for a still (or a sprite strip), the frames in order for a frame folder.
    frames: tuple[Path, ...]

    @property
    def source(self) -> Path:
        """The file or folder the trait came from, for error messages."""
        return self.frames[0] if len(self.frames) == 1 else self.frames[0].parent


@dataclass(frozen=True)
class LayerFolder:
    name: str
    path: Path
    traits: tuple[Trait, ...]

    def trait(self, name: str) -> Trait:
        for trait in self.traits:
            if trait.name == name:
                return trait
        known = ", ".join(t.name for t in self.traits)
        raise ArtInputError(f"layer {self.name!r} has no trait {name!r}; it has: {known}")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort `frame2` before `frame10`."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in _NUMBER_RUN.split(name)
        if part
    )


def parse_trait_name(stem: str, delimiter: str, where: Path) -> tuple[str, float]:
    """`Name#weight` -> (name, weight); a name without the delimiter weighs 1 (as in HashLips)."""
    if delimiter not in stem:
        name, weight = stem, 1.0
    else:
        name, _, raw = stem.rpartition(delimiter)
        try:
            weight = float(raw)
        except ValueError:
            raise ArtInputError(
                f"{where}: the weight after {delimiter!r} must be a number, got {raw!r}"
            ) from None
        if not math.isfinite(weight) or weight < 0:
            raise ArtInputError(f"{where}: the weight must be a number >= 0, got {raw!r}")
    name = name.strip()
    if not name:
        raise ArtInputError(f"{where}: the trait name before {delimiter!r} is empty")
    if "/" in name:
        raise ArtInputError(f"{where}: a trait name cannot contain '/'")
    return name, weight


def image_size(path: Path) -> tuple[int, int]:
    """Width and height from the header; a clear error for a file that is not an image."""
    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ArtInputError(f"{path} is not a readable image ({exc})") from None


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _frame_files(folder: Path) -> tuple[Path, ...]:
    frames = []
    for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith("."):
            continue
        if not entry.is_file() or not _is_image_name(entry):
            raise ArtInputError(
                f"{entry}: a frame folder holds only images ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        frames.append(entry)
    if not frames:
        raise ArtInputError(f"{folder}: the frame folder is empty")
    return tuple(frames)


def scan_layer_folder(layer: str, path: Path, delimiter: str) -> LayerFolder:
    """Every trait of one layer folder, sorted by file name; hidden files are skipped."""
    if not path.is_dir():
        raise ArtInputError(f"layer {layer!r}: folder {path} does not exist")
    traits: dict[str, Trait] = {}
    for entry in sorted(path.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            name, weight = parse_trait_name(entry.name, delimiter, entry)
            frames = _frame_files(entry)
        elif entry.is_file() and _is_image_name(entry):
            name, weight = parse_trait_name(entry.stem, delimiter, entry)
            frames = (entry,)
        else:
            raise ArtInputError(
                f"{entry}: not an image file; a layer folder holds "
                f"{', '.join(sorted(IMAGE_SUFFIXES))} files or folders of frames"
            )
        if name in traits:
            raise ArtInputError(
                f"layer {layer!r}: trait {name!r} is given twice, by {traits[name].source.name} "
                f"and {entry.name}"
            )
        traits[name] = Trait(layer=layer, name=name, file_weight=weight, frames=frames)
    if not traits:
        raise ArtInputError(f"layer {layer!r}: folder {path} holds no trait images")
    return LayerFolder(name=layer, path=path, traits=tuple(traits.values()))


def check_trait_sizes(folder: LayerFolder, size: tuple[int, int], sprite_frames: int) -> None:
    """Every image of the layer must be the canvas size (a sprite strip: `sprite_frames` wide)."""
    width, height = size
    expected = (width * sprite_frames, height)
    for trait in folder.traits:
        for frame in trait.frames:
            actual = image_size(frame)
            if actual != expected:
                what = (
                    f"{sprite_frames} frames of {width}×{height}"
                    if sprite_frames > 1
                    else (f"{width}×{height}")
                )
                raise ArtInputError(
                    f"{frame} is {actual[0]}×{actual[1]}, but layer {folder.name!r} needs "
                    f"{expected[0]}×{expected[1]} ({what})",
                    details={"file": str(frame), "size": list(actual), "expected": list(expected)},
                )
