"""The work behind a publishing operation, run by the `publish` connector on a worker that has the
database, the blob store and (for deploy and mint) the chain signer.

Each operation is safe to run again: packaging rewrites the same folder, the chain service finds
a deployment or mint it already made. The operation row is the record: `running` while a worker
has it, `completed` with its result, `failed` with the reason.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.chain import ChainService, CollectionTerms, resolve_chain
from emprops.collection import advance_stage
from emprops.core.errors import EmpropsError, InvalidInputError
from emprops.core.settings import Settings
from emprops.db.models import CollectionStage, OperationKind, OperationStatus
from emprops.generations.run_export import export_run
from emprops.metadata import CollectionInfo
from emprops.packaging import REPORT_NAME, PackageOptions, PackageReport, package_run
from emprops.publishing.repository import PublishRepository
from emprops.publishing.transient import is_transient
from emprops.storage import BlobStore, open_blob_store

log = structlog.get_logger(__name__)

Progress = Callable[[float, str], Awaitable[None]]


class OperationGoneError(EmpropsError):
    """The operation row is not there (yet): its request has not committed, or it was deleted."""


class PublishContext:
    """What every operation needs, opened once per worker."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        blobs: BlobStore | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs or open_blob_store(
            settings.storage_url, data_dir=settings.data_dir, cdn_url=settings.cdn_url,
            options=settings.storage_options,
        )  # fmt: skip

    def collection_dir(self, collection_id: uuid.UUID) -> Path:
        return self.settings.data_dir.resolve() / "publish" / str(collection_id)


async def run_operation(
    ctx: PublishContext, operation_id: uuid.UUID, progress: Progress, *, last_try: bool = True
) -> dict[str, Any]:
    """Run one operation to its end and record how it ended (errors re-raised after recording).
    A transient failure that will be retried leaves the operation queued, with the reason."""
    async with ctx.sessions() as session:
        op = await PublishRepository(session).operation(operation_id)
        if op is None:
            raise OperationGoneError(f"publish operation {operation_id} does not exist")
        if op.status == OperationStatus.COMPLETED and op.result is not None:
            return op.result
        op.status = OperationStatus.RUNNING
        kind, params, collection_id = OperationKind(op.kind), dict(op.params), op.collection_id
        await session.commit()
    try:
        result = await RUNNERS[kind](ctx, collection_id, params, progress)
    except EmpropsError as exc:
        retried = is_transient(exc) and not last_try
        status = OperationStatus.QUEUED if retried else OperationStatus.FAILED
        reason = f"will retry: {exc.message}" if retried else exc.message
        await _finish(ctx, operation_id, status, None, reason)
        raise
    except Exception as exc:
        await _finish(
            ctx, operation_id, OperationStatus.FAILED, None, f"{type(exc).__name__}: {exc}"
        )
        raise
    await _finish(ctx, operation_id, OperationStatus.COMPLETED, result, None, STAGE_AFTER[kind])
    return result


async def _finish(
    ctx: PublishContext,
    operation_id: uuid.UUID,
    status: OperationStatus,
    result: dict[str, Any] | None,
    error: str | None,
    stage: CollectionStage | None = None,
) -> None:
    async with ctx.sessions() as session:
        op = await PublishRepository(session).operation(operation_id)
        if op is None:
            return
        op.status, op.result, op.error = status, result, (error or None) and error[:4000]
        if stage is not None:
            await advance_stage(session, op.collection_id, stage)
        await session.commit()


# --------------------------------------------------------------------------- package


