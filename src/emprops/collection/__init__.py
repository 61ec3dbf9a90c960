"""Collections: a creator's workflow (a v2 GenerationInput) with its steps and sale terms."""

from emprops.collection.service import CollectionService, find_component
from emprops.collection.stage import advance_stage

__all__ = ["CollectionService", "advance_stage", "find_component"]
