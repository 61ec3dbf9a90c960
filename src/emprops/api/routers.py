"""Every domain's router, in one list (add a line per domain)."""

from fastapi import APIRouter

from emprops.assets.endpoints import router as assets_router
from emprops.auth.endpoints import router as auth_router
from emprops.collection.endpoints import router as collection_router
from emprops.components.endpoints import router as components_router
from emprops.credits.endpoints import router as credits_router
from emprops.generations.endpoints import router as generations_router
from emprops.indexer.endpoints import router as indexer_router
from emprops.observability.endpoints import router as observability_router
from emprops.projects.endpoints import router as projects_router
from emprops.publishing.endpoints import router as publishing_router
from emprops.queue_admin.endpoints import router as queue_admin_router
from emprops.studio.endpoints import router as studio_router

ROUTERS: list[APIRouter] = [
    auth_router,
    projects_router,
    collection_router,
    components_router,
    assets_router,
    credits_router,
    generations_router,
    publishing_router,
    indexer_router,
    observability_router,
    queue_admin_router,
    studio_router,
]
