"""Assets: stored outputs recorded with their provenance, listed per collection and per step,
hidden and shown again, and never visible to another user."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from emprops.assets import record_output
from emprops.core.errors import InvalidInputError, NotFoundError
from tests.api.conftest import Api

DATA = {
    "version": "v2",
    "steps": [
        {"id": 1, "nodeName": "layers", "nodePayload": {}},
        {"id": 2, "nodeName": "animate", "nodePayload": {"frames": {"$ref": 1, "path": ".src"}}},
    ],
    "generations": {"generations": 2},
}


async def collection_with_outputs(
    api: Api, headers: dict[str, str], files_per_step: int
) -> tuple[dict[str, Any], list[dict[str, Any]], list[uuid.UUID]]:
    """A two-step collection, its components, and the ids of files recorded for each step."""
    project = (await api.client.post("/projects", headers=headers, json={"name": "p"})).json()
    collection = (
        await api.client.post(
            f"/projects/{project['id']}/collections",
            headers=headers,
            json={"source": "custom", "data": DATA},
        )
    ).json()
    components = (
        await api.client.get(f"/collections/{collection['id']}/components", headers=headers)
    ).json()
    file_ids = []
    async with api.state.sessions() as session:
        for component in components:
            for g in range(files_per_step):
                name = f"{component['node_name']}-{g}.png"
                flat_file = await record_output(
                    session,
                    uuid.UUID(headers["X-User-Id"]),
                    uuid.UUID(component["id"]),
                    f"file:///generations/run/{g}/{component['step_id']}/{name}",
                    f"generations/run/{g}/{component['step_id']}/{name}",
                    name,
                    "image/png",
                    {"step": {"nodeName": component["node_name"], "nodePayload": {"g": g}}},
                    {"src": f"file:///{name}", "mimeType": "image/png"},
                )
                file_ids.append(flat_file.id)
        await session.commit()
    return collection, components, file_ids


async def test_outputs_are_listed_read_with_provenance_and_hidden(api: Api) -> None:
    alice = await api.new_user("alice")
    collection, components, file_ids = await collection_with_outputs(api, alice, 2)
    base = f"/collections/{collection['id']}/assets"
    listed = (await api.client.get(base, headers=alice)).json()
    assert sorted(a["id"] for a in listed) == sorted(str(i) for i in file_ids)
    assert "gen_in_data" not in listed[0]  # lists stay small; provenance is per asset
    first_step = (
        await api.client.get(f"/components/{components[0]['id']}/assets", headers=alice)
    ).json()
    assert sorted(a["id"] for a in first_step) == sorted(str(i) for i in file_ids[:2])
    pages = [
        (await api.client.get(f"{base}?limit=3&offset={o}", headers=alice)).json() for o in (0, 3)
    ]
    assert [len(p) for p in pages] == [3, 1]
    assert {a["id"] for p in pages for a in p} == {a["id"] for a in listed}

    detail = (await api.client.get(f"/assets/{file_ids[3]}", headers=alice)).json()
    assert detail["gen_in_data"] == {"step": {"nodeName": "animate", "nodePayload": {"g": 1}}}
    assert detail["gen_out_data"] == {"src": "file:///animate-1.png", "mimeType": "image/png"}
    assert detail["path"] == f"generations/run/1/{components[1]['step_id']}/animate-1.png"
    assert [c["id"] for c in detail["components"]] == [components[1]["id"]]
    assert detail["components"][0]["collection_id"] == collection["id"]

    hidden = await api.client.post(f"/assets/{file_ids[0]}/hide", headers=alice)
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    visible = (await api.client.get(base, headers=alice)).json()
    assert str(file_ids[0]) not in {a["id"] for a in visible} and len(visible) == 3
    everything = (await api.client.get(f"{base}?include_hidden=true", headers=alice)).json()
    assert len(everything) == 4
    assert (await api.client.get(f"/assets/{file_ids[0]}", headers=alice)).status_code == 200
    shown = await api.client.post(f"/assets/{file_ids[0]}/unhide", headers=alice)
    assert shown.json()["hidden"] is False
    assert len((await api.client.get(base, headers=alice)).json()) == 4


async def test_a_removed_step_keeps_its_outputs(api: Api) -> None:
    alice = await api.new_user("alice")
    collection, components, file_ids = await collection_with_outputs(api, alice, 1)
    data = collection["data"]
    kept_id = data["steps"][0]["id"]
    data["steps"] = [data["steps"][0], {"id": 9, "nodeName": "animate", "nodePayload": {}}]
    url = f"/collections/{collection['id']}"
    assert (await api.client.patch(url, headers=alice, json={"data": data})).status_code == 200
    # The dropped step had a file: its component stays so the file is still found; the new
    # step (no files yet) is added.
    steps = {
        c["step_id"] for c in (await api.client.get(f"{url}/components", headers=alice)).json()
    }
    assert steps == {kept_id, components[1]["step_id"], 9}
    listed = (await api.client.get(f"{url}/assets", headers=alice)).json()
    assert sorted(a["id"] for a in listed) == sorted(str(i) for i in file_ids)
    data["steps"] = [data["steps"][0]]
    await api.client.patch(url, headers=alice, json={"data": data})
    steps = {
        c["step_id"] for c in (await api.client.get(f"{url}/components", headers=alice)).json()
    }
    assert steps == {kept_id, components[1]["step_id"]}  # 9 had no files: gone


async def test_no_user_reaches_another_users_assets(api: Api) -> None:
    alice, bob = await api.new_user("alice"), await api.new_user("bob")
    collection, components, file_ids = await collection_with_outputs(api, alice, 1)
    for method, path in [
        ("GET", f"/collections/{collection['id']}/assets"),
        ("GET", f"/components/{components[0]['id']}/assets"),
        ("GET", f"/assets/{file_ids[0]}"),
        ("POST", f"/assets/{file_ids[0]}/hide"),
        ("POST", f"/assets/{file_ids[0]}/unhide"),
    ]:
        response = await api.client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    assert (await api.client.get(f"/assets/{file_ids[0]}", headers=alice)).json()["hidden"] is False

    # The recording side refuses too: bob's run cannot file an output under alice's step.
    async with api.state.sessions() as session:
        with pytest.raises(NotFoundError):
            await record_output(
                session, uuid.UUID(bob["X-User-Id"]), uuid.UUID(components[0]["id"]),
                "file:///x", None, "x", None, None, None,
            )  # fmt: skip
        with pytest.raises(InvalidInputError, match="name"):
            await record_output(
                session, uuid.UUID(alice["X-User-Id"]), uuid.UUID(components[0]["id"]),
                "file:///x", None, "n" * 301, None, None, None,
            )  # fmt: skip


async def test_bad_requests_get_422(api: Api) -> None:
    alice = await api.new_user("alice")
    collection, components, file_ids = await collection_with_outputs(api, alice, 1)
    for path in [
        "/assets/not-a-uuid",
        "/components/123/assets",
        f"/collections/{collection['id']}/assets?limit=0",
        f"/collections/{collection['id']}/assets?limit=1000",
        f"/components/{components[0]['id']}/assets?offset=-5",
        f"/collections/{collection['id']}/assets?include_hidden=maybe",
    ]:
        response = await api.client.get(path, headers=alice)
        assert response.status_code == 422, path
        assert response.json()["error"]["code"] == "invalid_input"
    assert (await api.client.get(f"/assets/{uuid.uuid4()}", headers=alice)).status_code == 404
    missing = await api.client.get(f"/components/{uuid.uuid4()}/assets", headers=alice)
    assert missing.status_code == 404
    hide_body = await api.client.post(f"/assets/{file_ids[0]}/hide", headers={})
    assert hide_body.status_code == 401
