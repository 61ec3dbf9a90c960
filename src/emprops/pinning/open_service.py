"""Pick a backend by name: `pinata`, `psa` (IPFS Pinning Service API) or `kubo`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from emprops.core.errors import InvalidInputError
from emprops.pinning.http_retry import RetryPolicy
from emprops.pinning.http_service import HttpPinningService
from emprops.pinning.kubo import DEFAULT_ENDPOINT as KUBO_ENDPOINT
from emprops.pinning.kubo import KuboRpc
from emprops.pinning.pinata import DEFAULT_ENDPOINT as PINATA_ENDPOINT
from emprops.pinning.pinata import PinataService
from emprops.pinning.psa import PinningServiceApi

ServiceKind = Literal["pinata", "psa", "kubo"]
SERVICE_KINDS: tuple[ServiceKind, ...] = ("pinata", "psa", "kubo")


def open_pinning_service(
    kind: ServiceKind,
    *,
    endpoint: str | None = None,
    token: str | None = None,
    origins: Sequence[str] = (),
    policy: RetryPolicy | None = None,
    timeout_s: float = 300.0,
) -> HttpPinningService:
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise InvalidInputError(f"pinning endpoint {endpoint!r} must be an http(s):// URL")
    if kind == "pinata":
        if not token:
            raise InvalidInputError("Pinata needs a JWT (set the variable --token-env names)")
        return PinataService(endpoint or PINATA_ENDPOINT, token, policy=policy, timeout_s=timeout_s)
    if kind == "psa":
        if endpoint is None:
            raise InvalidInputError(
                "the Pinning Service API has no default endpoint: give --endpoint "
                "(the provider's base URL, the one before /pins)"
            )
        if not token:
            raise InvalidInputError("the Pinning Service API needs an access token")
        return PinningServiceApi(
            endpoint, token, origins=origins, policy=policy, timeout_s=timeout_s
        )
    if kind == "kubo":
        return KuboRpc(endpoint or KUBO_ENDPOINT, token, policy=policy, timeout_s=timeout_s)
    raise InvalidInputError(f"unknown pinning service {kind!r}: use {', '.join(SERVICE_KINDS)}")
