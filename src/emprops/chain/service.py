"""The chain service: deploy the platform once per chain, deploy a collection through the factory
(address predicted, then verified), create its royalty split, mint in batches.

Everything it sends goes through `_send`, which makes sending idempotent: a transaction is signed
and stored with a `purpose` (e.g. `mint:<deployment>:<request>:<batch>`) and COMMITTED before it
is broadcast. Asked again for the same purpose, it never signs anew: it finds the receipt, or
re-broadcasts the very same signed bytes (same nonce, same hash), so a crash anywhere between
signing and the receipt cannot make a second mint. That is why this service commits as it goes
(one short unit of work per step, `_unit`) instead of leaving the commit to its caller.

Nonces: the signer's database row is locked while a nonce is chosen and the transaction signed,
and a file lock per signer keeps signing-to-broadcast in nonce order on this machine; a
transaction recorded but never sent (its process died) is sent before any later nonce.

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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3 import Web3

from emprops.chain.client import ChainClient, ChainRpcError, TransactionRevertedError
from emprops.chain.contracts import ContractName, abi, bytecode
from emprops.chain.presets import ChainTarget
from emprops.chain.repository import ChainRepository
from emprops.chain.splits import TOTAL_ALLOCATION, SplitShares, split_factory_at
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

    @asynccontextmanager
    async def _unit(self) -> AsyncIterator[ChainRepository]:
        """One short unit of work, committed when the block ends: each step this service records
        must be durable before the next (above all a signed transaction before it is sent)."""
        async with self.sessions() as session, session.begin():
            yield ChainRepository(session)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[ChainRepository]:
        async with self.sessions() as session:
            yield ChainRepository(session)

    # ------------------------------------------------------------------ sending

    async def _send(self, purpose: str, tx: dict[str, Any], what: str) -> dict[str, Any]:
        """Sign-record-commit-broadcast-wait, once per purpose, whatever crashes in between."""
        client = await self.client()
        async with self._reading() as repo:
            row = await repo.transaction(purpose)
        if row is None:
            async with self._broadcast_order(client.address):
                row = await self._sign_and_record(client, purpose, tx)
                if AFTER_RECORD is not None:
                    AFTER_RECORD(purpose)
                await self._broadcast(client, row)
            if AFTER_BROADCAST is not None:
                AFTER_BROADCAST(purpose)
        elif row.status in ("signed", "sent"):
            known = await asyncio.to_thread(client.receipt, row.tx_hash)
            if known is None and not await asyncio.to_thread(client.known, row.tx_hash):
                async with self._broadcast_order(client.address):
                    await self._broadcast(client, row)  # the same bytes
        try:
            receipt = await asyncio.to_thread(client.wait, row.tx_hash, what)
        except TransactionRevertedError as exc:
            async with self._unit() as repo:
                await repo.update_transaction(row.id, status="reverted", error=exc.message)
            raise
        async with self._unit() as repo:
            await repo.update_transaction(
                row.id,
                status="mined",
                block_number=int(receipt["blockNumber"]),
                gas_used=int(receipt["gasUsed"]),
            )
        return receipt

    async def _broadcast(self, client: ChainClient, row: ChainTransaction) -> None:
        """Send `row`, after any transaction of this signer recorded with a lower nonce but never
        sent (its process died between recording and sending): a node will not mine nonce N+1
        before N, and an automining one refuses it outright."""
        async with self._reading() as repo:
            earlier = await repo.unsent_before(self.target.chain_id, row.signer, row.nonce)
        for waiting in earlier:
            try:
                await asyncio.to_thread(client.broadcast, waiting.raw, waiting.tx_hash)
            except ChainRpcError as exc:
                raise ChainRpcError(
                    f"{waiting.purpose} (nonce {waiting.nonce}) must be sent before "
                    f"{row.purpose} (nonce {row.nonce}) and the node refused it: {exc.message}",
                    details={"tx_hash": waiting.tx_hash},
                ) from None
        await asyncio.to_thread(client.broadcast, row.raw, row.tx_hash)
        async with self._unit() as repo:
            await repo.mark_sent([*(w.id for w in earlier), row.id])

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
            # polled, not a blocking flock in a thread: many waiters in one process would take
            # every worker thread and leave none for the holder's RPC calls
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.02)
            yield
        finally:
            handle.close()  # closing releases the lock

    async def _sign_and_record(
        self, client: ChainClient, purpose: str, tx: dict[str, Any]
    ) -> ChainTransaction:
        address = client.address
        await self._ensure_signer_row(address)
        async with self._unit() as repo:
            # the signer row's lock (the database's write lock on SQLite) orders nonces across
            # processes and machines
            signer = await repo.lock_signer(self.target.chain_id, address)
            already = await repo.transaction(purpose)
            if already is not None:
                return already  # another process signed this very step while we waited
            nonce = max(signer.next_nonce, await asyncio.to_thread(client.pending_nonce))
            # a revert or no funds raises here, before anything is kept
            signed = await asyncio.to_thread(client.sign, tx, nonce)
            row = ChainTransaction(
                id=uuid.uuid4(), chain_id=self.target.chain_id, purpose=purpose, signer=address,
                nonce=nonce, tx_hash=signed.tx_hash, raw=signed.raw, status="signed",
            )  # fmt: skip
            repo.session.add(row)
            signer.next_nonce = nonce + 1
        return row

    async def _ensure_signer_row(self, address: str) -> None:
        async with self._reading() as repo:
            if await repo.signer_exists(self.target.chain_id, address):
                return
            repo.session.add(
                ChainSigner(
                    id=uuid.uuid4(), chain_id=self.target.chain_id, address=address, next_nonce=0
                )
            )
            try:
                await repo.session.commit()
            except IntegrityError:
                await repo.session.rollback()  # another process made it first

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

    async def _has_code(self, address: str) -> bool:
        client = await self.client()
        code = await asyncio.to_thread(client.w3.eth.get_code, Web3.to_checksum_address(address))
        return bool(code)

    # ------------------------------------------------------------------ platform

    async def platform(self) -> ChainPlatform | None:
        client = await self.client()
        genesis = await asyncio.to_thread(client.genesis_hash)
        async with self._reading() as repo:
            return await repo.platform(self.target.chain_id, genesis)

    async def ensure_platform(self) -> ChainPlatform:
        """The factory (UUPS proxy), its implementation, the collection implementation (version 1)
        and the split factory (the canonical 0xSplits one where the chain has it, else our own):
        deployed once per chain, found afterwards."""
        found = await self.platform()
        if found is not None:
            return found
        client = await self.client()
        genesis = await asyncio.to_thread(client.genesis_hash)
        tag = f"platform:{self.target.chain_id}:{genesis[:18]}"
        owner = client.address
        factory_impl, receipt = await self._deploy(f"{tag}:factory-impl", ContractName.FACTORY)
        init = client.w3.eth.contract(abi=abi(ContractName.FACTORY)).encode_abi(
            "initialize", args=[owner]
        )
        proxy, receipt = await self._deploy(
            f"{tag}:factory-proxy", ContractName.PROXY, factory_impl, init
        )
        collection_impl, receipt = await self._deploy(
            f"{tag}:collection-impl", ContractName.COLLECTION
        )
        receipt = await self._call(
            f"{tag}:register-v1",
            proxy,
            ContractName.FACTORY,
            "registerImplementation",
            collection_impl,
        )
        canonical = self.target.preset.splits_factory
        if canonical is not None and await self._has_code(canonical):
            split_factory = str(Web3.to_checksum_address(canonical))
        else:
            split_factory, receipt = await self._deploy(
                f"{tag}:split-factory", ContractName.SPLIT_FACTORY
            )
        row = ChainPlatform(
            id=uuid.uuid4(), chain_id=self.target.chain_id, genesis_hash=genesis, factory=proxy,
            factory_implementation=factory_impl, collection_implementation=collection_impl,
            split_factory=split_factory, deployer=owner, block_number=int(receipt["blockNumber"]),
        )  # fmt: skip
        try:
            async with self._unit() as repo:
                repo.session.add(row)
        except IntegrityError:  # another process finished the same steps first
            recorded = await self.platform()
            if recorded is None:
                raise
            return recorded
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
        async with self._reading() as repo:
            existing = await repo.deployment_at(self.target.chain_id, predicted)
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
        if not await self._has_code(predicted):
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
        try:
            async with self._unit() as repo:
                repo.session.add(row)
        except IntegrityError:  # the same deployment, recorded by another process meanwhile
            async with self._reading() as repo:
                recorded = await repo.deployment_at(self.target.chain_id, predicted)
            if recorded is None:
                raise
            return recorded
        return row

    async def _royalty_split(self, platform: ChainPlatform, terms: CollectionTerms) -> str | None:
        """80% creator / 20% platform, immutable, its address known in advance: created once,
        found again for every collection with the same creator."""
        if not terms.royalty_bps or platform.split_factory is None:
            return None
        client = await self.client()
        creator, us = terms.owner, client.address
        if creator.lower() == us.lower():
            return None  # nothing to split
        shares = SplitShares.of(
            {creator: ROYALTY_CREATOR_SHARE, us: TOTAL_ALLOCATION - ROYALTY_CREATOR_SHARE}
        )
        splits = split_factory_at(platform.split_factory)
        address = await asyncio.to_thread(splits.predict, client.w3, shares)
        if not await self._has_code(address):
            data = splits.create_calldata(client.w3, shares, us)
            receipt = await self._send(
                f"split:{self.target.chain_id}:{address}",
                {"to": Web3.to_checksum_address(splits.address), "data": data},
                "creating the royalty split",
            )
            if not await self._has_code(address):
                raise ConflictError(
                    f"the split factory did not create the split at its predicted address {address}",
                    details={"tx_hash": "0x" + bytes(receipt["transactionHash"]).hex()},
                )
        return address

    async def deployment(self, ref: str) -> CollectionDeployment:
        """A deployment by id or contract address (on this chain)."""
        async with self._reading() as repo:
            try:
                found = await repo.deployment(uuid.UUID(ref))
            except ValueError:
                found = await repo.deployment_at(self.target.chain_id, checksum(ref, "collection"))
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
        async with self._reading() as repo:
            deployment = await repo.deployment(deployment_id)
            if deployment is None:
                raise NotFoundError(f"no collection deployment {deployment_id}")
            request = await repo.mint_request(deployment_id, request_id)
        per_tx = int(deployment.params.get("max_per_tx", 100))
        size = min(batch_size or per_tx, per_tx)
        if request is None:
            await self._check_supply(deployment, quantity)
            request = MintRequest(
                id=uuid.uuid4(), deployment_id=deployment_id, request_id=request_id, to_address=to,
                quantity=quantity, batch_size=size, status="pending", minted=0, gas_used=0,
            )  # fmt: skip
            try:
                async with self._unit() as repo:
                    repo.session.add(request)
            except IntegrityError:  # the same request id, made by another process meanwhile
                async with self._reading() as repo:
                    request = await repo.mint_request(deployment_id, request_id)
                if request is None:
                    raise
        if request.to_address != to or request.quantity != quantity:
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
                async with self._unit() as repo:
                    await repo.update_mint_request(
                        request.id, status="failed", error=exc.message, minted=minted, gas_used=gas
                    )
                raise
            minted += count
            gas += int(receipt["gasUsed"])
            if first is None:
                first = self._first_token(receipt)
            async with self._unit() as repo:
                await repo.update_mint_request(
                    request.id, minted=minted, gas_used=gas, first_token_id=first
                )
            if progress is not None:
                await progress(minted, request.quantity)
        async with self._unit() as repo:
            await repo.update_mint_request(request.id, status="minted")
            done = await repo.mint_request_by_id(request.id)
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
