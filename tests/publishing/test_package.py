"""Packaging through the API: a generated collection becomes a package (CIDs, CAR, report in the
blob store) by a queued job; asking again finds the same operation; what must come first is
refused clearly, with nothing recorded."""

from __future__ import annotations

from pathlib import Path

from emprops.core.settings import Settings
from emprops.packaging import read_package_report
from tests.api.conftest import Api
from tests.publishing.conftest import TOKENS, follow, generated_collection, publishing_workers

COLLECTOR = "0x" + "ab" * 20


async def test_a_generated_collection_is_packaged_by_a_queued_job(
    api: Api, api_settings: Settings, tmp_path: Path
) -> None:
    user = await api.new_user()
    async with publishing_workers(api_settings, api_settings.data_dir / "assets"):
        collection_id, run_id = await generated_collection(
            api, user, api_settings.data_dir / "assets"
        )
        status = await api.client.get(f"/collections/{collection_id}/publishing", headers=user)
        assert status.json()["stage"] == "generated"
        body = {"royalty_bps": 500, "royalty_recipient": COLLECTOR, "symbol": "FACE"}
        asked = await api.client.post(
            f"/collections/{collection_id}/package", headers=user, json=body
        )
        assert asked.status_code == 202, asked.text
        op = await follow(api, user, collection_id, asked.json()["id"])
        assert op["status"] == "completed", op
        again = await api.client.post(
            f"/collections/{collection_id}/package", headers=user, json=body
        )
        assert again.json()["id"] == op["id"] and again.json()["status"] == "completed"
    result = op["result"]
    report = read_package_report(Path(result["package_dir"]))
    assert result["run_id"] == run_id and result["tokens"] == report.tokens == TOKENS
    assert result["base_uri"] == report.reveal.base_uri and result["base_uri"].startswith("ipfs://")
    assert [t.token_id for t in report.token_entries] == list(range(TOKENS))
    # the API planned the layered traits (exact rarity over the run), so the metadata has them
    trait_types = {a.trait_type for t in report.token_entries for a in t.attributes}
    assert {"Background", "Body", "Eyes", "Mouth"} <= trait_types, trait_types
    assert (
        len({tuple((a.trait_type, a.value) for a in t.attributes) for t in report.token_entries})
        == TOKENS
    )
    blobs = api.state.settings.data_dir / "blobs"
    assert all((blobs / path).is_file() for path in result["stored"])
    status = await api.client.get(f"/collections/{collection_id}/publishing", headers=user)
    assert status.json()["stage"] == "packaged"
    assert status.json()["package"]["root_cid"] == report.reveal.root_cid


async def test_each_step_refuses_until_the_one_before_it_is_done(api: Api, tmp_path: Path) -> None:
    user = await api.new_user()
    project = await api.client.post("/projects", headers=user, json={"name": "p"})
    created = await api.client.post(
        f"/projects/{project.json()['id']}/collections", headers=user,
        json={"title": "Empty", "source": "empty"},
    )  # fmt: skip
    cid = created.json()["id"]
    package = await api.client.post(f"/collections/{cid}/package", headers=user)
    assert package.status_code == 409 and "generate it first" in package.json()["error"]["message"]
    deploy = await api.client.post(f"/collections/{cid}/deploy", headers=user)
    assert deploy.status_code == 409 and "package it first" in deploy.json()["error"]["message"]
    mint = await api.client.post(
        f"/collections/{cid}/mint", headers=user,
        json={"to": COLLECTOR, "quantity": 1, "request_id": "m1"},
    )  # fmt: skip
    assert mint.status_code == 409 and "deploy it first" in mint.json()["error"]["message"]
    bad = await api.client.post(
        f"/collections/{cid}/package", headers=user, json={"royalty_bps": 500}
    )
    assert bad.status_code == 422 and "royalty_recipient" in bad.text
    bad_mint = await api.client.post(
        f"/collections/{cid}/mint", headers=user,
        json={"to": "0x123", "quantity": 0, "request_id": "bad id!"},
    )  # fmt: skip
    assert bad_mint.status_code == 422
    status = await api.client.get(f"/collections/{cid}/publishing", headers=user)
    assert status.json()["operations"] == [] and status.json()["stage"] == "draft"
    other = await api.new_user("other")
    hidden = await api.client.get(f"/collections/{cid}/publishing", headers=other)
    assert hidden.status_code == 404
