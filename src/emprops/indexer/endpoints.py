"""What the indexer saw on chain, for any signed-in caller (chain data is public anyway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from emprops.api.dependencies import DbSession
from emprops.api.errors import ErrorResponse
from emprops.auth import CurrentPrincipal
from emprops.indexer.schemas import (
    CheckpointOut,
    IndexedCollectionOut,
    MintOut,
    TokenOut,
    TransferOut,
)
from emprops.indexer.service import IndexerQueries

ERRORS = {code: {"model": ErrorResponse} for code in (401, 404, 422, 429)}
router = APIRouter(prefix="/chain", tags=["chain"], responses=ERRORS)  # type: ignore[arg-type]


def indexer_queries(session: DbSession) -> IndexerQueries:
    return IndexerQueries(session)


Queries = Annotated[IndexerQueries, Depends(indexer_queries)]
ChainId = Annotated[int | None, Query(ge=1, description="Only this chain.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/collections")
async def collections_by_creator(
    creator: Annotated[str, Query(description="The creator's address.")],
    _: CurrentPrincipal,
    queries: Queries,
    chain_id: ChainId = None,
) -> list[IndexedCollectionOut]:
    """Collections the factories created for `creator`."""
    return await queries.collections_by_creator(creator, chain_id)


@router.get("/collections/{address}/mints")
async def mint_history(
    address: str,
    _: CurrentPrincipal,
    queries: Queries,
    chain_id: ChainId = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[MintOut]:
    """A collection's mints, oldest first."""
    return await queries.mint_history(address, chain_id, limit, offset)


@router.get("/collections/{address}/tokens/{token_id}")
async def token(
    address: str,
    token_id: int,
    _: CurrentPrincipal,
    queries: Queries,
    chain_id: ChainId = None,
) -> TokenOut:
    return await queries.token(address, token_id, chain_id)


@router.get("/collections/{address}/tokens/{token_id}/transfers")
async def transfers(
    address: str, token_id: int, _: CurrentPrincipal, queries: Queries, chain_id: ChainId = None
) -> list[TransferOut]:
    return await queries.transfers_of(address, token_id, chain_id)


@router.get("/tokens")
async def tokens_owned_by(
    owner: Annotated[str, Query(description="The holder's address.")],
    _: CurrentPrincipal,
    queries: Queries,
    chain_id: ChainId = None,
    collection: Annotated[str | None, Query(description="Only this collection.")] = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> list[TokenOut]:
    """Tokens `owner` holds now, as indexed."""
    return await queries.tokens_owned_by(owner, chain_id, collection, limit, offset)


@router.get("/checkpoints")
async def checkpoints(_: CurrentPrincipal, queries: Queries) -> list[CheckpointOut]:
    """How far the indexer has read, per chain."""
    return await queries.checkpoints()
