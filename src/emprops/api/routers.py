"""Every domain's router, in one list (add a line per domain)."""

from fastapi import APIRouter

from emprops.auth.endpoints import router as auth_router
from emprops.projects.endpoints import router as projects_router

ROUTERS: list[APIRouter] = [
    auth_router,
    projects_router,
]
