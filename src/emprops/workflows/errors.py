"""Errors of the workflows domain: a document that does not validate, a reference that fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from emprops.core.errors import InvalidInputError

Severity = Literal["error", "warning"]


class ValidationProblem(BaseModel):
    """One thing wrong with a document, and where (`steps[2].nodePayload.seed_from.$ref`)."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.path or '(document)'}: {self.message}"


class GenerationInputInvalid(InvalidInputError):
    """A GenerationInput with errors; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[ValidationProblem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{errors[0].path or '(document)'}: {errors[0].message}" if errors else "invalid"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            f"invalid GenerationInput: {head}{more}",
            details={"problems": [p.model_dump() for p in self.problems]},
        )


class RefResolutionError(InvalidInputError):
    """A `$ref` could not be resolved against the outputs at run time."""


class PromptDocumentError(InvalidInputError):
    """A prompt_editor value that is not a prompt document."""
