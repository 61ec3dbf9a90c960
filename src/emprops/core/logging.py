"""Structured logs (structlog): readable on a terminal, one JSON object a line when
`EMPROPS_LOG_JSON` is set.

Every line carries what is bound in the current context (the worker binds `job_id`, `service`,
`attempt` around each job) and, when a span is current, its `trace_id` and `span_id`, so a log
line leads to its trace. Standard-library loggers (uvicorn, SQLAlchemy), from WARNING up, go
through the same processors, so a JSON deployment writes nothing but JSON.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from opentelemetry import trace

_HANDLER_NAME = "emprops"


def add_trace_context(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """`trace_id` / `span_id` of the current span (W3C hex), when there is one."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def configure_logging(
    level: str = "INFO",
    *,
    json: bool = False,
    stream: TextIO | None = None,
    cache_loggers: bool = True,
) -> None:
    """Configure structlog and the standard library's root logger alike (`stream`: stderr
    unless given; tests pass their own and `cache_loggers=False` so they can undo it)."""
    out = stream if stream is not None else sys.stderr
    numeric_level = logging.getLevelName(level.upper())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_context,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    tail: list[structlog.typing.Processor] = (
        [structlog.processors.format_exc_info, renderer] if json else [renderer]
    )
    structlog.configure(
        processors=[*shared, *tail],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=cache_loggers,
    )
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
        )
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:  # configured before: replace, never stack
            root.removeHandler(existing)
    root.addHandler(handler)
    # Libraries log chattily at INFO (httpx: every request); only their warnings are ours to show.
    root.setLevel(max(numeric_level, logging.WARNING))
