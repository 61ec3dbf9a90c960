"""Sign-In with Ethereum: parse, check what the library does not (uri, chain id), verify."""

from __future__ import annotations

import asyncio

import siwe

from emprops.auth.errors import UnauthorizedError
from emprops.core.errors import InvalidInputError
from emprops.core.settings import Settings


async def verified_siwe_message(
    message: str, signature: str, settings: Settings
) -> siwe.SiweMessage:
    try:
        parsed = siwe.SiweMessage.from_message(message)
    except Exception as exc:  # the library raises several unrelated types for bad text
        raise InvalidInputError(f"message is not a Sign-In with Ethereum message: {exc}") from None
    if parsed.uri != settings.siwe_uri:
        raise UnauthorizedError(f"message uri {parsed.uri!r} is not {settings.siwe_uri!r}")
    if parsed.chain_id != settings.chain_id:
        raise UnauthorizedError(f"message chain id {parsed.chain_id} is not {settings.chain_id}")
    try:
        # Off the event loop: contract-wallet (EIP-1271) checks would make a blocking call.
        await asyncio.to_thread(
            parsed.verify, signature, domain=settings.siwe_domain, nonce=parsed.nonce
        )
    except siwe.VerificationError as exc:
        raise UnauthorizedError(f"signature rejected: {type(exc).__name__}") from None
    return parsed
