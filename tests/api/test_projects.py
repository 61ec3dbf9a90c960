"""Projects: CRUD with history, strict tenant isolation, clear errors for bad input."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api


async def test_crud_and_history(api: Api) -> None:
    alice = await api.new_user("alice")
    created = await api.client.post(
        "/projects", headers=alice, json={"name": "Genesis", "description": "first"}
    )
    assert created.status_code == 201
    pid = created.json()["id"]
    renamed = await api.client.patch(f"/projects/{pid}", headers=alice, json={"name": "Genesis II"})
    assert renamed.json()["name"] == "Genesis II" and renamed.json()["description"] == "first"
    archived = await api.client.delete(f"/projects/{pid}", headers=alice)
    assert archived.json()["archived_at"] is not None
    assert (await api.client.get("/projects", headers=alice)).json() == []
    listed = await api.client.get("/projects?include_archived=true", headers=alice)
    assert [p["id"] for p in listed.json()] == [pid]
    history = (await api.client.get(f"/projects/{pid}/history", headers=alice)).json()
    assert [h["action"] for h in history] == ["created", "updated", "archived"]


async def test_no_user_sees_or_changes_another_users_project(api: Api) -> None:
    alice, bob = await api.new_user("alice"), await api.new_user("bob")
    pid = (await api.client.post("/projects", headers=alice, json={"name": "mine"})).json()["id"]
    for method, path, body in [
        ("GET", f"/projects/{pid}", None),
        ("PATCH", f"/projects/{pid}", {"name": "stolen"}),
        ("DELETE", f"/projects/{pid}", None),
        ("GET", f"/projects/{pid}/history", None),
    ]:
        response = await api.client.request(method, path, headers=bob, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    assert (await api.client.get("/projects", headers=bob)).json() == []
    mine = (await api.client.get(f"/projects/{pid}", headers=alice)).json()
    assert mine["name"] == "mine" and mine["archived_at"] is None


async def test_bad_input_gets_a_clear_4xx_and_writes_nothing(api: Api) -> None:
    alice = await api.new_user()
    cases = [
        ({"name": ""}, "name"),
        ({"name": "x", "surprise": 1}, "surprise"),
        ({"name": 5}, "name"),
        ({}, "name"),
    ]
    for body, field in cases:
        response = await api.client.post("/projects", headers=alice, json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and field in error["message"], error
    bad_uuid = await api.client.get("/projects/not-a-uuid", headers=alice)
    assert bad_uuid.status_code == 422
    missing = await api.client.get(f"/projects/{uuid.uuid4()}", headers=alice)
    assert missing.status_code == 404
    oversized = await api.client.post(
        "/projects", headers={**alice, "content-type": "application/json"}, content=b" " * 2_000_000
    )
    assert oversized.status_code == 413 and oversized.json()["error"]["code"] == "too_large"
    assert (await api.client.get("/projects", headers=alice)).json() == []
