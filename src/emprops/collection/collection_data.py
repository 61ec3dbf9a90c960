"""A collection's `data`: where a new one comes from, how it is checked, how its ids are renewed.

Every write of `data` is checked against the workflow catalog (built-ins plus the registered
workflows its steps name) and every problem is reported at once. A new collection's steps get
fresh component ids, so a copy never shares ids with its source; `fromId` keeps the old ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emprops.components.service import load_workflow_catalog
from emprops.core.errors import InvalidInputError
from emprops.workflows import (
    VARIABLES_STEP_ID,
    GenerationInput,
    GenerationInputInvalid,
    ValidationProblem,
    is_well_formed_hash,
    remap_component_ids,
    validate_generation_input,
)

# Step ids live in an INTEGER column; fresh ones start above the small hand-written ids (and
# above the variables step's reserved id, 953) so they read as generated.
MIN_FRESH_ID, MAX_STEP_ID = 1_000, 2**31 - 1
MAX_ALIAS = 200
_STEP_KEYS = ("id", "nodeName", "nodePayload", "alias")
_system_random = random.SystemRandom()


def empty_document() -> dict[str, Any]:
    """The smallest valid v2 GenerationInput: no steps, one generation."""
    return {
        "version": "v2",
        "steps": [],
        "generations": {"hashes": [], "generations": 1, "use_custom_hashes": False},
        "variables": [],
    }


def document_from_asset_inputs(gen_in_data: Any) -> Any:
    """The GenerationInput an asset's recorded inputs describe (validated by the caller)."""
    if not isinstance(gen_in_data, dict):
        raise InvalidInputError("this asset has no recorded inputs to start a collection from")
    if "version" in gen_in_data:
        return gen_in_data
    if isinstance(gen_in_data.get("generation_input"), dict):
        return gen_in_data["generation_input"]
    step = _recorded_step(gen_in_data)
    hash_ = gen_in_data.get("hash")
    seeded = isinstance(hash_, str) and is_well_formed_hash(hash_)
    return {
        "version": "v2",
        "steps": [step],
        "generations": {
            "hashes": [hash_] if seeded else [],
            "generations": 1,
            "use_custom_hashes": seeded,
        },
        "variables": [],
    }


def _recorded_step(gen_in_data: dict[str, Any]) -> dict[str, Any]:
    """The step an asset's inputs describe: as the generation run records it (`workflow`,
    `payload`, `step_id`), or in the format's own shape (`nodeName`...), bare or under `step`."""
    if isinstance(gen_in_data.get("workflow"), str):
        step_id = gen_in_data.get("step_id")
        usable = (
            type(step_id) is int and 0 < step_id <= MAX_STEP_ID and step_id != VARIABLES_STEP_ID
        )
        return {
            "id": step_id if usable else 1,  # only `fromId` keeps it: the copy gets a fresh id
            "nodeName": gen_in_data["workflow"],
            "nodePayload": gen_in_data.get("payload") or {},
        }
    step = gen_in_data.get("step", gen_in_data)
    if not isinstance(step, dict) or "nodeName" not in step:
        raise InvalidInputError(
            "the asset's inputs hold neither a GenerationInput nor a step "
            "(workflow and payload, or nodeName and nodePayload)"
        )
    return {"id": 1, **{k: step[k] for k in _STEP_KEYS if k in step}}


def _named_workflows(document: Any) -> set[str]:
    steps = document.get("steps") if isinstance(document, dict) else None
    if not isinstance(steps, list):
        return set()
    return {
        s["nodeName"] for s in steps if isinstance(s, dict) and isinstance(s.get("nodeName"), str)
    }


def _storage_problems(model: GenerationInput, check_ids: bool) -> list[ValidationProblem]:
    """What the format allows but our columns cannot hold."""
    problems = []
    for i, step in enumerate(model.steps):
        if check_ids and not 0 <= step.id <= MAX_STEP_ID:
            problems.append(
                ValidationProblem(
                    path=f"steps[{i}].id", message=f"step ids must be within 0..{MAX_STEP_ID}"
                )
            )
        if step.alias is not None and len(step.alias) > MAX_ALIAS:
            problems.append(
                ValidationProblem(
                    path=f"steps[{i}].alias", message=f"at most {MAX_ALIAS} characters"
                )
            )
    return problems


async def checked_generation_input(
    session: AsyncSession, document: Any, *, fresh_ids: bool
) -> GenerationInput:
    """The validated model (with fresh step ids when asked), or GenerationInputInvalid listing
    every problem with its path."""
    catalog = await load_workflow_catalog(session, _named_workflows(document))
    result = validate_generation_input(document, catalog)
    problems = list(result.problems)
    if result.generation_input is not None:
        problems += _storage_problems(result.generation_input, check_ids=not fresh_ids)
    if result.generation_input is None or any(p.severity == "error" for p in problems):
        raise GenerationInputInvalid(problems)
    model = result.generation_input
    if fresh_ids:
        model = remap_component_ids(model, fresh_step_ids(s.id for s in model.steps))
    return model


def fresh_step_ids(old_ids: Iterable[int]) -> dict[int, int]:
    """A new, distinct id for each old one (old -> new); never the variables step's id."""
    old = list(dict.fromkeys(old_ids))
    new = _system_random.sample(range(MIN_FRESH_ID, MAX_STEP_ID + 1), len(old))
    return dict(zip(old, new, strict=True))
