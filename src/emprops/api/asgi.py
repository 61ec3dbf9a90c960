"""The ASGI application for process managers (`uvicorn emprops.api.asgi:app`)."""

from emprops.api.app import create_app

app = create_app()
