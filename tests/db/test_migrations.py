"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import command

from emprops.db.migrate import alembic_config, upgrade_to_head


async def test_migrations_match_the_models(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    # `check` fails if autogenerate would still produce operations.
    await asyncio.to_thread(command.check, alembic_config(empty_database_url))
    await asyncio.to_thread(upgrade_to_head, empty_database_url)  # idempotent
