"""Signing in to the Studio with a wallet (Sign-In with Ethereum through an injected provider
that signs with a test key), and what a signed-in non-administrator may not do: the operator
page, another user's outputs, a form posted without the page's CSRF token."""

from __future__ import annotations

import re

from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.async_api import BrowserContext, expect

from tests.studio.conftest import StudioWorld, shot

# window.ethereum as a wallet extension injects it (EIP-1193 `request`), signing in Python.
FAKE_WALLET = """
window.ethereum = {
  isFakeWallet: true,
  async request({ method, params }) {
    if (method === "eth_requestAccounts") return [await window.__walletAddress()];
    if (method === "personal_sign") return await window.__walletSign(params[0], params[1]);
    throw new Error("unsupported " + method);
  },
};
"""


async def test_a_wallet_signs_in_and_a_user_stays_in_their_lane(
    studio: StudioWorld, context: BrowserContext
) -> None:
    account = Account.create()
    signed: list[str] = []

    def sign(message: str, address: str) -> str:
        assert address.lower() == account.address.lower()
        signed.append(message)
        signature = account.sign_message(encode_defunct(text=message)).signature.hex()
        return signature if signature.startswith("0x") else "0x" + signature

    await context.expose_function("__walletSign", sign)
    await context.expose_function("__walletAddress", lambda: account.address.lower())
    await context.add_init_script(FAKE_WALLET)
    page = await context.new_page()

    await page.goto(f"{studio.base_url}/studio/projects")
    await expect(page).to_have_url(re.compile(r"/studio/sign-in"))
    await expect(page.locator("[data-siwe]")).to_be_visible()  # shown when a wallet is injected
    await shot(page, "studio-sign-in", full_page=False)
    await page.click("[data-siwe]")
    await expect(page).to_have_url(re.compile(r"/studio/projects$"))
    assert len(signed) == 1 and account.address in signed[0]
    assert f"URI: {studio.base_url}" in signed[0]
    await expect(page.locator(".user-chip")).to_be_visible()
    cookies = {c["name"]: c for c in await context.cookies()}
    assert {"emprops_studio", "emprops_studio_refresh"} <= set(cookies)
    assert all(cookies[n]["httpOnly"] for n in ("emprops_studio", "emprops_studio_refresh"))

    # not an administrator: no operator page, from the menu or by address
    await expect(page.locator("nav a[href='/studio/queue']")).to_have_count(0)
    response = await page.goto(f"{studio.base_url}/studio/queue")
    assert response is not None and response.status == 403
    await expect(page.locator("[data-error-message]")).to_contain_text("administrators")

    # another user's stored output is refused; a form without the page's token too
    other = await studio.new_user("someone else")
    response = await page.goto(
        f"{studio.base_url}/studio/blobs/generations/{other.user_id}/run/0/1/layers.png"
    )
    assert response is not None and response.status == 403
    posted = await context.request.post(
        f"{studio.base_url}/studio/projects", form={"name": "forged"}
    )
    assert posted.status == 403
    listed = await studio.http.get("/projects", headers=other.headers)
    assert listed.json() == []

    # signing out drops the session
    await page.goto(f"{studio.base_url}/studio/projects")
    await page.click("form[action='/studio/sign-out'] button")
    await expect(page).to_have_url(re.compile(r"/studio/sign-in$"))
    await page.goto(f"{studio.base_url}/studio/projects")
    await expect(page).to_have_url(re.compile(r"/studio/sign-in\?next="))
