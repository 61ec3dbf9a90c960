"""The demo's layered art: the example collection's layers config grown to the demo's size, and
its trait images drawn once by the example's generator (nothing is downloaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from emprops.core.errors import UnavailableError


def example_dirs() -> list[Path]:
    """Where the example collection may live: beside this module in a built wheel (pyproject's
    force-include copies `examples/layers-collection` there), else the source checkout."""
    here = Path(__file__).resolve()
    return [here.parent / "layers-collection", here.parents[3] / "examples" / "layers-collection"]


def _example() -> Path:
    for directory in example_dirs():
        if (directory / "layers.json").is_file():
            return directory
    searched = ", ".join(str(d) for d in example_dirs())
    raise UnavailableError(f"the demo's example collection is missing (looked in {searched})")


def ensure_layers(demo_dir: Path, tokens: int, size: int = 384) -> Path:
    """Writes `demo_dir/layers.json` for `tokens` editions (a fifth with the glow layer) and the
    layer images beside it; returns the config's path."""
    example = _example()
    config = json.loads((example / "layers.json").read_text())
    first, second = config["configurations"][:2]
    first["grow_edition_size_to"] = max(1, tokens // 5)
    second["grow_edition_size_to"] = tokens
    config["configurations"] = [first, second]
    demo_dir.mkdir(parents=True, exist_ok=True)
    path = demo_dir / "layers.json"
    text = json.dumps(config, indent=2)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    layers = demo_dir / config.get("layers_dir", "layers")
    if not (layers / "Background").is_dir():
        done = subprocess.run(
            [sys.executable, str(example / "make_layers.py"), str(layers), "--size", str(size),
             "--with-extras"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise UnavailableError(f"drawing the demo's layers failed: {done.stderr.strip()}")
    return path


def collection_document(tokens: int, config: str = "demo/layers.json") -> dict[str, object]:
    """The example collection (one `layers` step) at the demo's size, its config named relative
    to the render workers' assets root (`<data_dir>/assets` for `emprops serve` and the demo)."""
    document: dict[str, object] = json.loads((_example() / "collection.json").read_text())
    steps = document["steps"]
    assert isinstance(steps, list)
    steps[0]["nodePayload"]["config"] = config
    document["generations"] = {"hashes": [], "generations": tokens, "use_custom_hashes": False}
    return document
