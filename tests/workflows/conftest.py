"""Shared documents for the workflows tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emprops.workflows import WorkflowCatalog, WorkflowDefinition, builtin_catalog

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples" / "generation_inputs" / "flux_portraits.json"
)
SPEC_HASH = "0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697"


@pytest.fixture
def example_document() -> dict[str, Any]:
    """A realistic collection: a fetch, a ComfyUI graph, an LLM caption and the layers renderer."""
    document: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return document


@pytest.fixture
def catalog() -> WorkflowCatalog:
    """Built-ins plus the registered workflows the example uses."""
    workflows = builtin_catalog()
    workflows.register(WorkflowDefinition(name="fetch-palette", type="fetch_api", service="http"))
    workflows.register(
        WorkflowDefinition(name="txt2img-flux", type="comfy_workflow", service="comfyui")
    )
    workflows.register(
        WorkflowDefinition(name="ollama-caption", type="direct_job", service="ollama")
    )
    return workflows


def variable(
    name: str,
    values: list[Any],
    *,
    weights: list[float] | None = None,
    lock: bool = False,
    test_value: Any = None,
) -> dict[str, Any]:
    """A variable document: weighted_pick when weights are given, else pick."""
    return {
        "name": name,
        "type": "weighted_pick" if weights is not None else "pick",
        "value_type": "strings",
        "value": {
            "display_names": [str(v).title() for v in values],
            "values": values,
            "weights": weights if weights is not None else [1] * len(values),
        },
        "lock_value": lock,
        "test_value": test_value,
    }


def document(
    steps: list[dict[str, Any]] | None = None,
    variables: list[dict[str, Any]] | None = None,
    generations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "version": "v2",
        "steps": steps or [],
        "generations": generations or {"hashes": [], "generations": 1, "use_custom_hashes": False},
        "variables": variables or [],
    }


def step(step_id: int, node_name: str = "layers", **payload: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "nodeName": node_name,
        "alias": None,
        "nodePayload": payload,
        "fromId": None,
        "isTest": False,
        "skip": False,
    }
