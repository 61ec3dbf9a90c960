"""Deploy and mint through the API on the embedded chain: queued operations that end with the
contract deployed and every token minted once, the stage at `minted`, and the indexer serving
the mints; a reused mint request id is the same mint, with other terms a 409."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from emprops.core.settings import Settings
from emprops.indexer.follower import index_once
from tests.api.conftest import Api
from tests.chain.service_world import collection, stop_node
from tests.publishing.conftest import TOKENS, follow, generated_collection, publishing_workers

COLLECTOR = "0x" + "ab" * 20


@pytest.fixture
def node(api_settings: Settings) -> Iterator[None]:
    yield
    stop_node(api_settings.data_dir)


async def test_a_package_is_deployed_minted_and_indexed(
    api: Api, api_settings: Settings, tmp_path: Path, node: None
) -> None:
    user = await api.new_user()
    base = ""
    async with publishing_workers(api_settings, api_settings.data_dir / "assets"):
        collection_id, _ = await generated_collection(api, user, api_settings.data_dir / "assets")
        base = f"/collections/{collection_id}"
        body = {"royalty_bps": 500, "royalty_recipient": COLLECTOR}
        package = await api.client.post(f"{base}/package", headers=user, json=body)
        assert (await follow(api, user, collection_id, package.json()["id"]))[
            "status"
        ] == "completed"
        asked = await api.client.post(f"{base}/deploy", headers=user, json={"chain": "local"})
        assert asked.status_code == 202, asked.text
        deployed = await follow(api, user, collection_id, asked.json()["id"])
        assert deployed["status"] == "completed", deployed
        mint_body = {"to": COLLECTOR, "quantity": TOKENS, "request_id": "drop-1"}
        minting = await api.client.post(f"{base}/mint", headers=user, json=mint_body)
        assert minting.status_code == 202, minting.text
        minted = await follow(api, user, collection_id, minting.json()["id"])
        assert minted["status"] == "completed", minted
        again = await api.client.post(f"{base}/mint", headers=user, json=mint_body)
        assert again.json()["id"] == minted["id"] and again.json()["status"] == "completed"
        other_terms = await api.client.post(
            f"{base}/mint", headers=user, json={**mint_body, "quantity": 1}
        )
        assert other_terms.status_code == 409
        over = await api.client.post(
            f"{base}/mint",
            headers=user,
            json={"to": COLLECTOR, "quantity": 1, "request_id": "drop-2"},
        )
        assert over.status_code == 422 and "supply" in over.json()["error"]["message"]

    address = deployed["result"]["address"]
    assert minted["result"]["minted"] == TOKENS and minted["result"]["first_token_id"] == 0
    status = (await api.client.get(f"{base}/publishing", headers=user)).json()
    assert status["stage"] == "minted" and status["minted"] == TOKENS
    assert status["deployment"]["address"] == address

    progress = await index_once(api_settings, api.state.sessions)
    assert progress is not None and progress.counts.mints == TOKENS
    mints = await api.client.get(f"/chain/collections/{address}/mints", headers=user)
    assert [m["token_id"] for m in mints.json()] == list(range(TOKENS))
    owned = await api.client.get("/chain/tokens", params={"owner": COLLECTOR}, headers=user)
    assert len(owned.json()) == TOKENS

    from emprops.chain.local_node import local_node_url

    w3 = Web3(Web3.HTTPProvider(local_node_url(api_settings.data_dir)))
    assert collection(w3, address).functions.totalSupply().call() == TOKENS
