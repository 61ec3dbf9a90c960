"""What the demo made so far, kept in the data directory: a re-run finds its user, collection,
run and mint instead of making new ones."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError


class DemoState(BaseModel):
    user_id: str | None = None
    api_key: str | None = None
    project_id: str | None = None
    collection_id: str | None = None
    run_id: str | None = None
    tokens: int | None = None

    @classmethod
    def load(cls, path: Path) -> DemoState:
        try:
            return cls.model_validate_json(path.read_bytes())
        except (FileNotFoundError, ValidationError):
            return cls()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_text(self.model_dump_json(indent=2))
        partial.replace(path)
