"""A collection's metadata problems, each naming the token and the field, reported all at once
(as Metaplex Sugar's `validate` does) so a creator fixes them in one pass."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from emprops.core.errors import InvalidInputError

_SHOWN = 20


class MetadataProblem(BaseModel):
    """`token` is the token id, or None for the collection (contract) metadata."""

    token: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = "collection" if self.token is None else f"token {self.token}"
        return f"{where}: {self.field}: {self.message}"


class MetadataInvalid(InvalidInputError):
    """Raised with every problem found; `details["problems"]` lists them all."""

    def __init__(self, problems: Sequence[MetadataProblem]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:_SHOWN]]
        more = len(self.problems) - _SHOWN
        if more > 0:
            lines.append(f"... and {more} more")
        count = len(self.problems)
        super().__init__(
            f"{count} metadata problem{'s' if count != 1 else ''}:\n  " + "\n  ".join(lines),
            details={"problems": [p.model_dump() for p in self.problems]},
        )
