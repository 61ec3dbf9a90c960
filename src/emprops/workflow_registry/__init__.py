"""Registered workflows: ComfyUI graphs, direct queue jobs and HTTP APIs a step can name."""

from emprops.workflow_registry.service import (
    BUILTIN_NAMES,
    WorkflowRegistryService,
    load_workflow_catalog,
)

__all__ = ["BUILTIN_NAMES", "WorkflowRegistryService", "load_workflow_catalog"]
