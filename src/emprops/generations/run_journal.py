"""The engine's run journal, kept in the database (`generation_step_results`).

The engine calls the journal synchronously, and the database is async: records are held in
memory and written by `flush`, which the runner awaits in its handler for the event the engine
emits right after each record (`node_completed` after an output, `error` after a failure), before
anything that depends on it is queued. If the process dies between the two, nothing is lost: the
step's broker job is kept (completed) and its id is derived from (run, generation, step), so the
resumed engine re-submits it as a no-op, finds it finished and records it again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from emprops.db.models import GenerationStepResult
from emprops.workflows.run_journal import RunHeader, RunRecords


@dataclass(frozen=True)
class StepRecord:
    generation: int
    step_id: int
    job_id: str
    output: dict[str, Any] | None
    error: str | None


class DbRunJournal:
    def __init__(self, header: RunHeader, rows: list[GenerationStepResult]) -> None:
        self._header: RunHeader | None = header
        self._records = RunRecords()
        for row in rows:
            if row.output is not None:
                self._records.outputs[(row.generation, row.step_id)] = row.output
            else:
                self._records.failures[(row.generation, row.step_id)] = row.error or "failed"
        self._pending: list[StepRecord] = []

    # --- the engine's RunJournal protocol ---------------------------------------------------

    def header(self) -> RunHeader | None:
        return self._header

    def start(self, header: RunHeader) -> None:
        # The header is written when the run is accepted; the engine only starts a run
        # whose journal has none, which this journal never is.
        self._header = header

    def records(self) -> RunRecords:
        return copy.deepcopy(self._records)

    def record_output(
        self, generation: int, step_id: int, job_id: str, output: dict[str, Any]
    ) -> None:
        self._records.outputs[(generation, step_id)] = output
        self._pending.append(StepRecord(generation, step_id, job_id, output, None))

    def record_failure(self, generation: int, step_id: int, job_id: str, error: str) -> None:
        self._records.failures[(generation, step_id)] = error
        self._pending.append(StepRecord(generation, step_id, job_id, None, error))

    # --- writing ----------------------------------------------------------------------------

    def take_pending(self) -> list[StepRecord]:
        """The records not yet written; the caller writes them in its transaction."""
        pending, self._pending = self._pending, []
        return pending
