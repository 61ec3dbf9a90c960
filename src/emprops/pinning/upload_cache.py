"""What has been uploaded where, kept beside the package (like Metaplex Sugar's cache) so a
re-run uploads only what is new or changed.

Entries are keyed by (service, CID). The CID is the content hash: a changed file or folder has a
new CID and so no entry, and is uploaded again; an unchanged one is skipped. Each confirmed
upload is committed at once, in its own SQLite transaction (WAL): a process that dies mid-way
loses at most the uploads still in flight, and never leaves a half-written cache."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from emprops.core.errors import InvalidInputError

CACHE_NAME = "upload-cache.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    service TEXT NOT NULL,      -- "kind endpoint" (never a token)
    cid TEXT NOT NULL,          -- what the upload is, by content
    name TEXT NOT NULL,         -- file or folder in the package, for people
    kind TEXT NOT NULL,         -- file | folder | car | pin
    state TEXT NOT NULL,        -- pinned | requested (a pin request still in progress)
    request_id TEXT,            -- the service's pin request, to resume waiting for it
    bytes INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (service, cid)
);
"""


class CacheState(StrEnum):
    PINNED = "pinned"
    REQUESTED = "requested"


@dataclass(frozen=True)
class CacheEntry:
    service: str
    cid: str
    name: str
    kind: str
    state: CacheState
    request_id: str | None
    bytes: int


class UploadCache:
    """Small, synchronous writes (no fsync in WAL's NORMAL mode: an app crash loses nothing
    committed; a power cut may lose the last entries, which only means uploading them again)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except OSError as exc:
            raise InvalidInputError(f"cannot create the upload cache {path}: {exc}") from exc
        except sqlite3.OperationalError as exc:
            raise InvalidInputError(f"cannot open the upload cache {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(
                f"upload cache {path} is unreadable ({exc}); delete it to upload everything again",
                details={"path": str(path)},
            ) from exc

    def get(self, service: str, cid: str) -> CacheEntry | None:
        row = self._db.execute(
            "SELECT service, cid, name, kind, state, request_id, bytes FROM uploads "
            "WHERE service = ? AND cid = ?",
            (service, cid),
        ).fetchone()
        if row is None:
            return None
        return CacheEntry(row[0], row[1], row[2], row[3], CacheState(row[4]), row[5], row[6])

    def is_pinned(self, service: str, cid: str) -> bool:
        entry = self.get(service, cid)
        return entry is not None and entry.state == CacheState.PINNED

    def record(
        self,
        service: str,
        cid: str,
        *,
        name: str,
        kind: str,
        state: CacheState = CacheState.PINNED,
        request_id: str | None = None,
        size: int = 0,
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (service, cid, name, kind, str(state), request_id, size, time.time()),
        )

    def forget(self, service: str, cid: str) -> None:
        self._db.execute("DELETE FROM uploads WHERE service = ? AND cid = ?", (service, cid))

    def entries(self, service: str | None = None) -> list[CacheEntry]:
        query = "SELECT service, cid, name, kind, state, request_id, bytes FROM uploads"
        params: tuple[str, ...] = ()
        if service is not None:
            query += " WHERE service = ?"
            params = (service,)
        return [
            CacheEntry(r[0], r[1], r[2], r[3], CacheState(r[4]), r[5], r[6])
            for r in self._db.execute(query + " ORDER BY name", params)
        ]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> UploadCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
