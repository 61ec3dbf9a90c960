"""Step planners: work done once per run, across all generations, before their jobs are queued.

The layered-trait renderer needs this: exact rarity and uniqueness are properties of the whole
collection, not of one token. Planners are pure functions of the step and the run's hashes, so a
resumed run plans exactly as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emprops.workflows.engine import StepPlanner
from emprops.workflows.errors import RefResolutionError
from emprops.workflows.generation_input import WorkflowStep


def plan_layers(step: WorkflowStep, hashes: list[str]) -> list[dict[str, Any]]:
    """Each token's layer configuration and traits (read where the layers config is)."""
    from emprops.art import open_layer_set, plan_collection  # only runs that use layers need it

    config = step.node_payload.get("config")
    if not isinstance(config, str) or not config:
        raise RefResolutionError(
            f"step {step.id} (layers): nodePayload.config must name a layers config"
        )
    plan = plan_collection(open_layer_set(Path(config)), hashes)
    return [{"configuration": t.configuration, "traits": t.traits} for t in plan.tokens]


STEP_PLANNERS: dict[str, StepPlanner] = {"layers": plan_layers}


def rooted_planners(assets_root: Path) -> dict[str, StepPlanner]:
    """Planners for a process whose layer art lives under `assets_root` (the API's, the same
    root its render workers read). A config not found there is not planned here (None): its
    render jobs then pick traits from the hash, as a worker-only setup does."""

    def plan_rooted_layers(step: WorkflowStep, hashes: list[str]) -> list[dict[str, Any]] | None:
        config = step.node_payload.get("config")
        if not isinstance(config, str) or not config:
            return plan_layers(step, hashes)  # the error names what is missing
        path = (assets_root / config).resolve()
        if not path.is_relative_to(assets_root.resolve()) or not path.is_file():
            return None
        return plan_layers(
            step.model_copy(update={"node_payload": {**step.node_payload, "config": str(path)}}),
            hashes,
        )

    return {"layers": plan_rooted_layers}
