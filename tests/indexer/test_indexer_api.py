"""The indexer's queries over the REST API: collections by creator, mint history, tokens owned,
one token and its transfers; bad addresses are 422 with the field named, unknown tokens 404."""

from __future__ import annotations

from emprops.indexer import Indexer
from tests.api import conftest as api_fixtures
from tests.api.conftest import Api
from tests.chain.harness import pyevm_chain
from tests.indexer.world import build_world

api = api_fixtures.api
api_settings = api_fixtures.api_settings


async def test_indexed_chain_data_is_served(api: Api) -> None:
    world = build_world(pyevm_chain())
    await Indexer(world.chain.w3, api.state.sessions, world.config()).run_once()
    user = await api.new_user()
    a = world.chain.accounts

    created = await api.client.get("/chain/collections", params={"creator": a[1]}, headers=user)
    assert created.status_code == 200, created.text
    assert {c["address"] for c in created.json()} == {world.c1.address, world.c2.address}

    mints = await api.client.get(f"/chain/collections/{world.c1.address}/mints", headers=user)
    assert [m["token_id"] for m in mints.json()] == [0, 1, 2, 3, 4, 5]
    assert [m["to_address"] for m in mints.json()][:3] == [a[3]] * 3

    owned = await api.client.get("/chain/tokens", params={"owner": a[5]}, headers=user)
    assert [(t["collection"], t["token_id"]) for t in owned.json()] == [(world.c1.address, 1)]

    token = await api.client.get(f"/chain/collections/{world.c1.address}/tokens/2", headers=user)
    assert token.json()["version"] == 3
    moves = await api.client.get(
        f"/chain/collections/{world.c1.address}/tokens/1/transfers", headers=user
    )
    assert [(m["from_address"], m["to_address"]) for m in moves.json()][-2:] == [
        (a[3], a[4]),
        (a[4], a[5]),
    ]

    bad = await api.client.get("/chain/tokens", params={"owner": "0x12"}, headers=user)
    assert bad.status_code == 422 and "owner" in bad.text
    missing = await api.client.get(f"/chain/collections/{world.c3.address}/tokens/9", headers=user)
    assert missing.status_code == 404
    anonymous = await api.client.get("/chain/tokens", params={"owner": a[5]})
    assert anonymous.status_code == 401
