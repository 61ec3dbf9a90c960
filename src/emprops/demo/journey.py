"""The demo's journey through the product, over the same REST API a user's client would use:
sign in, create a project and a collection, generate it, package, deploy, mint, index.

Every step first looks for what an earlier run of the demo made (kept in `DemoState`), so running
the demo again resumes where it stopped and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from emprops.api.state import AppState
from emprops.core.errors import EmpropsError, UnavailableError
from emprops.demo.art import collection_document
from emprops.demo.state import DemoState

DEMO_CREDITS = 1_000_000
MINT_REQUEST = "demo-mint"
RATE_LIMIT_RETRIES = 10


class DemoFailedError(EmpropsError):
    pass


class DemoUi(Protocol):
    """How the journey shows itself (a Rich console in the CLI; nothing in tests)."""

    def phase(self, name: str, detail: str = "") -> None: ...

    def progress(self, name: str, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class DemoCollection:
    """What the journey makes: the collection, and the components to import before it."""

    title: str
    description: str
    document: dict[str, Any]
    symbol: str
    steps: str  # its steps, in words
    components: dict[str, Any] | None = None  # a `POST /workflows/import` body


def layered_collection(tokens: int) -> DemoCollection:
    return DemoCollection(
        title="EmProps Demo Faces",
        description=f"{tokens} layered faces made by `emprops demo`.",
        document=collection_document(tokens),
        symbol="EMPFACE",
        steps="one `layers` step",
    )


@dataclass
class DemoResult:
    collection_id: str = ""
    run_id: str = ""
    tokens: int = 0
    generated: int = 0
    failed: int = 0
    package: dict[str, Any] = field(default_factory=dict)
    deployment: dict[str, Any] = field(default_factory=dict)
    mint: dict[str, Any] = field(default_factory=dict)
    indexed: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    resumed: list[str] = field(default_factory=list)


class DemoJourney:
    def __init__(
        self,
        client: httpx.AsyncClient,
        app_state: AppState,
        state: DemoState,
        state_path: Path,
        *,
        tokens: int,
        ui: DemoUi,
        collector: str,
        made: DemoCollection | None = None,
    ) -> None:
        self.client, self.app_state = client, app_state
        self.state, self.state_path = state, state_path
        self.tokens, self.ui, self.collector = tokens, ui, collector
        self.made = made or layered_collection(tokens)
        self.result = DemoResult(tokens=tokens)

    def _save(self) -> None:
        self.state.save(self.state_path)

    @property
    def _headers(self) -> dict[str, str]:
        assert self.state.api_key is not None
        return {"Authorization": f"Bearer {self.state.api_key}"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(RATE_LIMIT_RETRIES + 1):  # polling a long run outruns the key's limit
            response = await self.client.request(method, path, headers=self._headers, **kwargs)
            if response.status_code != 429 or attempt == RATE_LIMIT_RETRIES:
                break
            await asyncio.sleep(min(float(response.headers.get("retry-after") or 1), 60))
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                message = f"{error['message']} ({error['code']})"
            except Exception:
                message = response.text[:500]
            raise DemoFailedError(f"{method} {path} answered {response.status_code}: {message}")
        return response.json() if response.content else None

    async def _timed(self, name: str, step: Callable[[], Any]) -> None:
        started = time.perf_counter()
        await step()
        self.result.timings[name] = time.perf_counter() - started

    async def run(self) -> DemoResult:
        await self._timed("sign in", self.sign_in)
        if self.made.components is not None:
            await self._timed("components", self.import_components)
        await self._timed("collection", self.collection)
        await self._timed("generate", self.generate)
        await self._timed("package", self.package)
        await self._timed("deploy", self.deploy)
        await self._timed("mint", self.mint)
        await self._timed("index", self.index)
        return self.result

    # ------------------------------------------------------------------------------ steps

    async def sign_in(self) -> None:
        """A demo user with an API key and credits, made once (straight in the database, as
        `emprops users create` does; everything after goes through the API)."""
        from emprops.auth.repository import AuthRepository
        from emprops.auth.schemas import ApiKeyCreate
        from emprops.auth.service import AuthService
        from emprops.credits.repository import CreditRepository
        from emprops.credits.schemas import GrantRequest
        from emprops.credits.service import CreditService

        if self.state.api_key is not None:
            probe = await self.client.get("/me", headers=self._headers)
            if probe.status_code == 200:
                self.ui.phase("sign in", "the demo user from before")
                self.result.resumed.append("sign in")
                return
        s = self.app_state
        async with s.sessions() as session:
            auth = AuthService(AuthRepository(session), s.secret, s.settings)
            user = await auth.create_user("demo", is_admin=True)
            key = await auth.create_api_key(
                user, ApiKeyCreate(name="demo", scopes=["read", "write", "admin"])
            )
            await CreditService(CreditRepository(session)).grant(
                GrantRequest(user_id=user.id, amount=DEMO_CREDITS, reference=f"demo-{user.id}")
            )
            await session.commit()
        self.state = DemoState(user_id=str(user.id), api_key=key.token)
        self._save()
        self.ui.phase("sign in", f"user {user.id}, an API key, {DEMO_CREDITS:,} credits")

    async def import_components(self) -> None:
        """As the administrator the demo user is; importing again changes nothing."""
        imported = await self._call("POST", "/workflows/import", json=self.made.components)
        self.ui.phase("components", ", ".join(
            f"{c['name']} v{c['workflow']['version']} ({c['outcome']})" for c in imported
        ))  # fmt: skip

    async def collection(self) -> None:
        if self.state.collection_id is not None:
            found = await self.client.get(
                f"/collections/{self.state.collection_id}", headers=self._headers
            )
            if found.status_code == 200:
                self.result.collection_id = self.state.collection_id
                self.ui.phase("collection", f"{self.state.collection_id} (from before)")
                self.result.resumed.append("collection")
                return
        if self.state.project_id is None:
            project = await self._call("POST", "/projects", json={"name": "EmProps demo"})
            self.state.project_id = project["id"]
            self._save()
        created = await self._call(
            "POST",
            f"/projects/{self.state.project_id}/collections",
            json={
                "title": self.made.title,
                "description": self.made.description,
                "source": "custom",
                "data": self.made.document,
            },
        )
        self.state.collection_id = created["id"]
        self.state.tokens = self.tokens
        self._save()
        self.result.collection_id = created["id"]
        self.ui.phase("collection", f"{created['id']}: {self.tokens} tokens, {self.made.steps}")

    async def generate(self) -> None:
        run = None
        if self.state.run_id is not None:
            run = await self._call("GET", f"/jobs/{self.state.run_id}")
            if run["status"] in ("failed", "cancelled"):
                run = None  # a fresh run; finished generations of the old one are not reused
            else:
                self.result.resumed.append("generate")
        if run is None:
            accepted = await self._call(
                "POST", f"/collections/{self.state.collection_id}/generations", json={}
            )
            self.state.run_id = accepted["job_id"]
            self._save()
        self.result.run_id = str(self.state.run_id)
        while True:
            run = await self._call("GET", f"/jobs/{self.state.run_id}")
            done = int(run.get("completed_generations", 0)) + int(run.get("failed_generations", 0))
            self.ui.progress("generate", done, self.tokens)
            if run["status"] in ("completed", "failed", "cancelled"):
                break
            await asyncio.sleep(0.25)
        self.result.generated = int(run.get("completed_generations", 0))
        self.result.failed = int(run.get("failed_generations", 0))
        if self.result.generated == 0:
            raise DemoFailedError(
                f"the generation run {self.state.run_id} made nothing: {run.get('error')}"
            )
        self.ui.phase("generate", f"{self.result.generated} made, {self.result.failed} failed")

    async def _operation(self, kind: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Ask for a publishing operation and follow it to its end."""
        op = await self._call("POST", path, json=body)
        if op["status"] == "completed":
            self.result.resumed.append(kind)
        while op["status"] in ("queued", "running"):
            self.ui.progress(kind, 0 if op["status"] == "queued" else 1, 2)
            await asyncio.sleep(0.25)
            status = await self._call("GET", f"/collections/{self.state.collection_id}/publishing")
            op = next(o for o in status["operations"] if o["id"] == op["id"])
            if op["status"] == "queued" and op.get("error"):
                self.ui.phase(kind, op["error"])
        self.ui.progress(kind, 2, 2)
        if op["status"] != "completed":
            raise DemoFailedError(f"{kind} failed: {op.get('error')}")
        result: dict[str, Any] = op["result"]
        return result

    async def package(self) -> None:
        base = f"/collections/{self.state.collection_id}"
        self.result.package = await self._operation(
            "package",
            f"{base}/package",
            {
                "run_id": self.state.run_id,
                "symbol": self.made.symbol,
                "royalty_bps": 500,
                "royalty_recipient": self.collector,
            },
        )
        self.ui.phase(
            "package",
            f"{self.result.package['tokens']} tokens, root {self.result.package['root_cid']}",
        )

    async def deploy(self) -> None:
        base = f"/collections/{self.state.collection_id}"
        self.result.deployment = await self._operation(
            "deploy", f"{base}/deploy", {"owner": self.collector}
        )
        self.ui.phase("deploy", f"at {self.result.deployment.get('address')}")

    async def mint(self) -> None:
        base = f"/collections/{self.state.collection_id}"
        body = {"to": self.collector, "quantity": int(self.result.deployment["max_supply"]),
                "request_id": MINT_REQUEST}  # fmt: skip
        self.result.mint = await self._operation("mint", f"{base}/mint", body)
        self.ui.phase("mint", f"{self.result.mint.get('minted')} tokens to {self.collector}")

    async def index(self) -> None:
        """The API follows the chain (its indexer runs beside it): wait until it has every mint."""
        address = self.result.deployment.get("address")
        if not address:
            raise UnavailableError("no deployment address to index")
        wanted = int(self.result.mint.get("minted", 0))
        deadline = time.monotonic() + 300
        while True:
            mints = await self._call(
                "GET", f"/chain/collections/{address}/mints", params={"limit": 1000}
            )
            self.ui.progress("index", len(mints), wanted)
            if len(mints) >= wanted:
                break
            if time.monotonic() > deadline:
                raise DemoFailedError(f"the indexer saw {len(mints)} of {wanted} mints after 300 s")
            await asyncio.sleep(0.5)
        owners = await self._call(
            "GET", "/chain/tokens", params={"owner": self.collector, "limit": 1000}
        )
        self.result.indexed = {
            "mints": len(mints),
            "owned_by_collector": len(owners),
            "owners": len({m["to_address"] for m in mints}),
        }
        self.ui.phase(
            "index", f"{len(mints)} mints indexed; the collector holds {len(owners)} tokens"
        )


def collector_address(seed: str) -> str:
    """A stable address to mint the demo's tokens to (its key is never used)."""
    from eth_account import Account
    from eth_utils.crypto import keccak

    return str(Account.from_key(keccak(text=f"emprops demo collector {seed}")).address)
