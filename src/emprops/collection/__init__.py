"""Collections: a creator's workflow (a v2 GenerationInput) with its steps and sale terms."""

from emprops.collection.service import CollectionService, find_component

__all__ = ["CollectionService", "find_component"]
