"""A token's traits: what the renderer picked (its step output's `attributes` list or `traits`
map) and the collection's resolved variables (its features, shown by their display names unless
told otherwise). Where both name the same trait type, the renderer's pick wins: it is what the
image shows."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from emprops.metadata.errors import MetadataProblem
from emprops.metadata.token_metadata import Attribute, AttributeValue
from emprops.workflows import Variable


def _scalar(value: Any) -> AttributeValue | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return value
    return None


def attributes_from_variables(
    values: Mapping[str, Any],
    declared: Sequence[Variable],
    *,
    include: Collection[str] | None = None,
) -> list[Attribute]:
    """One attribute per declared variable (declaration order) that has a scalar value.

    As on the original platform: when any variable is marked `is_feature`, only those become
    attributes, and `feature_name` (when set) names the trait. A value listed among the
    variable's choices shows its display name when it has one, unless `use_display_name` is
    false (then the raw value); `include` further limits them by variable name.
    """
    features_only = any(variable.is_feature for variable in declared)
    attributes: list[Attribute] = []
    for variable in declared:
        if include is not None and variable.name not in include:
            continue
        if features_only and not variable.is_feature:
            continue
        value = _scalar(values.get(variable.name))
        if value is None:
            continue
        display: AttributeValue = value
        if variable.use_display_name is not False:
            display = _display_name(variable, value) or value
        trait_type = variable.feature_name or variable.name
        attributes.append(Attribute(trait_type=trait_type, value=display))
    return attributes


def _display_name(variable: Variable, value: AttributeValue) -> str | None:
    """The display name of one of the variable's choices, or None when it has none."""
    choices = variable.value
    if value not in choices.values:
        return None
    i = choices.values.index(value)
    return choices.display_names[i] if i < len(choices.display_names) else None


def attributes_from_output(
    output: Mapping[str, Any], token_id: int, where: str
) -> tuple[list[Attribute], list[MetadataProblem]]:
    """Traits a renderer put in its step output: `attributes` ([{trait_type, value, ...}], the
    ERC-721 shape) or `traits` ({trait type: value})."""
    problems: list[MetadataProblem] = []
    attributes: list[Attribute] = []
    raw = output.get("attributes")
    if raw is not None:
        if not isinstance(raw, list):
            problem = MetadataProblem(
                token=token_id, field=f"{where}.attributes", message="is not a list"
            )
            return [], [problem]
        for i, item in enumerate(raw):
            try:
                attributes.append(Attribute.model_validate(item))
            except ValidationError as exc:
                first = exc.errors()[0]
                problems.append(
                    MetadataProblem(
                        token=token_id,
                        field=f"{where}.attributes[{i}]",
                        message=f"not an attribute ({first['msg']})",
                    )
                )
        return attributes, problems
    traits = output.get("traits")
    if traits is None:
        return [], []
    if not isinstance(traits, Mapping):
        return [], [MetadataProblem(token=token_id, field=f"{where}.traits", message="not a map")]
    for name, value in traits.items():
        scalar = _scalar(value)
        if scalar is None:
            problems.append(
                MetadataProblem(
                    token=token_id, field=f"{where}.traits.{name}", message="is not a scalar"
                )
            )
            continue
        attributes.append(Attribute(trait_type=str(name), value=scalar))
    return attributes, problems


def merge_attributes(
    picked: Sequence[Attribute], variables: Sequence[Attribute]
) -> list[Attribute]:
    """Renderer picks first, then variables whose trait type the renderer did not set."""
    seen = {a.trait_type for a in picked}
    return [*picked, *(a for a in variables if a.trait_type not in seen)]
