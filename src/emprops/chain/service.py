"""The chain service: deploy the platform once per chain, deploy a collection through the factory
(address predicted, then verified), create its royalty split, mint in batches.

Everything it sends goes through `_send`, which makes sending idempotent: a transaction is signed
and stored with a `purpose` (e.g. `mint:<deployment>:<request>:<batch>`) and COMMITTED before it
is broadcast. Asked again for the same purpose, it never signs anew: it finds the receipt, or
re-broadcasts the very same signed bytes (same nonce, same hash), so a crash anywhere between
signing and the receipt cannot make a second mint. That is why this service commits as it goes
(one short transaction per step) instead of leaving the commit to its caller.

    service = ChainService(sessions, resolve_chain(settings), settings.data_dir)
    platform = await service.ensure_platform()
    deployment = await service.deploy_collection(CollectionTerms(...), collection_id=None)
    request = await service.mint(deployment.id, to, 100, request_id="drop-1")
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3 import Web3

from emprops.chain.client import ChainClient, TransactionRevertedError
from emprops.chain.contracts import ContractName, abi, bytecode
from emprops.chain.presets import ChainTarget
from emprops.core.errors import ConflictError, InvalidInputError, NotFoundError
from emprops.db.models import (
    ChainPlatform,
    ChainSigner,
    ChainTransaction,
    CollectionDeployment,
    MintRequest,
)

# Test hooks: a crash test sets these to kill the process at exactly this point.
AFTER_RECORD: Callable[[str], None] | None = None
AFTER_BROADCAST: Callable[[str], None] | None = None

Progress = Callable[[int, int], Awaitable[None]]
ROYALTY_CREATOR_SHARE = 800_000  # of 1e6: 80% to the creator, 20% to the platform
ADDRESS = r"^0x[0-9a-fA-F]{40}$"


def checksum(address: str, field: str) -> str:
    if not Web3.is_address(address):
        raise InvalidInputError(
            f"{field} {address!r} is not an address (0x + 40 hex)", details={"field": field}
        )
    return str(Web3.to_checksum_address(address))


class CollectionTerms(BaseModel):
    """What a collection contract is initialized with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    symbol: str = Field(min_length=1, max_length=11)
    base_uri: str = Field(min_length=1, max_length=300)
    contract_uri: str = Field(min_length=1, max_length=300)
    owner: str = Field(pattern=ADDRESS, description="The creator: owns the contract.")
    max_supply: int = Field(ge=1, le=10_000_000)
    royalty_bps: int = Field(default=0, ge=0, le=10_000)
    max_per_tx: int = Field(default=100, ge=1, le=1_000)
    window_limit: int = Field(default=0, ge=0, description="Mints per window (0: no window).")
    window_seconds: int = Field(default=0, ge=0)
    ownership_stride: int = Field(default=8, ge=1, le=255)
    salt_source: str = Field(default="", max_length=200, description="Makes the address unique.")

    @field_validator("owner")
    @classmethod
    def _checksummed(cls, value: str) -> str:
        return checksum(value, "owner")


