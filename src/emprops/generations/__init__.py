"""Generation runs: a collection's GenerationInput run on the queue, with credits held and
settled per generation, events streamed (SSE, WebSocket), and runs resumed after a restart."""

from emprops.generations.dispatcher import GenerationDispatcher
from emprops.generations.runner import RunnerConfig
from emprops.generations.service import GenerationService

__all__ = ["GenerationDispatcher", "GenerationService", "RunnerConfig"]
