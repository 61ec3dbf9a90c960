"""The indexer's read side: checked inputs in, schemas out. Used by the CLI and the API."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from emprops.core.errors import InvalidInputError, NotFoundError
from emprops.indexer.config import checksum_address
from emprops.indexer.repository import IndexerRepository
from emprops.indexer.schemas import (
    CheckpointOut,
    IndexedCollectionOut,
    MintOut,
    TokenOut,
    TransferOut,
)

MAX_PAGE = 1_000


class TokenNotIndexedError(NotFoundError):
    pass


def parse_address(value: str, field: str) -> str:
    try:
        return checksum_address(value)
    except ValueError:
        raise InvalidInputError(
            f"{field} is not an EVM address: {value!r}", details={"field": field}
        ) from None


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInputError(
            f"limit must be 1..{MAX_PAGE} and offset at least 0",
            details={"limit": limit, "offset": offset},
        )


class IndexerQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = IndexerRepository(session)

    async def collections_by_creator(
        self, creator: str, chain_id: int | None = None
    ) -> list[IndexedCollectionOut]:
        rows = await self.repo.collections_by_creator(parse_address(creator, "creator"), chain_id)
        return [IndexedCollectionOut.model_validate(row) for row in rows]

    async def mint_history(
        self, collection: str, chain_id: int | None = None, limit: int = 100, offset: int = 0
    ) -> list[MintOut]:
        _page(limit, offset)
        rows = await self.repo.mint_history(
            parse_address(collection, "collection"), chain_id, limit, offset
        )
        return [MintOut.model_validate(row) for row in rows]

    async def tokens_owned_by(
        self,
        owner: str,
        chain_id: int | None = None,
        collection: str | None = None,
        limit: int = MAX_PAGE,
        offset: int = 0,
    ) -> list[TokenOut]:
        _page(limit, offset)
        rows = await self.repo.tokens_owned_by(
            parse_address(owner, "owner"),
            chain_id,
            None if collection is None else parse_address(collection, "collection"),
            limit,
            offset,
        )
        return [TokenOut.model_validate(row) for row in rows]

    async def token(self, collection: str, token_id: int, chain_id: int | None = None) -> TokenOut:
        address = parse_address(collection, "collection")
        row = await self.repo.token(address, token_id, chain_id)
        if row is None:
            raise TokenNotIndexedError(
                f"token {token_id} of {address} is not indexed",
                details={"collection": address, "token_id": token_id},
            )
        return TokenOut.model_validate(row)

    async def transfers_of(
        self, collection: str, token_id: int, chain_id: int | None = None
    ) -> list[TransferOut]:
        rows = await self.repo.transfers_of(
            parse_address(collection, "collection"), token_id, chain_id
        )
        return [TransferOut.model_validate(row) for row in rows]

    async def checkpoints(self) -> list[CheckpointOut]:
        return [CheckpointOut.model_validate(row) for row in await self.repo.checkpoints()]
