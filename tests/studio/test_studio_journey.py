"""The Studio end to end in headless Chromium: sign in with an API key, create a project and a
layered collection, see a bad variable refused next to its field, generate six tokens and watch
them arrive live, look at them in the gallery, and work the queue from the operator page.
Screenshots of what a person sees go to docs/screenshots/."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from playwright.async_api import BrowserContext, expect

from emprops.indexer.follower import index_once
from emprops.queue.models import JobRequest
from tests.studio.conftest import TOKENS, StudioWorld, shot, studio_workers

COLLECTOR = "0x" + "ab" * 20
LAYERS = {
    "Background": ["Ocean", "Sunset", "Aurora", "Night Sky", "Mint Stripes"],
    "Body": ["Tan", "Pale", "Alien", "Zombie", "Golden"],
    "Eyes": ["Round", "Sleepy", "Shades", "Hearts", "Wink"],
    "Mouth": ["Smile", "Open", "Teeth"],
    "Headwear": ["Cap", "Beanie", "Crown", "Top Hat", "None"],
    "Accessory": ["Earring", "Necklace", "Bubble", "None"],
    "Frame": ["Thin Gold", "Neon", "Vignette", "None"],
}


def layered_document(tokens: int) -> dict[str, Any]:
    """The demo's art with every layer's trait drawn by a variable (weights by position), handed
    to the `layers` renderer through `$ref`s to the variables step."""
    variables = [
        {"name": layer, "type": "weighted_pick", "value_type": "strings",
         "value": {"display_names": traits, "values": traits,
                   "weights": [len(traits) - i for i in range(len(traits))]}}
        for layer, traits in LAYERS.items()
    ]  # fmt: skip
    traits = {layer: {"$ref": 953, "path": f".data.{layer}"} for layer in LAYERS}
    return {
        "version": "v2",
        "steps": [{"id": 1, "nodeName": "layers", "alias": "art",
                   "nodePayload": {"config": "layers.json", "configuration": 1, "traits": traits}}],
        "generations": {"hashes": [], "generations": tokens, "use_custom_hashes": False},
        "variables": variables,
    }  # fmt: skip


async def test_a_creator_builds_generates_and_inspects_a_collection(
    studio: StudioWorld, context: BrowserContext
) -> None:
    started = time.monotonic()
    admin = await studio.new_user("Ada", admin=True)
    granted = await studio.http.post(
        "/credits/grant", json={"user_id": admin.user_id, "amount": 100}, headers=admin.headers
    )
    assert granted.status_code == 201, granted.text
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # signed out: sent to sign in; a wrong key is refused next to the field
    await page.goto(f"{studio.base_url}/studio/projects")
    await expect(page).to_have_url(re.compile(r"/studio/sign-in\?next="))
    await page.fill("#api_key", "emp_000000000000_not-a-real-key")
    await page.click("button[type=submit]")
    await expect(page.locator('[data-error-for="api_key"]')).to_contain_text("invalid API key")
    await page.fill("#api_key", admin.api_key)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/studio/projects$"))
    cookies = {c["name"]: c for c in await context.cookies()}
    assert (
        cookies["emprops_studio"]["httpOnly"] and cookies["emprops_studio"]["sameSite"] == "Strict"
    )

    # a project, then a collection from a pasted GenerationInput
    await page.fill("#name", "Genesis")
    await page.click("form[action='/studio/projects'] button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Genesis")
    await page.fill("#title", "Faces of the Grid")
    await page.check("input[name=source][value=custom]")
    await page.fill("#data", json.dumps(layered_document(TOKENS)))
    await page.click("form[action$='/collections'] button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/studio/collections/[0-9a-f-]+/edit$"))
    collection_url = page.url.removesuffix("/edit")
    await expect(page.locator("[data-variable-row]")).to_have_count(len(LAYERS))

    # a negative weight is refused by the collection service, shown next to the variable
    options = page.locator('textarea[name="variables[1].options"]')
    good_options = await options.input_value()
    await options.fill(good_options.replace("Pale | 4", "Pale | -2"))
    await page.click("[data-save]")
    field_error = page.locator('[data-error-for="variables[1].options"]')
    await expect(field_error).to_contain_text("weight -2 must be a finite number")
    await expect(page.locator("[data-edit-errors]")).to_be_visible()
    await shot(page, "studio-edit-error", full_page=False)
    await page.locator('textarea[name="variables[1].options"]').fill(good_options)
    await page.click("[data-save]")
    await expect(page.locator("[data-saved]")).to_be_visible()

    # generate six tokens and watch them arrive over server-sent events
    async with studio_workers(studio):
        await page.click("[data-tab=generate]")
        await page.fill("#generations", str(TOKENS))
        await page.click("[data-start-run]")
        await expect(page.locator("#run-live[data-run-events]")).to_be_visible()
        await expect(page.locator("[data-run-done]")).to_be_visible(timeout=60_000)
        await expect(page.locator('[data-stat="completed"]')).to_have_text(str(TOKENS))
        await expect(page.locator('[data-stat="progress"]')).to_have_text("100")
        await expect(page.locator("[data-tiles] .tile.done img")).to_have_count(TOKENS)
        assert await page.locator("[data-event-log] li").count() >= TOKENS
        await shot(page, "studio-generation")

        # the gallery: six tokens with their images and traits, rarity beside them
        await page.click("[data-open-gallery]")
        cards = page.locator("[data-gallery] [data-token]")
        await expect(cards).to_have_count(TOKENS)
        for i in range(TOKENS):
            card = cards.nth(i)
            await expect(card.locator("img")).to_be_visible()
            assert await card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
            await expect(card.locator("[data-trait]")).to_have_count(len(LAYERS))
        await expect(page.locator("[data-token-count]")).to_have_text(str(TOKENS))
        await expect(page.locator("[data-rarity]")).to_contain_text("Background")
        await shot(page, "studio-gallery")
        await page.click("[data-theme-toggle]")
        await shot(page, "studio-gallery-dark")
        await page.click("[data-theme-toggle]")

        # the operator page: workers, completed counts; cancel a stuck job, retry a dead one
        broker = studio.state.broker
        stuck = await broker.submit(JobRequest(service_required="ollama", payload={"x": 1}))
        dead = await broker.submit(
            JobRequest(service_required="echo", payload={"fail": "permanent"}, max_retries=0)
        )
        await page.goto(f"{studio.base_url}/studio/queue")
        workers = page.locator("[data-workers] [data-worker]")
        await expect(workers).to_have_count(1)
        await expect(workers.first).to_contain_text("render")
        await expect(workers.first).to_contain_text("echo")
        await expect(page.locator('[data-count="completed"] .value')).to_have_text(
            re.compile(r"^([6-9]|\d\d+)$")
        )
        await expect(page.locator('[data-count="dead"] .value')).to_have_text("1", timeout=10_000)
        await expect(page.locator(f'[data-job="{stuck.id}"]')).to_be_visible()
        await shot(page, "studio-operator")

        await page.click(f'[data-cancel="{stuck.id}"]')
        await expect(page.locator("[data-action-outcome]")).to_have_attribute(
            "data-action-outcome", "cancelled"
        )
        await expect(page.locator("[data-job-status]")).to_contain_text("cancelled")
        await page.goto(f"{studio.base_url}/studio/queue?state=dead")
        await page.click(f'[data-retry="{dead.id}"]')
        await expect(page.locator("[data-action-outcome]")).to_have_attribute(
            "data-action-outcome", "retried"
        )
        await expect(page.locator('[data-events] [data-event="job_retried"]')).to_have_count(1)

        # publish: package, deploy and mint on the embedded chain, each refusal shown inline
        await page.goto(f"{collection_url}/publish")
        await page.fill("[data-action-card=mint] input[name=to]", "not-an-address")
        await page.click("[data-action=mint]")
        await expect(page.locator('[data-action-card=mint] [data-error-for="to"]')).to_be_visible()
        await page.click("[data-action=deploy]")
        await expect(page.locator("[data-action-card=deploy] [data-action-error]")).to_contain_text(
            "package it first"
        )
        package = page.locator("[data-action-card=package]")
        await package.locator("input[name=symbol]").fill("FACE")
        await package.locator("input[name=royalty_bps]").fill("500")
        await package.locator("input[name=royalty_recipient]").fill(COLLECTOR)
        await page.click("[data-action=package]")
        await expect(page.locator("[data-action-result]")).to_contain_text("Package accepted")
        await expect(page.locator('[data-publish-stage="packaged"]')).to_be_attached(timeout=30_000)
        await page.locator("[data-action-card=deploy] input[name=chain]").fill("local")
        await page.click("[data-action=deploy]")
        await expect(page.locator('[data-publish-stage="deployed"]')).to_be_attached(timeout=30_000)
        mint = page.locator("[data-action-card=mint]")
        await mint.locator("input[name=to]").fill(COLLECTOR)
        await mint.locator("input[name=quantity]").fill(str(TOKENS))
        await page.click("[data-action=mint]")
        await expect(page.locator('[data-publish-stage="minted"]')).to_be_attached(timeout=30_000)
        await expect(page.locator("[data-minted]")).to_have_text(str(TOKENS))
        await expect(page.locator("[data-stage-chip]")).to_have_text("stage: minted")
        await shot(page, "studio-publish")

    # on chain: what the indexer saw, mints and an owner's tokens
    progress = await index_once(studio.settings, studio.state.sessions)
    assert progress is not None and progress.counts.mints == TOKENS
    await page.goto(f"{collection_url}/chain?owner={COLLECTOR}")
    await expect(page.locator("[data-mints] tbody tr")).to_have_count(TOKENS)
    await expect(page.locator("[data-holdings] tbody tr")).to_have_count(TOKENS)
    await shot(page, "studio-onchain")
    assert not errors, errors
    assert time.monotonic() - started < 90
