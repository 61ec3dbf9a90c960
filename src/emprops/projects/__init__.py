"""Projects: a creator's folders of collections, with their change history."""

from emprops.projects.service import ProjectService

__all__ = ["ProjectService"]
