"""The relational database: SQLAlchemy models, the engine, Alembic migrations."""

from emprops.db.base import Base
from emprops.db.engine import create_engine, database_url, session_factory
from emprops.db.migrate import upgrade_to_head, upgrade_to_head_async

__all__ = [
    "Base",
    "create_engine",
    "database_url",
    "session_factory",
    "upgrade_to_head",
    "upgrade_to_head_async",
]
