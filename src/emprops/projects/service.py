"""Projects: create, change, archive, each change recorded in the history. Never commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from emprops.core.errors import NotFoundError
from emprops.db.models import Project, ProjectHistory, User
from emprops.projects.repository import ProjectRepository
from emprops.projects.schemas import ProjectCreate, ProjectUpdate


class ProjectService:
    def __init__(self, repository: ProjectRepository) -> None:
        self.repo = repository

    async def _record(
        self, user: User, project: Project, action: str, data: dict[str, Any]
    ) -> None:
        await self.repo.add(
            ProjectHistory(
                id=uuid.uuid4(), project_id=project.id, user_id=user.id, action=action, data=data
            )
        )

    async def create(self, user: User, body: ProjectCreate) -> Project:
        project = Project(id=uuid.uuid4(), user_id=user.id, **body.model_dump())
        await self.repo.add(project)
        await self._record(user, project, "created", body.model_dump())
        return project

    async def get(self, user: User, project_id: uuid.UUID) -> Project:
        """The user's project; another user's is reported as missing, not forbidden."""
        project = await self.repo.get_owned(user.id, project_id)
        if project is None:
            raise NotFoundError("project not found", details={"id": str(project_id)})
        return project

    async def list_projects(
        self, user: User, *, include_archived: bool = False, limit: int = 50, offset: int = 0
    ) -> list[Project]:
        return await self.repo.list_owned(
            user.id, include_archived=include_archived, limit=limit, offset=offset
        )

    async def update(self, user: User, project_id: uuid.UUID, body: ProjectUpdate) -> Project:
        project = await self.get(user, project_id)
        changes = body.model_dump(exclude_unset=True)
        for field, value in changes.items():
            if field == "name" and value is None:
                continue
            setattr(project, field, value)
        project.updated_at = datetime.now(UTC)
        await self.repo.session.flush()
        await self._record(user, project, "updated", changes)
        return project

    async def archive(self, user: User, project_id: uuid.UUID) -> Project:
        project = await self.get(user, project_id)
        if project.archived_at is None:
            project.archived_at = datetime.now(UTC)
            await self._record(user, project, "archived", {})
        return project

    async def history(self, user: User, project_id: uuid.UUID) -> list[ProjectHistory]:
        project = await self.get(user, project_id)
        return await self.repo.history(project.id)