async def package_collection(
    ctx: PublishContext, collection_id: uuid.UUID, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Export the run from the database, package it, and keep the report and CAR in the blob
    store so any other machine (a deploy worker, the API) can read them."""
    run_id = uuid.UUID(params["run_id"])
    base = ctx.collection_dir(collection_id)
    run_dir, out_dir = base / f"run-{run_id}", base / f"package-{run_id}"
    await progress(5, "exporting the run")
    async with ctx.sessions() as session:
        manifest = await export_run(session, ctx.blobs, run_id, run_dir)
    info = CollectionInfo(
        name=params["name"], symbol=params.get("symbol"), description=params.get("description"),
        royalty_bps=params.get("royalty_bps") or None,
        royalty_recipient=params.get("royalty_recipient"),
    )  # fmt: skip
    loop = asyncio.get_running_loop()

    def on_progress(stage: str, done: int, total: int) -> None:
        percent = 10 + 80 * done / max(total, 1)

        async def report() -> None:
            await progress(percent, f"{stage} {done}/{total}")

        asyncio.run_coroutine_threadsafe(report(), loop)

    report = await package_run(run_dir, out_dir, PackageOptions(info=info), on_progress)
    await progress(92, "storing the package")
    prefix = f"packages/{collection_id}/{run_id}"
    stored = await _store_package(ctx.blobs, out_dir, report, prefix)
    return {
        "run_id": str(run_id),
        "tokens": report.tokens,
        "failed_generations": sum(1 for t in manifest.tokens if t.status == "failed"),
        "first_token_id": report.first_token_id,
        "base_uri": report.reveal.base_uri,
        "contract_uri": report.reveal.contract_uri,
        "root_cid": report.reveal.root_cid,
        "provenance_hash": report.provenance_hash,
        "package_dir": str(out_dir),
        "car": str(out_dir / report.reveal.car.path) if report.reveal.car else None,
        "blob_prefix": prefix,
        "stored": stored,
        "name": info.name,
        "symbol": info.symbol,
        "royalty_bps": info.royalty_bps or 0,
        "royalty_recipient": info.royalty_recipient,
    }


async def _store_package(
    blobs: BlobStore, out_dir: Path, report: PackageReport, prefix: str
) -> list[str]:
    """The report and the CAR (the whole package in one file) go to the blob store."""
    names = [REPORT_NAME]
    if report.reveal.car is not None:
        names.append(report.reveal.car.path)
    stored = []
    for name in names:
        path = out_dir / name
        if await asyncio.to_thread(path.is_file):
            await blobs.put(f"{prefix}/{name}", await asyncio.to_thread(path.read_bytes))
            stored.append(f"{prefix}/{name}")
    return stored


# --------------------------------------------------------------------------- deploy and mint


async def _chain_service(ctx: PublishContext, chain: str | None) -> ChainService:
    return ChainService(ctx.sessions, resolve_chain(ctx.settings, chain), ctx.settings.data_dir)


async def _completed_result(ctx: PublishContext, operation_id: str, what: str) -> dict[str, Any]:
    async with ctx.sessions() as session:
        op = await PublishRepository(session).operation(uuid.UUID(operation_id))
    if op is None or op.result is None or op.status != OperationStatus.COMPLETED:
        raise InvalidInputError(f"the {what} this operation builds on is gone or not completed")
    return op.result


async def deploy_collection(
    ctx: PublishContext, collection_id: uuid.UUID, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    package = await _completed_result(ctx, params["package_operation_id"], "package")
    service = await _chain_service(ctx, params.get("chain"))
    await progress(10, "the platform contracts")
    platform = await service.ensure_platform()
    client = await service.client()
    owner = params.get("owner") or package.get("royalty_recipient") or client.address
    terms = CollectionTerms(
        name=package["name"], symbol=package.get("symbol") or "EMP", base_uri=package["base_uri"],
        contract_uri=package["contract_uri"], owner=owner, max_supply=int(package["tokens"]),
        royalty_bps=int(package.get("royalty_bps") or 0), salt_source=package["root_cid"],
    )  # fmt: skip
    await progress(40, "creating the collection")
    deployment = await service.deploy_collection(terms, collection_id=collection_id)
    return {
        "chain": service.target.name,
        "chain_id": service.target.chain_id,
        "address": deployment.address,
        "deployment_id": str(deployment.id),
        "factory": platform.factory,
        "owner": deployment.owner,
        "royalty_split": deployment.royalty_split,
        "tx_hash": deployment.tx_hash,
        "gas_used": deployment.gas_used,
        "max_supply": terms.max_supply,
        "max_per_tx": terms.max_per_tx,
    }


async def mint_tokens(
    ctx: PublishContext, collection_id: uuid.UUID, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    deployment = await _completed_result(ctx, params["deploy_operation_id"], "deployment")
    service = await _chain_service(ctx, deployment["chain"])

    async def report(done: int, total: int) -> None:
        await progress(100 * done / max(total, 1), f"{done}/{total} minted")

    request = await service.mint(
        uuid.UUID(deployment["deployment_id"]), params["to"], int(params["quantity"]),
        request_id=f"{collection_id}:{params['request_id']}", progress=report,
    )  # fmt: skip
    return {
        "request_id": params["request_id"],
        "to": request.to_address,
        "minted": request.minted,
        "first_token_id": request.first_token_id,
        "gas_used": request.gas_used,
        "address": deployment["address"],
        "chain": deployment["chain"],
    }


Runner = Callable[[PublishContext, uuid.UUID, dict[str, Any], Progress], Awaitable[dict[str, Any]]]

RUNNERS: dict[OperationKind, Runner] = {
    OperationKind.PACKAGE: package_collection,
    OperationKind.DEPLOY: deploy_collection,
    OperationKind.MINT: mint_tokens,
}

STAGE_AFTER = {
    OperationKind.PACKAGE: CollectionStage.PACKAGED,
    OperationKind.DEPLOY: CollectionStage.DEPLOYED,
    OperationKind.MINT: CollectionStage.MINTED,
}
