"""The dispatcher routes wake after committing a run (started with the app, see api/app.py)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from emprops.generations.dispatcher import GenerationDispatcher


def get_dispatcher(connection: HTTPConnection) -> GenerationDispatcher:
    dispatcher: GenerationDispatcher = connection.app.state.generation_dispatcher
    return dispatcher
