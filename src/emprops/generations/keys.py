"""Every Redis key the generations domain uses, in one place (the broker's `emp:{queue}:` space
is the broker's own: nothing here writes there)."""

from __future__ import annotations

import uuid

PREFIX = "emp:gen:"


def events_key(run_id: uuid.UUID) -> str:
    """The run's event stream (replayable: SSE and WebSocket clients resume from an entry id)."""
    return f"{PREFIX}{run_id}:events"


def runner_key(run_id: uuid.UUID) -> str:
    """Who is running the run now (a lease, so two API processes never both run it)."""
    return f"{PREFIX}{run_id}:runner"


def cancelled_key(run_id: uuid.UUID) -> str:
    """Set before a cancel cancels the run's broker jobs; a runner checks it after submitting,
    so a step submitted while the cancel was under way is cancelled too."""
    return f"{PREFIX}{run_id}:cancelled"
