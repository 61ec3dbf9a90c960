"""Auth: API keys (shown once, HMAC-stored, scoped, revocable), JWT sessions with rotating refresh
tokens, Sign-In with Ethereum with single-use nonces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import select

from emprops.db.models import ApiKey
from tests.api.conftest import Api


def siwe_message(
    address: str,
    nonce: str,
    *,
    uri: str = "http://localhost:8000",
    chain_id: int = 1337,
    domain: str = "localhost:8000",
) -> str:
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f"{domain} wants you to sign in with your Ethereum account:\n{address}\n\n"
        f"Sign in to EmProps\n\nURI: {uri}\nVersion: 1\nChain ID: {chain_id}\n"
        f"Nonce: {nonce}\nIssued At: {issued}"
    )


async def sign_in(api: Api, account: Account, **message_kw: object) -> dict:  # type: ignore[type-arg]
    nonce = (await api.client.post("/auth/siwe/nonce")).json()["nonce"]
    message = siwe_message(account.address, nonce, **message_kw)  # type: ignore[arg-type]
    signature = account.sign_message(encode_defunct(text=message)).signature.hex()
    if not signature.startswith("0x"):
        signature = "0x" + signature
    response = await api.client.post(
        "/auth/siwe/verify", json={"message": message, "signature": signature}
    )
    return {
        "status": response.status_code,
        "body": response.json(),
        "message": message,
        "signature": signature,
    }


async def test_unauthenticated_requests_are_refused_in_the_error_shape(api: Api) -> None:
    response = await api.client.get("/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    forged = jwt.encode(
        {"sub": "x", "exp": datetime.now(UTC) + timedelta(hours=1)}, "wrong", algorithm="HS256"
    )
    response = await api.client.get("/me", headers={"Authorization": f"Bearer {forged}"})
    assert (
        response.status_code == 401
        and response.json()["error"]["message"] == "invalid access token"
    )


async def test_api_key_is_shown_once_stored_as_hmac_and_revocable(api: Api) -> None:
    headers = await api.new_user()
    me = await api.client.get("/me", headers={"X-API-Key": headers["X-API-Key"]})
    assert me.status_code == 200 and me.json()["auth"] == "api_key"
    created = await api.client.post(
        "/auth/api-keys", headers=headers, json={"name": "ci", "scopes": ["read"]}
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("emp_") and created.json()["prefix"] in token
    async with api.state.sessions() as session:
        stored = (
            await session.execute(select(ApiKey).where(ApiKey.prefix == created.json()["prefix"]))
        ).scalar_one()
    assert token not in stored.secret_hmac and len(stored.secret_hmac) == 64
    listed = (await api.client.get("/auth/api-keys", headers=headers)).json()
    assert all("token" not in k for k in listed)
    # A read-only key can read but not write.
    assert (await api.client.get("/projects", headers={"X-API-Key": token})).status_code == 200
    write = await api.client.post("/projects", headers={"X-API-Key": token}, json={"name": "p"})
    assert write.status_code == 403 and "write" in write.json()["error"]["message"]
    revoked = await api.client.delete(f"/auth/api-keys/{created.json()['id']}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await api.client.get("/me", headers={"X-API-Key": token})
    assert after.status_code == 401 and "revoked" in after.json()["error"]["message"]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert (await api.client.get("/me", headers={"X-API-Key": tampered})).status_code == 401


async def test_siwe_sign_in_refresh_rotation_and_reuse_detection(api: Api) -> None:
    account = Account.create()
    result = await sign_in(api, account)
    assert result["status"] == 200, result
    tokens = result["body"]
    me = await api.client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["wallets"] == [account.address.lower()] and me.json()["auth"] == "jwt"
    rotated = await api.client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    new_refresh = rotated.json()["refresh_token"]
    assert new_refresh != tokens["refresh_token"]
    replay = await api.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401 and "already used" in replay.json()["error"]["message"]
    # The replay revoked the whole family, including the token issued by the rotation.
    after = await api.client.post("/auth/refresh", json={"refresh_token": new_refresh})
    assert after.status_code == 401
    # Signing in again with the same wallet is the same user.
    again = await sign_in(api, account)
    me2 = await api.client.get(
        "/me", headers={"Authorization": f"Bearer {again['body']['access_token']}"}
    )
    assert me2.json()["id"] == me.json()["id"]


async def test_siwe_refuses_replayed_nonce_wrong_uri_chain_and_bad_signature(api: Api) -> None:
    account = Account.create()
    first = await sign_in(api, account)
    assert first["status"] == 200
    replay = await api.client.post(
        "/auth/siwe/verify", json={"message": first["message"], "signature": first["signature"]}
    )
    assert replay.status_code == 401 and "nonce" in replay.json()["error"]["message"]
    wrong_uri = await sign_in(api, account, uri="http://evil.example")
    assert wrong_uri["status"] == 401 and "uri" in wrong_uri["body"]["error"]["message"]
    wrong_chain = await sign_in(api, account, chain_id=1)
    assert wrong_chain["status"] == 401 and "chain id" in wrong_chain["body"]["error"]["message"]
    wrong_domain = await sign_in(api, account, domain="evil.example")
    assert wrong_domain["status"] == 401
    other = Account.create()
    nonce = (await api.client.post("/auth/siwe/nonce")).json()["nonce"]
    message = siwe_message(account.address, nonce)
    signature = other.sign_message(encode_defunct(text=message)).signature.hex()
    signature = signature if signature.startswith("0x") else "0x" + signature
    bad = await api.client.post(
        "/auth/siwe/verify", json={"message": message, "signature": signature}
    )
    assert bad.status_code == 401
    garbage = await api.client.post(
        "/auth/siwe/verify", json={"message": "x" * 40, "signature": "0x" + "ab" * 65}
    )
    assert garbage.status_code == 422 and garbage.json()["error"]["code"] == "invalid_input"
