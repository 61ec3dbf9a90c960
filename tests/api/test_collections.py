"""Collections: four ways to create, fresh ids on every copy, validation that reports everything,
publish and remix rules, and no user ever reaching another user's collection."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select

from emprops.assets import record_output
from emprops.collection import find_component
from emprops.db.models import CollectionRecord, Component
from tests.api.conftest import Api

HASH = "0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697"


def prompt(*nodes: dict[str, Any]) -> str:
    return json.dumps([{"type": "paragraph", "children": list(nodes)}])


def two_step_data() -> dict[str, Any]:
    """Step 6 uses step 5 three ways: a `$ref`, a prompt component node and `#5` in the text."""
    mention = {"type": "component", "component": {"id": 5}, "children": [{"text": ""}]}
    return {
        "version": "v2",
        "steps": [
            {"id": 5, "nodeName": "layers", "alias": "base", "nodePayload": {"w": 64}},
            {
                "id": 6,
                "nodeName": "layers",
                "nodePayload": {
                    "under": {"$ref": 5, "path": ".src"},
                    "color": {"$ref": 953, "path": ".data.color"},
                    "prompt": prompt({"text": "over "}, mention, {"text": " and #5"}),
                },
            },
        ],
        "generations": {"hashes": [], "generations": 3, "use_custom_hashes": False},
        "variables": [
            {
                "name": "color",
                "type": "weighted_pick",
                "value": {"display_names": ["Blue", "Gold"], "values": ["blue", "gold"],
                          "weights": [90, 10]},
            }
        ],
    }  # fmt: skip


async def new_project(api: Api, headers: dict[str, str], name: str = "p") -> str:
    response = await api.client.post("/projects", headers=headers, json={"name": name})
    assert response.status_code == 201
    project_id: str = response.json()["id"]
    return project_id


async def create(api: Api, headers: dict[str, str], project: str, **body: Any) -> Any:
    return await api.client.post(f"/projects/{project}/collections", headers=headers, json=body)


async def created(api: Api, headers: dict[str, str], project: str, **body: Any) -> dict[str, Any]:
    response = await create(api, headers, project, **body)
    assert response.status_code == 201, response.json()
    collection: dict[str, Any] = response.json()
    return collection


def assert_remapped(data: dict[str, Any], old: tuple[int, int]) -> tuple[int, int]:
    """The copy of `two_step_data` has fresh ids and every reference follows them."""
    first, second = data["steps"]
    new = (first["id"], second["id"])
    assert set(new).isdisjoint(old) and 953 not in new and new[0] != new[1]
    assert (first["fromId"], second["fromId"]) == old
    payload = second["nodePayload"]
    assert payload["under"] == {"$ref": new[0], "path": ".src"}
    assert payload["color"] == {"$ref": 953, "path": ".data.color"}  # the variables step stays
    nodes = json.loads(payload["prompt"])[0]["children"]
    assert nodes[1]["component"]["id"] == new[0]
    assert nodes[2]["text"] == f" and #{new[0]}"
    return new


async def component_steps(api: Api, headers: dict[str, str], collection_id: str) -> set[int]:
    response = await api.client.get(f"/collections/{collection_id}/components", headers=headers)
    assert response.status_code == 200
    return {c["step_id"] for c in response.json()}


async def test_every_create_path_validates_and_gives_fresh_ids(api: Api) -> None:
    alice = await api.new_user("alice")
    project = await new_project(api, alice)

    empty = await created(api, alice, project, source="empty", title="Blank")
    assert empty["status"] == "draft" and empty["title"] == "Blank"
    assert empty["data"]["steps"] == [] and empty["data"]["generations"]["generations"] == 1
    assert await component_steps(api, alice, empty["id"]) == set()

    custom = await created(
        api, alice, project, source="custom", data=two_step_data(), price="0.05", editions=3
    )
    ids = assert_remapped(custom["data"], (5, 6))
    assert custom["price"] == "0.05" and custom["editions"] == 3
    assert custom["title"] == "Untitled collection"
    assert await component_steps(api, alice, custom["id"]) == set(ids)

    copy = await created(api, alice, project, source="template", template_id=custom["id"])
    copy_ids = assert_remapped(copy["data"], ids)
    assert copy["title"] == custom["title"] and copy["remixed_from_id"] is None
    assert copy["price"] is None  # a template gives its workflow, not its sale terms
    assert await component_steps(api, alice, copy["id"]) == set(copy_ids)

    # From an asset: one step's inputs (as a generation run records them, with the hash that
    # seeded them, or in the format's step shape) or a whole GenerationInput.
    run_inputs = {"run_id": str(uuid.uuid4()), "generation": 0, "hash": HASH, "step_id": ids[0],
                  "workflow": "layers", "job_id": "j", "payload": {"w": 8}}  # fmt: skip
    inputs = [run_inputs, {"step": {"nodeName": "animate", "alias": "a"}}, two_step_data()]
    async with api.state.sessions() as session:
        component = await find_component(session, uuid.UUID(custom["id"]), ids[0])
        assert component is not None
        assets = [
            await record_output(
                session, uuid.UUID(alice["X-User-Id"]), component.id, f"file:///{i}.png",
                None, f"{i}.png", "image/png", gen_in, {"src": f"file:///{i}.png"},
            )
            for i, gen_in in enumerate(inputs)
        ]  # fmt: skip
        await session.commit()
    from_run, from_step, from_whole = [
        await created(api, alice, project, source="asset", asset_id=str(a.id)) for a in assets
    ]
    (step,) = from_run["data"]["steps"]
    assert (step["nodeName"], step["nodePayload"], step["fromId"]) == ("layers", {"w": 8}, ids[0])
    assert step["id"] != ids[0] and from_run["title"] == "0.png"
    assert from_run["data"]["generations"] == {
        "hashes": [HASH], "generations": 1, "use_custom_hashes": True
    }  # fmt: skip
    (step,) = from_step["data"]["steps"]
    assert (step["nodeName"], step["alias"]) == ("animate", "a")
    assert from_step["data"]["generations"]["use_custom_hashes"] is False
    assert_remapped(from_whole["data"], (5, 6))

    listed = await api.client.get(f"/projects/{project}/collections", headers=alice)
    assert len(listed.json()) == 6
    page = await api.client.get(f"/projects/{project}/collections?limit=2&offset=5", headers=alice)
    assert len(page.json()) == 1


async def test_registered_workflows_join_the_catalog(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    project = await new_project(api, alice)
    data = {"version": "v2", "generations": {"generations": 1},
            "steps": [{"id": 1, "nodeName": "echo-job", "nodePayload": {}}]}  # fmt: skip
    unknown = await create(api, alice, project, source="custom", data=data)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"]["problems"][0]["path"] == "steps[0].nodeName"
    registered = await api.client.post(
        "/workflows",
        headers=admin,
        json={"name": "echo-job", "type": "direct_job",
              "data": {"service_required": "echo", "payload": {}}},
    )  # fmt: skip
    assert registered.status_code == 201
    collection = await created(api, alice, project, source="custom", data=data)
    assert collection["data"]["steps"][0]["nodeName"] == "echo-job"

    # Publishing re-validates: the workflow was deleted since, so the draft cannot go out.
    assert (
        await api.client.delete(f"/workflows/{registered.json()['id']}", headers=admin)
    ).status_code == 204
    refused = await api.client.post(f"/collections/{collection['id']}/publish", headers=alice)
    assert refused.status_code == 422
    assert "echo-job" in refused.json()["error"]["details"]["problems"][0]["message"]
    again = await api.client.get(f"/collections/{collection['id']}", headers=alice)
    assert again.json()["status"] == "draft"


async def test_ten_problems_are_all_reported_and_nothing_is_written(api: Api) -> None:
    alice = await api.new_user("alice")
    project = await new_project(api, alice)
    bad = {
        "version": "v2",
        "extra": 1,
        "steps": [
            {"id": 1, "nodeName": "nope", "nodePayload": {}},
            {"id": 1, "nodeName": "layers", "nodePayload": {}},
            {"id": 3, "nodeName": "layers",
             "nodePayload": {"x": {"$ref": 999, "path": ".src"}, "y": {"$ref": 1, "path": ".["}}},
            {"id": 953, "nodeName": "layers", "nodePayload": {}},
            {"id": 5, "nodeName": "variables", "nodePayload": {}},
        ],
        "generations": {"hashes": [], "generations": 0, "use_custom_hashes": False},
        "variables": [
            {"name": "a", "type": "pick", "value": {"display_names": [], "values": []}},
            {"name": "b", "type": "weighted_pick",
             "value": {"display_names": ["x"], "values": ["x"], "weights": [1, 2]}},
        ],
    }  # fmt: skip
    response = await create(api, alice, project, source="custom", data=bad)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and "and 9 more" in error["message"]
    problems = error["details"]["problems"]
    assert sorted(p["path"] for p in problems if p["severity"] == "error") == sorted([
        "extra", "steps[0].nodeName", "steps[1].id", "steps[3].id", "steps[4].nodeName",
        "steps[2].nodePayload.x.$ref", "steps[2].nodePayload.y.path", "variables[0].value.values",
        "variables[1].value.weights", "generations.generations",
    ])  # fmt: skip

    # A valid collection whose update is refused keeps its data and components.
    good = await created(api, alice, project, source="custom", data=two_step_data())
    refused = await api.client.patch(
        f"/collections/{good['id']}", headers=alice, json={"data": bad}
    )
    assert refused.status_code == 422 and len(refused.json()["error"]["details"]["problems"]) == 10
    assert (await api.client.get(f"/collections/{good['id']}", headers=alice)).json() == good
    async with api.state.sessions() as session:
        counts = [
            (await session.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (CollectionRecord, Component)
        ]
    assert counts == [1, 2]


async def test_update_archive_and_publish_rules(api: Api) -> None:
    alice = await api.new_user("alice")
    project = await new_project(api, alice)
    collection = await created(api, alice, project, source="custom", data=two_step_data())
    url = f"/collections/{collection['id']}"
    first, second = (s["id"] for s in collection["data"]["steps"])

    changes = {"title": "Gold", "description": "d", "blockchain": "base", "editions": 10,
               "price": 1.5, "batch_mint_enabled": True, "batch_max_tokens": 5,
               "cover_image_url": "ipfs://bafy/cover.png"}  # fmt: skip
    updated = (await api.client.patch(url, headers=alice, json=changes)).json()
    assert {k: updated[k] for k in changes} == {**changes, "price": "1.5"}

    # New data keeps its ids (no remap inside one collection); components follow the steps.
    data = updated["data"]
    data["steps"] = [data["steps"][0], {"id": 77, "nodeName": "animate", "nodePayload": {}}]
    changed = await api.client.patch(url, headers=alice, json={"data": data})
    assert changed.status_code == 200
    assert [s["id"] for s in changed.json()["data"]["steps"]] == [first, 77]
    assert await component_steps(api, alice, collection["id"]) == {first, 77}
    assert second not in {s["id"] for s in changed.json()["data"]["steps"]}

    published = await api.client.post(f"{url}/publish", headers=alice)
    assert published.status_code == 200 and published.json()["status"] == "published"
    frozen = await api.client.patch(url, headers=alice, json={"data": two_step_data()})
    assert frozen.status_code == 409 and "remix" in frozen.json()["error"]["message"]
    retitled = await api.client.patch(url, headers=alice, json={"title": "Gold II"})
    assert retitled.status_code == 200 and retitled.json()["data"] == changed.json()["data"]
    assert (await api.client.post(f"{url}/publish", headers=alice)).status_code == 409

    drafts = await api.client.get(f"/projects/{project}/collections?status=draft", headers=alice)
    assert drafts.json() == []
    archived = await api.client.delete(url, headers=alice)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert (await api.client.patch(url, headers=alice, json={"title": "x"})).status_code == 409
    listing = f"/projects/{project}/collections"
    assert (await api.client.get(listing, headers=alice)).json() == []
    shown = await api.client.get(f"{listing}?include_archived=true", headers=alice)
    assert [c["id"] for c in shown.json()] == [collection["id"]]

    # An archived project takes no new collections.
    await api.client.delete(f"/projects/{project}", headers=alice)
    closed = await create(api, alice, project, source="empty")
    assert closed.status_code == 409


async def test_remix_forks_into_the_callers_project(api: Api) -> None:
    alice, bob = await api.new_user("alice"), await api.new_user("bob")
    alices, bobs = await new_project(api, alice), await new_project(api, bob)
    source = await created(
        api, alice, alices, source="custom", data=two_step_data(), title="Src", description="d",
        price="2", cover_image_url="https://example.test/c.png",
    )  # fmt: skip
    ids = tuple(s["id"] for s in source["data"]["steps"])
    remix_url = f"/collections/{source['id']}/remix"

    # A draft is only remixable by its owner.
    assert (
        await api.client.post(remix_url, headers=bob, json={"project_id": bobs})
    ).status_code == 404
    own = await api.client.post(remix_url, headers=alice, json={"project_id": alices})
    assert own.status_code == 201 and own.json()["remixed_from_id"] == source["id"]

    await api.client.post(f"/collections/{source['id']}/publish", headers=alice)
    fork = await api.client.post(remix_url, headers=bob, json={"project_id": bobs, "title": "Mine"})
    assert fork.status_code == 201
    body = fork.json()
    assert (body["project_id"], body["status"], body["title"]) == (bobs, "draft", "Mine")
    assert body["remixed_from_id"] == source["id"] and body["description"] == "d"
    assert body["price"] is None and body["cover_image_url"] is None
    assert_remapped(body["data"], ids)
    assert (await api.client.get(f"/collections/{body['id']}", headers=bob)).status_code == 200
    # ...but never into someone else's project.
    theirs = await api.client.post(remix_url, headers=bob, json={"project_id": alices})
    assert theirs.status_code == 404
    template = await create(api, bob, bobs, source="template", template_id=source["id"])
    assert template.status_code == 201

    # Archiving takes a published collection out of others' reach.
    await api.client.delete(f"/collections/{source['id']}", headers=alice)
    gone = await api.client.post(remix_url, headers=bob, json={"project_id": bobs})
    assert gone.status_code == 404


async def test_no_user_reaches_another_users_collections(api: Api) -> None:
    alice, bob = await api.new_user("alice"), await api.new_user("bob")
    alices, bobs = await new_project(api, alice), await new_project(api, bob)
    collection = await created(api, alice, alices, source="custom", data=two_step_data())
    cid = collection["id"]
    async with api.state.sessions() as session:
        step_id = collection["data"]["steps"][0]["id"]
        component = await find_component(session, uuid.UUID(cid), step_id)
        assert component is not None
        asset = await record_output(
            session, uuid.UUID(alice["X-User-Id"]), component.id, "file:///x", None, "x.png",
            "image/png", {"step": {"nodeName": "layers", "nodePayload": {}}}, None,
        )  # fmt: skip
        await session.commit()
    for method, path, body in [
        ("GET", f"/collections/{cid}", None),
        ("PATCH", f"/collections/{cid}", {"title": "stolen"}),
        ("DELETE", f"/collections/{cid}", None),
        ("POST", f"/collections/{cid}/publish", None),
        ("POST", f"/collections/{cid}/remix", {"project_id": bobs}),
        ("GET", f"/collections/{cid}/components", None),
        ("GET", f"/projects/{alices}/collections", None),
        ("POST", f"/projects/{alices}/collections", {"source": "empty"}),
        ("POST", f"/projects/{bobs}/collections", {"source": "template", "template_id": cid}),
        ("POST", f"/projects/{bobs}/collections", {"source": "asset", "asset_id": str(asset.id)}),
    ]:
        response = await api.client.request(method, path, headers=bob, json=body)
        assert response.status_code == 404, (method, path, response.json())
        assert response.json()["error"]["code"] == "not_found"
    assert (await api.client.get(f"/projects/{bobs}/collections", headers=bob)).json() == []
    mine = (await api.client.get(f"/collections/{cid}", headers=alice)).json()
    assert mine == collection


async def test_bad_requests_get_422_in_the_error_shape(api: Api) -> None:
    alice = await api.new_user("alice")
    project = await new_project(api, alice)
    good = await created(api, alice, project, source="empty")
    cases: list[tuple[str, str, Any, str]] = [
        ("POST", f"/projects/{project}/collections", {"source": "empty", "surprise": 1}, "surprise"),
        ("POST", f"/projects/{project}/collections", {"source": "nothing"}, "body"),
        ("POST", f"/projects/{project}/collections", {"title": "no source"}, "body"),
        ("POST", f"/projects/{project}/collections", {"source": "custom"}, "data"),
        ("POST", f"/projects/{project}/collections", {"source": "custom", "data": []}, "data"),
        ("POST", f"/projects/{project}/collections",
         {"source": "template", "template_id": "nope"}, "template_id"),
        ("POST", f"/projects/{project}/collections", {"source": "empty", "editions": "x"}, "editions"),
        ("POST", f"/projects/{project}/collections", {"source": "empty", "price": -1}, "price"),
        ("POST", f"/projects/{project}/collections",
         {"source": "empty", "cover_image_url": "javascript:alert(1)"}, "cover_image_url"),
        ("POST", "/projects/not-a-uuid/collections", {"source": "empty"}, "project_id"),
        ("GET", "/collections/not-a-uuid", None, "collection_id"),
        ("GET", f"/projects/{project}/collections?limit=0", None, "limit"),
        ("GET", f"/projects/{project}/collections?limit=201", None, "limit"),
        ("GET", f"/projects/{project}/collections?offset=-1", None, "offset"),
        ("PATCH", f"/collections/{good['id']}", {"title": None}, "title"),
        ("PATCH", f"/collections/{good['id']}", {"data": None}, "data"),
        ("PATCH", f"/collections/{good['id']}", {"status": "published"}, "status"),
        ("POST", f"/collections/{good['id']}/remix", {}, "project_id"),
    ]  # fmt: skip
    for method, path, body, where in cases:
        response = await api.client.request(method, path, headers=alice, json=body)
        assert response.status_code == 422, (method, path, body)
        error = response.json()["error"]
        assert error["code"] == "invalid_input", error
        assert any(where in p["location"] for p in error["details"]["problems"]), (where, error)
    missing = await create(api, alice, project, source="template", template_id=str(uuid.uuid4()))
    assert missing.status_code == 404
    assert (await api.client.get(f"/projects/{project}/collections", headers=alice)).json() == [
        good
    ]
