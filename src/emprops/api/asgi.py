"""The ASGI application for process managers (`uvicorn emprops.api.asgi:app`)."""

from emprops.api.app import create_app
from emprops.core.logging import configure_logging
from emprops.core.settings import get_settings

configure_logging(get_settings().log_level, json=get_settings().log_json)
app = create_app()
