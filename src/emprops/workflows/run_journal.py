"""The durable record of a collection run: which outputs exist, which steps failed.

A finished step's output is written here (and committed) before any step that depends on it is
queued, so a runner that crashes resumes without redoing finished work. Job ids are derived from
(run, generation, step), so re-submitting an unrecorded step is a no-op on the broker.

This is the file journal used by `emprops collection run`; the API keeps the same facts in its
database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


@dataclass
class RunHeader:
    run_id: str
    user_id: str
    input_digest: str
    hashes: list[str]
    created_ms: int
    priority: int = 50


@dataclass
class RunRecords:
    outputs: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    failures: dict[tuple[int, int], str] = field(default_factory=dict)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (
    run_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, input_digest TEXT NOT NULL,
    hashes TEXT NOT NULL, created_ms INTEGER NOT NULL, priority INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS step_result (
    generation INTEGER NOT NULL, step_id INTEGER NOT NULL, job_id TEXT NOT NULL,
    output TEXT, error TEXT, PRIMARY KEY (generation, step_id)
);
"""


class SqliteRunJournal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)  # autocommit: each record durable
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def header(self) -> RunHeader | None:
        row = self._db.execute(
            "SELECT run_id, user_id, input_digest, hashes, created_ms, priority FROM run"
        ).fetchone()
        if row is None:
            return None
        return RunHeader(row[0], row[1], row[2], orjson.loads(row[3]), row[4], row[5])

    def start(self, header: RunHeader) -> None:
        self._db.execute(
            "INSERT INTO run VALUES (?, ?, ?, ?, ?, ?)",
            (header.run_id, header.user_id, header.input_digest, orjson.dumps(header.hashes),
             header.created_ms, header.priority),
        )  # fmt: skip

    def records(self) -> RunRecords:
        records = RunRecords()
        for generation, step_id, output, error in self._db.execute(
            "SELECT generation, step_id, output, error FROM step_result"
        ):
            if output is not None:
                records.outputs[(generation, step_id)] = orjson.loads(output)
            else:
                records.failures[(generation, step_id)] = error
        return records

    def record_output(
        self, generation: int, step_id: int, job_id: str, output: dict[str, Any]
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO step_result VALUES (?, ?, ?, ?, NULL)",
            (generation, step_id, job_id, orjson.dumps(output)),
        )

    def record_failure(self, generation: int, step_id: int, job_id: str, error: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO step_result VALUES (?, ?, ?, NULL, ?)",
            (generation, step_id, job_id, error),
        )
