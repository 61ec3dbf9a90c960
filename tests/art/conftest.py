"""Layer sets for the renderer tests: the example collection's generator at a small size (real
art, real files), and tiny hand-made folders where a test needs to know every pixel."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "layers-collection"
HASH = "0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697"


def token_hashes(count: int, salt: str = "t") -> list[str]:
    import hashlib

    return ["0x" + hashlib.sha256(f"{salt}{i}".encode()).hexdigest() for i in range(count)]


@pytest.fixture(scope="session")
def example_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example collection's layer folders, generated at 48 px, beside a copy of its config."""
    root = tmp_path_factory.mktemp("example")
    subprocess.run(
        [
            sys.executable,
            str(EXAMPLE / "make_layers.py"),
            str(root / "layers"),
            "--size",
            "48",
            "--with-extras",
        ],
        check=True,
        capture_output=True,
    )
    (root / "layers.json").write_text((EXAMPLE / "layers.json").read_text())
    return root / "layers.json"


def solid(size: tuple[int, int], rgba: Sequence[int]) -> Image.Image:
    return Image.new("RGBA", size, tuple(rgba))


LayerFiles = Mapping[str, Mapping[str, Image.Image | Sequence[Image.Image]]]


def write_layers(root: Path, layers: LayerFiles) -> Path:
    """`{layer: {file or folder name: image, or list of frame images}}` under root/layers."""
    for layer, files in layers.items():
        folder = root / "layers" / layer
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            if isinstance(content, Image.Image):
                content.save(folder / name)
            else:
                (folder / name).mkdir()
                for index, frame in enumerate(content):
                    frame.save(folder / name / f"{index}.png")
    return root


def write_config(root: Path, config: dict[str, Any]) -> Path:
    path = root / "layers.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def grid_layers(tmp_path: Path) -> Callable[[list[int], dict[str, Any] | None], Path]:
    """A config over layers L0..Lk where layer i has `sizes[i]` traits T0.. (weight 1, 4×4
    solid colours); `extra` is merged into the config."""

    def build(sizes: list[int], extra: dict[str, Any] | None = None) -> Path:
        files: dict[str, dict[str, Image.Image | Sequence[Image.Image]]] = {}
        for layer, count in enumerate(sizes):
            files[f"L{layer}"] = {
                f"T{t}.png": solid((4, 4), (t * 40 % 256, layer * 60 % 256, 100, 255))
                for t in range(count)
            }
        write_layers(tmp_path, files)
        config: dict[str, Any] = {
            "configurations": [
                {
                    "grow_edition_size_to": 1,
                    "layers": [{"name": f"L{i}"} for i in range(len(sizes))],
                }
            ]
        }
        config.update(extra or {})
        return write_config(tmp_path, config)

    return build


def decode_png(data: bytes) -> np.ndarray:
    import io

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))
