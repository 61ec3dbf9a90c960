"""A finished collection run made the way `emprops collection run` leaves it: outputs under
`generations/...` in the run folder and `manifest.json` written by the real `write_manifest`,
with picks from the real variables resolver. Images are small PNGs drawn from the picks."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from emprops.cli.collection_run import write_manifest
from emprops.storage import generation_output_path
from emprops.workflows import GenerationInput, resolve_variables
from emprops.workflows.engine import RunOutcome
from emprops.workflows.run_journal import RunRecords

RUN_ID = "run-fixture"
STEP_ID = 101
ANIMATION_STEP_ID = 102
COLORS = {"blue": (40, 80, 200), "gold": (220, 180, 40), "green": (40, 160, 80)}


def generation_input(count: int, *, animation: bool = False) -> GenerationInput:
    hashes = ["0x" + hashlib.sha256(f"fixture-{i}".encode()).hexdigest() for i in range(count)]
    extra = [{"id": ANIMATION_STEP_ID, "nodeName": "animate", "alias": "loop",
              "nodePayload": {"renderer": "animate", "format": "mp4"}}] if animation else []  # fmt: skip
    return GenerationInput.model_validate(
        {
            "version": "v2",
            "steps": [
                {"id": STEP_ID, "nodeName": "layers", "alias": "image",
                 "nodePayload": {"renderer": "layers", "config": "layers.json"}},
                *extra,
            ],
            "generations": {"hashes": hashes, "generations": count, "use_custom_hashes": True},
            "variables": [
                {"name": "background", "type": "weighted_pick", "value_type": "strings",
                 "value": {"display_names": ["Blue", "Gold", "Green"],
                           "values": ["blue", "gold", "green"], "weights": [60, 10, 30]}},
                {"name": "size", "type": "pick", "value_type": "integers",
                 "value": {"display_names": [], "values": [1, 2, 3], "weights": []}},
            ],
        }
    )  # fmt: skip


def draw_token(variables: dict[str, Any], index: int) -> bytes:
    image = Image.new("RGB", (24, 24), COLORS[str(variables["background"])])
    draw = ImageDraw.Draw(image)
    size = int(variables["size"]) * 3
    draw.rectangle((2, 2, 2 + size + index % 5, 2 + size), fill=(255, 255, 255))
    from io import BytesIO

    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_run(
    root: Path, count: int = 6, *, renderer_traits: bool = True, animation: bool = False
) -> Path:
    """Write the run folder `root` and return it. With `animation`, a second step makes a
    (stand-in) MP4 per token, its output carrying only a file:// `src`."""
    gi = generation_input(count, animation=animation)
    root.mkdir(parents=True, exist_ok=True)
    records = RunRecords()
    for g, hash_ in enumerate(gi.generations.hashes):
        variables = resolve_variables(gi.variables, hash_)
        data = draw_token(dict(variables), g)
        path = generation_output_path(
            user_id="local", run_id=RUN_ID, generation_index=g, step_id=STEP_ID,
            workflow_name="layers", ext="png",
        )  # fmt: skip
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        output: dict[str, Any] = {
            "src": target.resolve().as_uri(), "mimeType": "image/png", "path": path,
            "size": len(data), "frames": 1,
        }  # fmt: skip
        if renderer_traits:
            output["attributes"] = [
                {"trait_type": "Body", "value": ["Tan", "Robot"][g % 2]},
                {"trait_type": "Level", "value": g % 100 + 1, "display_type": "number",
                 "max_value": 100},
            ]  # fmt: skip
        records.outputs[(g, STEP_ID)] = output
        if animation:
            clip = root / f"generations/local/{RUN_ID}/{g}/{ANIMATION_STEP_ID}/animate.mp4"
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes([g]) * 64)
            records.outputs[(g, ANIMATION_STEP_ID)] = {
                "src": clip.resolve().as_uri(), "mimeType": "video/mp4", "frames": 30,
            }  # fmt: skip
    outcome = RunOutcome(
        run_id=RUN_ID, hashes=list(gi.generations.hashes), completed=list(range(count)),
        failed={}, records=records,
    )  # fmt: skip
    write_manifest(root, gi, outcome, {"layers": "render", "animate": "render"})
    return root


def image_path(run_dir: Path, generation: int) -> Path:
    return run_dir / generation_output_path(
        user_id="local", run_id=RUN_ID, generation_index=generation, step_id=STEP_ID,
        workflow_name="layers", ext="png",
    )  # fmt: skip
