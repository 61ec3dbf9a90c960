"""Collections as workflows: the v2 GenerationInput, its seeded PRNG, references and validation."""

from emprops.workflows.catalog import (
    BUILTIN_WORKFLOWS,
    WorkflowCatalog,
    WorkflowDefinition,
    WorkflowType,
    builtin_catalog,
)
from emprops.workflows.errors import (
    GenerationInputInvalid,
    PromptDocumentError,
    RefResolutionError,
    ValidationProblem,
)
from emprops.workflows.generation_input import (
    VARIABLES_STEP_ID,
    VARIABLES_WORKFLOW,
    GenerationInput,
    GenerationsSpec,
    Variable,
    VariableScalar,
    VariableValue,
    WorkflowStep,
)
from emprops.workflows.preview import GenerationPreview, preview_generations
from emprops.workflows.prng import Pseudorandom
from emprops.workflows.prompt_document import (
    ComponentMention,
    is_prompt_document,
    prompt_component_mentions,
    prompt_variable_names,
    remap_prompt_components,
    render_prompt,
    render_prompt_document,
    render_prompt_fields,
    step_output_text,
    substitute_prompt,
)
from emprops.workflows.refs import (
    StepRef,
    apply_jq,
    dependency_order,
    find_refs,
    resolve_refs,
    resolve_step_payload,
    step_dependencies,
)
from emprops.workflows.remap import remap_component_ids
from emprops.workflows.seeding import (
    MAX_GENERATIONS,
    MAX_SEED,
    generation_hashes,
    generation_seed,
    is_well_formed_hash,
    random_hash,
)
from emprops.workflows.validation import (
    ValidationResult,
    parse_generation_input,
    validate_generation_input,
)
from emprops.workflows.variables import resolve_variables, variables_step_output

__all__ = [
    "BUILTIN_WORKFLOWS",
    "MAX_GENERATIONS",
    "MAX_SEED",
    "VARIABLES_STEP_ID",
    "VARIABLES_WORKFLOW",
    "ComponentMention",
    "GenerationInput",
    "GenerationInputInvalid",
    "GenerationPreview",
    "GenerationsSpec",
    "PromptDocumentError",
    "Pseudorandom",
    "RefResolutionError",
    "StepRef",
    "ValidationProblem",
    "ValidationResult",
    "Variable",
    "VariableScalar",
    "VariableValue",
    "WorkflowCatalog",
    "WorkflowDefinition",
    "WorkflowStep",
    "WorkflowType",
    "apply_jq",
    "builtin_catalog",
    "dependency_order",
    "find_refs",
    "generation_hashes",
    "generation_seed",
    "is_prompt_document",
    "is_well_formed_hash",
    "parse_generation_input",
    "preview_generations",
    "prompt_component_mentions",
    "prompt_variable_names",
    "random_hash",
    "remap_component_ids",
    "remap_prompt_components",
    "render_prompt",
    "render_prompt_document",
    "render_prompt_fields",
    "resolve_refs",
    "resolve_step_payload",
    "resolve_variables",
    "step_dependencies",
    "step_output_text",
    "substitute_prompt",
    "validate_generation_input",
    "variables_step_output",
]
