"""`emprops users ...`: local administration (create a user and print an API key for it)."""

from __future__ import annotations

from typing import Annotated

import typer

from emprops.cli.context import clear_errors, run_command
from emprops.core.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Users and API keys (local administration).")


@app.command()
@clear_errors
def create(
    name: Annotated[str, typer.Option(help="Display name.")] = "creator",
    admin: Annotated[bool, typer.Option(help="Make an administrator.")] = False,
) -> None:
    """Create a user and print an API key for it (shown once)."""
    from emprops.auth.repository import AuthRepository
    from emprops.auth.schemas import ApiKeyCreate
    from emprops.auth.secret_key import load_secret_key
    from emprops.auth.service import AuthService
    from emprops.db import create_engine, database_url, session_factory, upgrade_to_head_async

    settings = get_settings()

    async def main() -> None:
        url = database_url(settings)
        await upgrade_to_head_async(url)
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                service = AuthService(AuthRepository(session), load_secret_key(settings), settings)
                user = await service.create_user(name, is_admin=admin)
                scopes = ["read", "write", "admin"] if admin else ["read", "write"]
                key = await service.create_api_key(user, ApiKeyCreate(name="cli", scopes=scopes))
                await session.commit()
        finally:
            await engine.dispose()
        typer.echo(f"user {user.id}")
        typer.echo(key.token)

    run_command(main)
