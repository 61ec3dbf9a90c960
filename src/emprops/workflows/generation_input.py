"""The v2 GenerationInput: a collection's workflow, kept exactly as the original platform wrote it.

Field names stay as in the format (camelCase where it has them) through aliases, so an exported
document parses here and dumps back to the same JSON. The structure is strict (unknown keys are
refused); only `nodePayload` is free-form JSON, since each workflow defines its own inputs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    model_serializer,
)

# The original platform gave the implicit variables step this component id; `$ref`s to it in
# exported collections must keep working, so no declared step may use it.
VARIABLES_STEP_ID = 953
VARIABLES_WORKFLOW = "variables"

VariableScalar = str | int | float
Weight = int | float

_MODEL_CONFIG = ConfigDict(
    extra="forbid",
    strict=True,
    validate_by_alias=True,
    validate_by_name=True,
    serialize_by_alias=True,
)


class WorkflowStep(BaseModel):
    """One step: run workflow `nodeName` with `nodePayload` (which may hold `$ref`s)."""

    model_config = _MODEL_CONFIG

    id: int
    node_name: str = Field(alias="nodeName")
    node_payload: dict[str, JsonValue] = Field(alias="nodePayload", default_factory=dict)
    alias: str | None = None
    from_id: int | None = Field(default=None, alias="fromId")
    is_test: bool = Field(default=False, alias="isTest")
    skip: bool = False
    # Written by the original editor for component tests; kept so its exports still import.
    test_value: dict[str, JsonValue] | None = Field(
        default=None, alias="testValue", exclude_if=lambda v: v is None
    )


class GenerationsSpec(BaseModel):
    """How many generations, and which hashes seed them.

    As on the original platform, non-empty `hashes` are the run's hashes whatever
    `use_custom_hashes` says (kept only so documents dump back unchanged); without hashes,
    `generations` random ones are made.
    """

    model_config = _MODEL_CONFIG

    hashes: list[str] = Field(default_factory=list)
    generations: int
    use_custom_hashes: bool = False

    @property
    def has_custom_hashes(self) -> bool:
        """The run uses `hashes` as given (their number fixes how many generations)."""
        return bool(self.hashes)


class VariableValue(BaseModel):
    model_config = _MODEL_CONFIG

    display_names: list[str] = Field(default_factory=list)
    values: list[VariableScalar] = Field(default_factory=list)
    weights: list[Weight] = Field(default_factory=list)


ValueType = Literal["strings", "images", "text", "video", "live_artifact", "integers"]


_METADATA_KEYS = frozenset({"is_feature", "feature_name", "use_display_name"})


class Variable(BaseModel):
    """A named random choice, drawn once per generation by the variables step."""

    model_config = _MODEL_CONFIG

    name: str
    type: Literal["pick", "weighted_pick"]
    value_type: ValueType = "strings"
    value: VariableValue
    lock_value: bool = False
    test_value: VariableScalar | None = None
    # Token metadata, as the original editor writes them: when any variable of a document is a
    # feature, only features become attributes, named `feature_name` (else the variable name).
    is_feature: bool = False
    feature_name: str | None = None
    # Show the display name (true) or the raw value (false); None (not written, as in our older
    # documents) shows the display name when the value has one.
    use_display_name: bool | None = None

    @model_serializer(mode="wrap")
    def _keep_absent_metadata_keys_absent(
        self, handler: SerializerFunctionWrapHandler
    ) -> dict[str, Any]:
        """Documents without the metadata keys (ours, older ones) dump back without them."""
        dumped: dict[str, Any] = handler(self)
        for key in _METADATA_KEYS - self.model_fields_set:
            dumped.pop(key, None)
        return dumped

    @property
    def is_locked(self) -> bool:
        """Locked with a test value: the value is forced and nothing is drawn."""
        return self.lock_value and self.test_value is not None


class GenerationInput(BaseModel):
    """A collection's `data`: steps, generations and variables."""

    model_config = _MODEL_CONFIG

    version: Literal["v2"]
    steps: list[WorkflowStep] = Field(default_factory=list)
    generations: GenerationsSpec
    variables: list[Variable] = Field(default_factory=list)

    def to_document(self) -> dict[str, JsonValue]:
        """The JSON document to store or export; keys left out on input stay left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def step(self, step_id: int) -> WorkflowStep | None:
        return next((s for s in self.steps if s.id == step_id), None)
