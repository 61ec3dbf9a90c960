"""The demo's AI collection (`emprops demo --comfyui URL`): our `tinted-square` component (a
weight-free ComfyUI graph, in the original platform's format, shipped in `components/`), imported
through `POST /workflows/import`, and a collection whose one step names it, its colour and blend
fed by picked variables (their display names become the tokens' traits)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emprops.demo.journey import DemoCollection

COMPONENTS = Path(__file__).resolve().parent / "components"
COMPONENT = "tinted-square"
# The graph inverts its colour, then blends blue over it: each tint goes in inverted.
TINTS = {"Coral": 0xFF7F50, "Teal": 0x008080, "Gold": 0xFFD700, "Violet": 0x8F00FF,
         "Lime": 0x32CD32, "Rose": 0xFF0080}  # fmt: skip
BLENDS = {"Soft": 0.25, "Even": 0.5, "Strong": 0.75}


def component_import() -> dict[str, Any]:
    """The `POST /workflows/import` body for the demo component and its option lists."""
    files: dict[str, Any] = {}
    for path in sorted((COMPONENTS / COMPONENT).iterdir()):
        text = path.read_text()
        files[path.name] = text if path.suffix == ".js" else json.loads(text)
    confs = {p.name: json.loads(p.read_text()) for p in (COMPONENTS / "_form_confs").iterdir()}
    return {"components": [{"name": COMPONENT, "files": files}], "form_confs": confs}


def ai_collection(tokens: int) -> DemoCollection:
    document: dict[str, Any] = {
        "version": "v2",
        "steps": [
            {"id": 1, "nodeName": COMPONENT, "alias": "art",
             "nodePayload": {"color": {"$ref": 953, "path": ".data.tint", "tag": "vars"},
                             "blend": {"$ref": 953, "path": ".data.blend", "tag": "vars"},
                             "size": 256, "method": "bilinear"}},
        ],
        "generations": {"hashes": [], "generations": tokens, "use_custom_hashes": False},
        "variables": [
            {"name": "tint", "type": "pick", "value_type": "integers",
             "value": {"display_names": list(TINTS), "values": [0xFFFFFF ^ c for c in TINTS.values()],
                       "weights": [1] * len(TINTS)}},
            {"name": "blend", "type": "pick", "value_type": "strings",
             "value": {"display_names": list(BLENDS), "values": list(BLENDS.values()),
                       "weights": [1] * len(BLENDS)}},
        ],
    }  # fmt: skip
    return DemoCollection(
        title="EmProps Demo Tinted Squares",
        description=f"{tokens} tinted squares rendered by ComfyUI for `emprops demo --comfyui`.",
        document=document,
        symbol="EMPTINT",
        steps=f"one `{COMPONENT}` ComfyUI step",
        components=component_import(),
    )
