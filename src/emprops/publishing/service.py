"""Asking for a package, a deployment or a mint: checks what must come first, records the request
once (asking again finds it), and queues the job that does the work. Never blocks on the work.

A failed operation asked for again gets a new attempt (and so a new job id); a queued, running or
completed one is returned as it is. A mint request id reused with other terms is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from emprops.core.errors import ConflictError, InvalidInputError, NotFoundError
from emprops.db.models import (
    CollectionRecord,
    CollectionStage,
    OperationKind,
    OperationStatus,
    PublishOperation,
    User,
)
from emprops.publishing.repository import PublishRepository
from emprops.publishing.schemas import (
    DeployRequest,
    MintRequest,
    OperationOut,
    PackageRequest,
    PublishStatus,
)
from emprops.queue.broker import Broker
from emprops.queue.models import JobRequest

PUBLISH_SERVICE = "publish"


class PublishService:
    def __init__(self, repository: PublishRepository, broker: Broker, default_chain: str) -> None:
        self.repo = repository
        self.broker = broker
        self.default_chain = default_chain

    async def _own(self, user: User, collection_id: uuid.UUID) -> CollectionRecord:
        collection = await self.repo.collection(collection_id)
        if collection is None or collection.user_id != user.id:
            raise NotFoundError(f"collection {collection_id} does not exist")
        if collection.archived:
            raise ConflictError("the collection is archived", details={"id": str(collection_id)})
        return collection

    async def request_package(
        self, user: User, collection_id: uuid.UUID, body: PackageRequest
    ) -> PublishOperation:
        collection = await self._own(user, collection_id)
        if body.run_id is not None:
            run = await self.repo.run(body.run_id)
            if run is None or run.collection_id != collection.id:
                raise NotFoundError(
                    f"generation run {body.run_id} is not a run of this collection",
                    details={"field": "run_id"},
                )
            if run.status not in ("completed", "failed"):
                raise ConflictError(
                    f"generation run {run.id} is {run.status}: package it once it has finished",
                    details={"field": "run_id", "status": run.status},
                )
        else:
            run = await self.repo.latest_finished_run(collection.id)
            if run is None:
                raise ConflictError(
                    "the collection has no finished generation run to package: generate it first",
                    details={"stage": collection.stage},
                )
        params = {
            "run_id": str(run.id),
            "name": collection.title,
            "description": collection.description,
            "symbol": body.symbol or _symbol(collection.title),
            "royalty_bps": body.royalty_bps,
            "royalty_recipient": body.royalty_recipient,
        }
        return await self._request(collection, OperationKind.PACKAGE, str(run.id), params)

    async def request_deploy(
        self, user: User, collection_id: uuid.UUID, body: DeployRequest
    ) -> PublishOperation:
        collection = await self._own(user, collection_id)
        package = await self.repo.latest_completed(collection.id, OperationKind.PACKAGE)
        if package is None:
            raise ConflictError(
                "the collection has no package to deploy: package it first",
                details={"stage": collection.stage},
            )
        chain = body.chain or self.default_chain
        params = {"chain": chain, "package_operation_id": str(package.id), "owner": body.owner}
        return await self._request(collection, OperationKind.DEPLOY, chain, params)

    async def request_mint(
        self, user: User, collection_id: uuid.UUID, body: MintRequest
    ) -> PublishOperation:
        collection = await self._own(user, collection_id)
        deployment = await self.repo.latest_completed(collection.id, OperationKind.DEPLOY)
        if deployment is None or deployment.result is None:
            raise ConflictError(
                "the collection is not deployed: deploy it first",
                details={"stage": collection.stage},
            )
        params = {
            "to": body.to,
            "quantity": body.quantity,
            "request_id": body.request_id,
            "deploy_operation_id": str(deployment.id),
        }
        existing = await self.repo.find(collection.id, OperationKind.MINT, body.request_id)
        if existing is not None and (
            existing.params.get("to", "").lower() != body.to.lower()
            or existing.params.get("quantity") != body.quantity
        ):
            raise ConflictError(
                f"mint request {body.request_id} was made with other terms "
                f"({existing.params.get('quantity')} to {existing.params.get('to')})",
                details={"field": "request_id"},
            )
        if existing is None:
            supply = int(deployment.result.get("max_supply", 0))
            minted = await self._minted(collection.id)
            if supply and minted + body.quantity > supply:
                raise InvalidInputError(
                    f"{body.quantity} more would exceed the collection's supply of {supply} "
                    f"({minted} minted or being minted)",
                    details={"field": "quantity", "max_supply": supply, "minted": minted},
                )
        return await self._request(collection, OperationKind.MINT, body.request_id, params)

    async def _minted(self, collection_id: uuid.UUID) -> int:
        """Tokens minted or asked for by mints not failed."""
        return sum(
            int(op.params.get("quantity", 0))
            for op in await self.repo.operations(collection_id)
            if op.kind == OperationKind.MINT and op.status != OperationStatus.FAILED
        )

    async def _request(
        self, collection: CollectionRecord, kind: OperationKind, key: str, params: dict[str, Any]
    ) -> PublishOperation:
        op = await self.repo.find(collection.id, kind, key)
        if op is not None and op.status != OperationStatus.FAILED:
            return op
        if op is None:
            op = PublishOperation(
                id=uuid.uuid4(), collection_id=collection.id, user_id=collection.user_id,
                kind=kind, request_key=key, status=OperationStatus.QUEUED, attempt=1,
                params=params,
            )  # fmt: skip
            self.repo.session.add(op)
        else:
            op.attempt += 1
            op.status = OperationStatus.QUEUED
            op.error = None
            op.params = params
        await self.repo.session.flush()
        await self.broker.submit(
            JobRequest(
                id=op.job_id,
                service_required=PUBLISH_SERVICE,
                payload={"operation_id": str(op.id)},
                max_retries=3,
                timeout_s=3600,
            )
        )
        return op

    async def status(self, user: User, collection_id: uuid.UUID) -> PublishStatus:
        collection = await self._own(user, collection_id)
        operations = await self.repo.operations(collection.id)
        package = next(
            (o for o in operations if o.kind == "package" and o.status == "completed"), None
        )
        deployment = next(
            (o for o in operations if o.kind == "deploy" and o.status == "completed"), None
        )
        minted = sum(
            int((o.result or {}).get("minted", 0))
            for o in operations
            if o.kind == "mint" and o.status == "completed"
        )
        return PublishStatus(
            collection_id=collection.id,
            stage=CollectionStage(collection.stage).value,
            package=package.result if package else None,
            deployment=deployment.result if deployment else None,
            minted=minted,
            operations=[OperationOut.model_validate(o) for o in operations],
        )


def _symbol(title: str) -> str:
    letters = "".join(ch for ch in title.upper() if ch.isalnum())
    return letters[:6] or "EMP"
