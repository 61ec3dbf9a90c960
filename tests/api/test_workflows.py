"""Registered workflows: administrators write, everyone signed in reads, each type's data is
checked when it is written (not when a generation fails on it)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.conftest import Api

GRAPH = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "model": ["4", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd.safetensors"},
          "_meta": {"title": "Load"}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}},
}  # fmt: skip
COMFY = {
    "name": "sd-basic",
    "type": "comfy_workflow",
    "data": {"graph": GRAPH, "inputs": {"3": {"seed": {"value": "seed", "type": "seed"}}},
             "output_nodes": ["9"]},
    "output_mime_type": "image/png",
    "models": ["sd.safetensors"],
    "min_vram_gb": 8,
}  # fmt: skip
DIRECT = {
    "name": "echo-job",
    "type": "direct_job",
    "data": {"service_required": "echo", "payload": {"text": ""}, "inputs": {"prompt": "text"}},
    "credit_cost": 0,
}
FETCH = {
    "name": "remote-api",
    "type": "fetch_api",
    "data": {
        "request": {"method": "POST", "url": "https://api.example.test/v1/jobs",
                    "body": {"prompt": "{{ .prompt }}"}},
        "poll": {"request": {"url": "https://api.example.test/v1/jobs/{{ $submit.id }}"},
                 "done": '.status == "succeeded"'},
        "output": ".result.url",
        "output_type": "file",
    },
}  # fmt: skip


async def test_admin_creates_changes_and_deletes_workflows(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    made: dict[str, dict[str, Any]] = {}
    for body in (COMFY, DIRECT, FETCH):
        response = await api.client.post("/workflows", headers=admin, json=body)
        assert response.status_code == 201, response.json()
        made[body["name"]] = response.json()  # type: ignore[index]
    comfy, direct, fetch = made["sd-basic"], made["echo-job"], made["remote-api"]
    assert (comfy["service"], direct["service"], fetch["service"]) == ("comfyui", "echo", "http")
    assert (comfy["credit_cost"], direct["credit_cost"]) == (1, 0)
    assert comfy["models"] == ["sd.safetensors"] and comfy["min_vram_gb"] == 8
    assert comfy["data"]["graph"]["4"]["_meta"] == {"title": "Load"}

    # Everyone signed in reads; lists are by name and filter by type.
    listed = await api.client.get("/workflows", headers=alice)
    assert [w["name"] for w in listed.json()] == ["echo-job", "remote-api", "sd-basic"]
    only = await api.client.get("/workflows?type=fetch_api", headers=alice)
    assert [w["name"] for w in only.json()] == ["remote-api"]
    paged = await api.client.get("/workflows?limit=1&offset=1", headers=alice)
    assert [w["name"] for w in paged.json()] == ["remote-api"]
    got = await api.client.get(f"/workflows/{comfy['id']}", headers=alice)
    assert got.json() == comfy

    url = f"/workflows/{direct['id']}"
    renamed = await api.client.patch(url, headers=admin, json={"name": "echo2", "credit_cost": 5})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["credit_cost"]) == ("echo2", 5)
    retyped = await api.client.patch(
        url, headers=admin, json={"type": "fetch_api", "data": FETCH["data"]}
    )
    assert retyped.status_code == 200
    assert (retyped.json()["type"], retyped.json()["service"]) == ("fetch_api", "http")
    no_data = await api.client.patch(url, headers=admin, json={"type": "direct_job"})
    assert no_data.status_code == 422

    assert (await api.client.delete(url, headers=admin)).status_code == 204
    assert (await api.client.get(url, headers=alice)).status_code == 404
    assert (await api.client.delete(url, headers=admin)).status_code == 404


async def test_only_administrators_write(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    no_admin_scope = await api.new_user("admin2", admin=True, scopes=["read", "write"])
    workflow = (await api.client.post("/workflows", headers=admin, json=DIRECT)).json()
    url = f"/workflows/{workflow['id']}"
    for headers in (alice, no_admin_scope):
        for method, path, body in [
            ("POST", "/workflows", {**DIRECT, "name": "other"}),
            ("POST", "/workflows", {"bad": "body"}),  # refused before the body is read
            ("PATCH", url, {"credit_cost": 100}),
            ("DELETE", url, None),
        ]:
            response = await api.client.request(method, path, headers=headers, json=body)
            assert response.status_code == 403, (method, path)
            assert response.json()["error"]["code"] == "forbidden"
    assert (await api.client.get("/workflows")).status_code == 401
    assert (await api.client.get(url, headers=alice)).json() == workflow
    assert [w["name"] for w in (await api.client.get("/workflows", headers=alice)).json()] == [
        "echo-job"
    ]


async def test_data_shapes_are_checked_per_type(api: Api) -> None:
    admin = await api.new_user("admin", admin=True)

    def with_data(base: dict[str, Any], **data: Any) -> dict[str, Any]:
        return {**base, "data": {**base["data"], **data}}

    comfy_no_inputs = {**COMFY, "data": {"graph": GRAPH}}
    fetch_no_url = with_data(FETCH, request={"method": "GET"})
    cases: list[tuple[dict[str, Any], str]] = [
        (comfy_no_inputs, "data.inputs"),
        (with_data(COMFY, graph={}), "data.graph"),
        (with_data(COMFY, graph={"1": {"inputs": {}}}), "data.graph.1.class_type"),
        (with_data(COMFY, inputs={"77": {"seed": {"value": "seed"}}}), "data"),
        (with_data(COMFY, inputs={"3": {"seed": {"value": "seed", "surprise": 1}}}),
         "data.inputs.3.seed.surprise"),
        ({**DIRECT, "data": {"payload": {}}}, "data.service_required"),
        ({**DIRECT, "data": {"service_required": "echo"}}, "data.payload"),
        (with_data(DIRECT, inputs={"prompt": "a..b"}), "data.inputs"),
        ({**DIRECT, "service": "other"}, "service"),
        (with_data(FETCH, output=".result | ["), "data.output"),
        (with_data(FETCH, output=""), "data.output"),
        (with_data(FETCH, poll={"request": {"url": "https://x.test"}, "done": "if"}),
         "data.poll.done"),
        (fetch_no_url, "data.request.url"),
        (with_data(FETCH, request={"url": "ftp://x.test"}), "data.request.url"),
        # The connector's own payload rules apply at registration too.
        (with_data(FETCH, output="env.SECRET"), "data"),
        (with_data(FETCH, vars={"prompt": "x"}), "data"),
        (with_data(FETCH, poll=None, output_type="data",
                   request={"url": "https://x.test", "expect": "bytes"}), "data"),
        ({**FETCH, "type": "python_code"}, "type"),
        ({**FETCH, "unknown": 1}, "unknown"),
        ({**FETCH, "credit_cost": -1}, "credit_cost"),
        ({**FETCH, "credit_cost": "x"}, "credit_cost"),
        ({**FETCH, "name": "bad name!"}, "name"),
        ({**FETCH, "models": "sd"}, "models"),
    ]  # fmt: skip
    for body, where in cases:
        response = await api.client.post("/workflows", headers=admin, json=body)
        assert response.status_code == 422, (where, response.json())
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert any(p["location"] == where for p in error["details"]["problems"]), (where, error)

    created = await api.client.post("/workflows", headers=admin, json=FETCH)
    assert created.status_code == 201
    url = f"/workflows/{created.json()['id']}"
    bad_patch = await api.client.patch(url, headers=admin, json={"data": {"output": "."}})
    assert bad_patch.status_code == 422
    assert any(
        p["location"] == "data.request" for p in bad_patch.json()["error"]["details"]["problems"]
    )
    assert (await api.client.patch(url, headers=admin, json={"name": None})).status_code == 422
    for name in ("remote-api", "variables", "layers"):
        clash = await api.client.post("/workflows", headers=admin, json={**DIRECT, "name": name})
        assert clash.status_code == 409 and clash.json()["error"]["code"] == "conflict"
    await api.client.post("/workflows", headers=admin, json=DIRECT)
    taken = await api.client.patch(url, headers=admin, json={"name": "echo-job"})
    assert taken.status_code == 409
    assert (await api.client.get("/workflows/not-a-uuid", headers=admin)).status_code == 422
    assert (await api.client.get(f"/workflows/{uuid.uuid4()}", headers=admin)).status_code == 404
    assert (await api.client.get("/workflows?limit=500", headers=admin)).status_code == 422
    unchanged = await api.client.get(url, headers=admin)
    assert unchanged.json() == created.json()
