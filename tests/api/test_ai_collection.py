"""An AI collection end to end through the API: an administrator imports a ComfyUI component
in the original format, a creator's collection names it, `POST /collections/{id}/generations`
compiles each step into a graph job, a real worker runs it against the ComfyUI protocol server
(replaying a real ComfyUI 0.3.64), and the images are stored with their provenance (the pinned
component digest, the seed, the values), charged by the component's cost and packaged with the
variables as traits. A step that sets what the component owns is refused before anything is
queued or held."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from emprops.core.settings import Settings
from emprops.db.models import FlatFile
from emprops.packaging import read_package_report
from emprops.publishing.connector import PublishConnector
from emprops.storage import open_blob_store
from emprops.worker.connectors.comfyui import ComfyUIConnector
from tests.api.conftest import Api
from tests.api.generation_world import grant, running_worker, wait_for_job
from tests.components.test_importer import LIBRARY
from tests.protocol_servers.comfyui_replay import ComfyUIReplay
from tests.protocol_servers.live_server import serve

GENERATIONS = 3


@pytest.fixture
async def comfy() -> AsyncIterator[tuple[ComfyUIReplay, str]]:
    replay = ComfyUIReplay()
    async with serve(replay.app) as url:
        yield replay, url
        await replay.aclose()


def component_files(folder: str) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for path in sorted((LIBRARY / folder).iterdir()):
        text = path.read_text()
        files[path.name] = text if path.suffix == ".js" else json.loads(text)
    return files


def form_confs() -> dict[str, Any]:
    return {p.name: json.loads(p.read_text()) for p in (LIBRARY / "_form_confs").iterdir()}


async def import_tinted_square(
    api: Api, admin: dict[str, str], files: dict[str, Any] | None = None
) -> httpx.Response:
    """The administrator imports the fixture component through the API, as its files."""
    files = files or component_files("tinted-square")
    body = {"components": [{"name": "tinted-square", "files": files}], "form_confs": form_confs()}
    return await api.client.post("/workflows/import", headers=admin, json=body)


def ai_document(node_payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "v2",
        "steps": [{"id": 7, "nodeName": "tinted-square", "nodePayload": node_payload}],
        "generations": {"hashes": [], "generations": GENERATIONS, "use_custom_hashes": False},
        "variables": [
            {"name": "tint", "type": "pick", "value_type": "strings",
             "value": {"display_names": ["Blue", "Red"], "values": [255, 16711680],
                       "weights": [1, 1]}},
        ],
    }  # fmt: skip


async def new_collection(api: Api, user: dict[str, str], document: dict[str, Any]) -> str:
    project = await api.client.post("/projects", headers=user, json={"name": "ai"})
    created = await api.client.post(
        f"/projects/{project.json()['id']}/collections", headers=user,
        json={"title": "Tinted", "source": "custom", "data": document},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    collection_id: str = created.json()["id"]
    return collection_id


async def test_an_imported_comfyui_component_runs_end_to_end(
    api: Api, api_settings: Settings, comfy: tuple[ComfyUIReplay, str], tmp_path: Path
) -> None:
    replay, comfy_url = comfy
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    imported = await import_tinted_square(api, admin)
    assert imported.status_code == 200, imported.text
    (component,) = imported.json()
    digest = component["workflow"]["digest"]
    assert component["outcome"] == "created" and len(digest) == 64
    await grant(api, admin, alice, 100)
    document = ai_document(
        {"color": {"$ref": 953, "path": ".data.tint"}, "size": "128", "method": "bilinear"}
    )
    collection_id = await new_collection(api, alice, document)

    store = open_blob_store(None, data_dir=api_settings.data_dir, cdn_url=None)
    connectors = {
        "comfyui": ComfyUIConnector({"base_url": comfy_url}, store=store),
        "publish": PublishConnector(store=store, settings=api_settings),
    }
    async with running_worker(api_settings, connectors, concurrency=2):  # type: ignore[arg-type]
        started = await api.client.post(f"/collections/{collection_id}/generations", headers=alice)
        assert started.status_code == 202, started.text
        run_id = started.json()["job_id"]
        run = await wait_for_job(api, alice, run_id, {"completed", "failed"}, timeout=60)
        assert run["status"] == "completed", run
        # 0.5 credits a generation (size 128): whole credits by cumulative rounding, ceil(1.5)
        assert run["credits_charged"] == 2 and run["credits_held"] == 0

        # What ComfyUI received: the component's graph with only the declared values filled.
        assert len(replay.prompts) == GENERATIONS
        for prompt in replay.prompts:
            graph = prompt["prompt"]
            assert graph["1"]["inputs"]["color"] in (255, 16711680)
            assert graph["5"]["inputs"]["width"] == graph["5"]["inputs"]["height"] == 128
            assert graph["6"]["class_type"] == "SaveImage"
            assert "bucket" not in json.dumps(graph)

        packaged = await api.client.post(
            f"/collections/{collection_id}/package", headers=alice,
            json={"royalty_bps": 500, "royalty_recipient": "0x" + "ab" * 20, "symbol": "TINT"},
        )  # fmt: skip
        assert packaged.status_code == 202, packaged.text
        from tests.publishing.conftest import follow

        op = await follow(api, alice, collection_id, packaged.json()["id"])
        assert op["status"] == "completed", op

    async with api.state.sessions() as session:
        files = list((await session.execute(select(FlatFile))).scalars())
    assert len(files) == GENERATIONS
    for flat in files:
        provenance = flat.gen_in_data
        assert provenance["component"] == {"name": "tinted-square", "version": 1, "digest": digest}
        assert provenance["payload"]["prompt"]["1"]["inputs"]["color"] in (255, 16711680)
        assert flat.mime_type == "image/png"
        assert (api_settings.data_dir / "blobs" / flat.path.split("/", 1)[0]).exists()
    report = read_package_report(Path(op["result"]["package_dir"]))
    assert report.tokens == GENERATIONS
    for token in report.token_entries:
        assert {a.trait_type for a in token.attributes} == {"tint"}
        assert {a.value for a in token.attributes} <= {"Blue", "Red"}
    metadata = json.loads((Path(op["result"]["package_dir"]) / "metadata" / "0").read_text())
    assert metadata["properties"]["components"] == [f"tinted-square@{digest}"]


async def test_a_step_that_sets_what_the_component_owns_is_refused_when_saved(
    api: Api,
) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    imported = await import_tinted_square(api, admin)
    assert imported.status_code == 200, imported.text
    document = ai_document({"size": 4096, "inputs": [{"node": "1", "path": "generations/x"}]})
    project = await api.client.post("/projects", headers=alice, json={"name": "ai"})
    created = await api.client.post(
        f"/projects/{project.json()['id']}/collections", headers=alice,
        json={"title": "Bad", "source": "custom", "data": document},
    )  # fmt: skip
    assert created.status_code == 422, created.text
    problems = {p["path"]: p["message"] for p in created.json()["error"]["details"]["problems"]}
    assert "above the maximum 1024" in problems["steps[0].nodePayload.size"]
    assert problems["steps[0].nodePayload.inputs"].startswith("unknown field")


async def test_a_run_that_does_not_compile_is_refused_with_nothing_held_or_queued(
    api: Api, comfy: tuple[ComfyUIReplay, str]
) -> None:
    """The collection was fine when saved; the component's next version narrows the form:
    the run pins the new version, and its start is refused naming the field."""
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    files = component_files("tinted-square")
    assert (await import_tinted_square(api, admin, files)).is_success
    await grant(api, admin, alice, 100)
    collection_id = await new_collection(api, alice, ai_document({"size": 512}))
    size_field = next(f for f in files["form.json"]["fields"] if f["id"] == "size")
    size_field["constraints"]["max"] = 256
    again = await import_tinted_square(api, admin, files)
    assert again.json()[0]["outcome"] == "new_version", again.text
    assert again.json()[0]["workflow"]["version"] == 2
    versions = await api.client.get(
        f"/workflows/{again.json()[0]['workflow']['id']}/versions", headers=alice
    )
    assert [v["version"] for v in versions.json()] == [1, 2]
    assert len({v["digest"] for v in versions.json()}) == 2
    started = await api.client.post(f"/collections/{collection_id}/generations", headers=alice)
    assert started.status_code == 422, started.text
    problems = started.json()["error"]["details"]["problems"]
    assert problems[0]["path"] == "steps[0].nodePayload.size"
    assert "above the maximum 256" in problems[0]["message"]
    balance = (await api.client.get("/credits", headers=alice)).json()
    assert balance["held"] == 0 and balance["available"] == 100
    stats = await api.state.broker.stats()
    assert sum(stats.pending.values()) == 0 and stats.active == 0 and comfy[0].prompts == []


async def test_an_import_is_all_or_nothing_and_a_dry_run_writes_nothing(api: Api) -> None:
    admin, alice = await api.new_user("admin", admin=True), await api.new_user("alice")
    files = component_files("tinted-square")
    body: dict[str, Any] = {
        "components": [{"name": "tinted-square", "files": files}],
        "form_confs": form_confs(),
        "dry_run": True,
    }
    dry = await api.client.post("/workflows/import", headers=admin, json=body)
    assert dry.status_code == 200 and dry.json()[0]["outcome"] == "created (dry run)", dry.text
    assert (await api.client.get("/workflows", headers=alice)).json() == []
    ui_format = {**files, "workflow.json": {"nodes": [], "links": []}}
    body = {
        "components": [
            {"name": "tinted-square", "files": files},
            {"name": "broken", "files": ui_format},
        ],
        "form_confs": form_confs(),
    }
    refused = await api.client.post("/workflows/import", headers=admin, json=body)
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["error"]["details"]["problems"]
    assert problem["file"] == "workflow.json" and "export it in API format" in problem["message"]
    assert (await api.client.get("/workflows", headers=alice)).json() == []
    forbidden = await api.client.post("/workflows/import", headers=alice, json=body)
    assert forbidden.status_code == 403
