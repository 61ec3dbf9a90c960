"""Cross-cutting pieces every domain uses: settings, errors, logging, Redis connections."""

from emprops.core.errors import EmpropsError, ErrorCode
from emprops.core.settings import Settings, get_settings

__all__ = ["EmpropsError", "ErrorCode", "Settings", "get_settings"]