class ChainService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], target: ChainTarget, data_dir: Path
    ) -> None:
        self.sessions, self.target, self.data_dir = sessions, target, data_dir
        self._client: ChainClient | None = None

    async def client(self) -> ChainClient:
        if self._client is None:
            url = self.target.rpc_url
            if url is None:
                from emprops.chain.local_node import local_node_url

                url = await asyncio.to_thread(local_node_url, self.data_dir)
            client = ChainClient(self.target, url)
            await asyncio.to_thread(client.check_chain)
            self._client = client
        return self._client

    # ------------------------------------------------------------------ sending

    async def _send(self, purpose: str, tx: dict[str, Any], what: str) -> dict[str, Any]:
        """Sign-record-commit-broadcast-wait, once per purpose, whatever crashes in between."""
        client = await self.client()
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(ChainTransaction).where(ChainTransaction.purpose == purpose)
                )
            ).scalar_one_or_none()
        if row is None:
            async with self._broadcast_order(client.address):
                row = await self._sign_and_record(client, purpose, tx)
                if AFTER_RECORD is not None:
                    AFTER_RECORD(purpose)
                await asyncio.to_thread(client.broadcast, row.raw, row.tx_hash)
            await self._mark(row.id, status="sent")
            if AFTER_BROADCAST is not None:
                AFTER_BROADCAST(purpose)
        elif row.status in ("signed", "sent"):
            known = await asyncio.to_thread(client.receipt, row.tx_hash)
            if known is None and not await asyncio.to_thread(client.known, row.tx_hash):
                await asyncio.to_thread(client.broadcast, row.raw, row.tx_hash)  # the same bytes
        try:
            receipt = await asyncio.to_thread(client.wait, row.tx_hash, what)
        except TransactionRevertedError as exc:
            await self._mark(row.id, status="reverted", error=exc.message)
            raise
        await self._mark(
            row.id,
            status="mined",
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
        )
        return receipt

    @asynccontextmanager
    async def _broadcast_order(self, signer: str) -> AsyncIterator[None]:
        """Nonce N+1 must not reach a node before N: an automining node (the local chain) has no
        mempool to hold it. One file lock per signer, from signing to broadcast, keeps the
        order for every process on this machine (public mempools hold early nonces anyway)."""
        path = (
            self.data_dir.resolve()
            / "chain"
            / f"signer-{self.target.chain_id}-{signer.lower()}.lock"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
        try:
            await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
            yield
        finally:
            handle.close()  # closing releases the lock

    async def _sign_and_record(
        self, client: ChainClient, purpose: str, tx: dict[str, Any]
    ) -> ChainTransaction:
        address = client.address
        await self._ensure_signer_row(address)
        async with self.sessions() as session, session.begin():
            # a write first: on SQLite it takes the database's write lock, on PostgreSQL the
            # row's, so no two processes pick the same nonce
            await session.execute(
                update(ChainSigner)
                .where(ChainSigner.chain_id == self.target.chain_id, ChainSigner.address == address)
                .values(next_nonce=ChainSigner.next_nonce)
            )
            signer = (
                await session.execute(
                    select(ChainSigner)
                    .where(
                        ChainSigner.chain_id == self.target.chain_id, ChainSigner.address == address
                    )
                    .with_for_update()
                )
            ).scalar_one()
            nonce = max(signer.next_nonce, await asyncio.to_thread(client.pending_nonce))
            signed = await asyncio.to_thread(
                client.sign, tx, nonce
            )  # a revert or no funds: nothing kept
            row = ChainTransaction(
                id=uuid.uuid4(), chain_id=self.target.chain_id, purpose=purpose, signer=address,
                nonce=nonce, tx_hash=signed.tx_hash, raw=signed.raw, status="signed",
            )  # fmt: skip
            session.add(row)
            signer.next_nonce = nonce + 1
        return row

    async def _ensure_signer_row(self, address: str) -> None:
        async with self.sessions() as session:
            exists = (
                await session.execute(
                    select(ChainSigner.id).where(
                        ChainSigner.chain_id == self.target.chain_id, ChainSigner.address == address
                    )
                )
            ).first()
            if exists:
                return
            session.add(
                ChainSigner(
                    id=uuid.uuid4(), chain_id=self.target.chain_id, address=address, next_nonce=0
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # another process made it first

    async def _mark(self, row_id: uuid.UUID, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(ChainTransaction).where(ChainTransaction.id == row_id).values(**values)
            )

    async def _deploy(
        self, purpose: str, name: ContractName, *args: Any
    ) -> tuple[str, dict[str, Any]]:
        client = await self.client()
        contract = client.w3.eth.contract(abi=abi(name), bytecode=bytecode(name))
        data = contract.constructor(*args).data_in_transaction
        receipt = await self._send(purpose, {"data": data}, f"deploying {name}")
        return str(receipt["contractAddress"]), receipt

    async def _call(
        self, purpose: str, address: str, name: ContractName, fn: str, *args: Any
    ) -> dict[str, Any]:
        client = await self.client()
        contract = client.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(name))
        data = contract.encode_abi(fn, args=list(args))
        return await self._send(purpose, {"to": contract.address, "data": data}, f"{name}.{fn}")

    # ------------------------------------------------------------------ platform

    async def platform(self) -> ChainPlatform | None:
        client = await self.client()
        genesis = await asyncio.to_thread(client.genesis_hash)
        async with self.sessions() as session:
            return (
                await session.execute(
                    select(ChainPlatform).where(
                        ChainPlatform.chain_id == self.target.chain_id,
                        ChainPlatform.genesis_hash == genesis,
                    )
                )
            ).scalar_one_or_none()

    async def ensure_platform(self) -> ChainPlatform:
        """The factory (UUPS proxy), its implementation, the collection implementation (version 1)
        and the split factory: deployed once per chain, found afterwards."""
        found = await self.platform()
        if found is not None:
            return found
        client = await self.client()
        genesis = await asyncio.to_thread(client.genesis_hash)
        tag = f"platform:{self.target.chain_id}:{genesis[:18]}"
        owner = client.address
        factory_impl, _ = await self._deploy(f"{tag}:factory-impl", ContractName.FACTORY)
        init = client.w3.eth.contract(abi=abi(ContractName.FACTORY)).encode_abi(
            "initialize", args=[owner]
        )
        proxy, _ = await self._deploy(
            f"{tag}:factory-proxy", ContractName.PROXY, factory_impl, init
        )
        collection_impl, _ = await self._deploy(f"{tag}:collection-impl", ContractName.COLLECTION)
        await self._call(
            f"{tag}:register-v1",
            proxy,
            ContractName.FACTORY,
            "registerImplementation",
            collection_impl,
        )
        split_factory, receipt = await self._deploy(
            f"{tag}:split-factory", ContractName.SPLIT_FACTORY
        )
        row = ChainPlatform(
            id=uuid.uuid4(), chain_id=self.target.chain_id, genesis_hash=genesis, factory=proxy,
            factory_implementation=factory_impl, collection_implementation=collection_impl,
            split_factory=split_factory, deployer=owner, block_number=int(receipt["blockNumber"]),
        )  # fmt: skip
        async with self.sessions() as session, session.begin():
            session.add(row)
        return row

    # ------------------------------------------------------------------ collections

    async def deploy_collection(
        self, terms: CollectionTerms, *, collection_id: uuid.UUID | None = None
    ) -> CollectionDeployment:
        """Predict the clone's address, create it with its royalty split, verify the code is
        there; a second call with the same terms returns the same deployment."""
        platform = await self.ensure_platform()
        client = await self.client()
        salt = keccak(text=f"emprops:{collection_id or ''}:{terms.salt_source}:{terms.name}")
        factory = client.w3.eth.contract(
            address=Web3.to_checksum_address(platform.factory), abi=abi(ContractName.FACTORY)
        )
        predicted = str(
            await asyncio.to_thread(factory.functions.predictAddress(client.address, salt, 1).call)
        )
        async with self.sessions() as session:
            existing = (
                await session.execute(
                    select(CollectionDeployment).where(
                        CollectionDeployment.chain_id == self.target.chain_id,
                        CollectionDeployment.address == predicted,
                    )
                )
            ).scalar_one_or_none()
        if existing is not None:
            return existing
        split = await self._royalty_split(platform, terms)
        params = (
            terms.name, terms.symbol, terms.base_uri, terms.contract_uri, terms.owner, client.address,
            split or terms.owner, terms.royalty_bps, terms.max_supply, terms.max_per_tx,
            terms.window_limit, terms.window_seconds, terms.ownership_stride,
        )  # fmt: skip
        receipt = await self._call(
            f"collection:{self.target.chain_id}:{predicted}", platform.factory, ContractName.FACTORY,
            "createCollection", 1, salt, params,
        )  # fmt: skip
        code = await asyncio.to_thread(client.w3.eth.get_code, Web3.to_checksum_address(predicted))
        if not code:
            raise ConflictError(
                f"the factory did not create the collection at its predicted address {predicted}",
                details={"tx_hash": "0x" + bytes(receipt["transactionHash"]).hex()},
            )
        row = CollectionDeployment(
            id=uuid.uuid4(), collection_id=collection_id, platform_id=platform.id,
            chain_id=self.target.chain_id, address=predicted, salt="0x" + salt.hex(),
            owner=terms.owner, royalty_split=split, params=terms.model_dump(mode="json"),
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(), gas_used=int(receipt["gasUsed"]),
        )  # fmt: skip
        async with self.sessions() as session, session.begin():
            session.add(row)
        return row

    async def _royalty_split(self, platform: ChainPlatform, terms: CollectionTerms) -> str | None:
        """80% creator / 20% platform, as our splitter (immutable, address known in advance)."""
        if not terms.royalty_bps or platform.split_factory is None:
            return None
        client = await self.client()
        creator, us = terms.owner, client.address
        if creator.lower() == us.lower():
            return None  # nothing to split
        pairs = sorted([(creator, ROYALTY_CREATOR_SHARE), (us, 1_000_000 - ROYALTY_CREATOR_SHARE)],
                       key=lambda p: int(p[0], 16))  # fmt: skip
        accounts, shares = [p[0] for p in pairs], [p[1] for p in pairs]
        factory = client.w3.eth.contract(
            address=Web3.to_checksum_address(platform.split_factory),
            abi=abi(ContractName.SPLIT_FACTORY),
        )
        address = str(
            await asyncio.to_thread(factory.functions.predictSplitAddress(accounts, shares).call)
        )
        if not await asyncio.to_thread(client.w3.eth.get_code, Web3.to_checksum_address(address)):
            await self._call(f"split:{self.target.chain_id}:{address}", platform.split_factory,
                             ContractName.SPLIT_FACTORY, "createSplit", accounts, shares)  # fmt: skip
        return address

    async def deployment(self, ref: str) -> CollectionDeployment:
        """A deployment by id or contract address (on this chain)."""
        async with self.sessions() as session:
            query = select(CollectionDeployment)
            try:
                query = query.where(CollectionDeployment.id == uuid.UUID(ref))
            except ValueError:
                query = query.where(
                    CollectionDeployment.chain_id == self.target.chain_id,
                    CollectionDeployment.address == checksum(ref, "collection"),
                )
            found = (await session.execute(query)).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"no deployed collection {ref} on {self.target.name}")
        return found

    # ------------------------------------------------------------------ minting

    async def mint(
        self,
        deployment_id: uuid.UUID,
        to: str,
        quantity: int,
        *,
        request_id: str,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> MintRequest:
        """Mint `quantity` to `to` in batches (at most the contract's per-transaction limit).
        The same request id again resumes or returns this mint, never a second one."""
        to = checksum(to, "to")
        if quantity < 1:
            raise InvalidInputError("quantity must be at least 1", details={"field": "quantity"})
        async with self.sessions() as session:
            deployment = await session.get(CollectionDeployment, deployment_id)
            if deployment is None:
                raise NotFoundError(f"no collection deployment {deployment_id}")
            request = (
                await session.execute(
                    select(MintRequest).where(
                        MintRequest.deployment_id == deployment_id,
                        MintRequest.request_id == request_id,
                    )
                )
            ).scalar_one_or_none()
        per_tx = int(deployment.params.get("max_per_tx", 100))
        size = min(batch_size or per_tx, per_tx)
        if request is None:
            await self._check_supply(deployment, quantity)
            request = MintRequest(
                id=uuid.uuid4(), deployment_id=deployment_id, request_id=request_id, to_address=to,
                quantity=quantity, batch_size=size, status="pending", minted=0, gas_used=0,
            )  # fmt: skip
            async with self.sessions() as session, session.begin():
                session.add(request)
        elif request.to_address != to or request.quantity != quantity:
            raise ConflictError(
                f"mint request {request_id} was made for {request.quantity} to {request.to_address}",
                details={"field": "request_id"},
            )
        if request.status == "minted":
            return request
        batches = math.ceil(request.quantity / request.batch_size)
        minted, gas, first = 0, 0, request.first_token_id
        for index in range(batches):
            count = min(request.batch_size, request.quantity - index * request.batch_size)
            try:
                receipt = await self._call(
                    f"mint:{deployment_id}:{request_id}:{index}", deployment.address,
                    ContractName.COLLECTION, "mintTo", to, count,
                )  # fmt: skip
            except TransactionRevertedError as exc:
                await self._update_request(
                    request.id, status="failed", error=exc.message, minted=minted, gas_used=gas
                )
                raise
            minted += count
            gas += int(receipt["gasUsed"])
            if first is None:
                first = self._first_token(receipt)
            await self._update_request(
                request.id, minted=minted, gas_used=gas, first_token_id=first
            )
            if progress is not None:
                await progress(minted, request.quantity)
        await self._update_request(request.id, status="minted")
        async with self.sessions() as session:
            done = await session.get(MintRequest, request.id)
            assert done is not None
            return done

    async def _check_supply(self, deployment: CollectionDeployment, quantity: int) -> None:
        client = await self.client()
        contract = client.w3.eth.contract(
            address=Web3.to_checksum_address(deployment.address), abi=abi(ContractName.COLLECTION)
        )
        supply = int(await asyncio.to_thread(contract.functions.totalSupply().call))
        cap = int(await asyncio.to_thread(contract.functions.maxSupply().call))
        if supply + quantity > cap:
            raise InvalidInputError(
                f"minting {quantity} would exceed the max supply of {cap} ({supply} minted)",
                details={"field": "quantity", "max_supply": cap, "total_supply": supply},
            )

    @staticmethod
    def _first_token(receipt: dict[str, Any]) -> int | None:
        transfer = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
        for entry in receipt.get("logs", []):
            topics = entry.get("topics") or []
            if len(topics) == 4 and "0x" + bytes(topics[0]).hex() == transfer:
                return int.from_bytes(bytes(topics[3]), "big")
        return None

    async def _update_request(self, request_id: uuid.UUID, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(MintRequest).where(MintRequest.id == request_id).values(**values)
            )
