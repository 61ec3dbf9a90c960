"""Input files a payload points at: a blob in the worker's store (by path or by the URL the store
gave it, e.g. an earlier step's `src`) or a plain http(s) URL.

Store URLs are read through the store (no HTTP round trip, works for file:// and s3:// too);
other URLs are fetched with a client that carries no credentials of ours: build it with
`outbound_client(policy)`, so a payload cannot point the download at our own network.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from urllib.parse import unquote

import httpx

from emprops.queue.models import Job
from emprops.storage import BlobStore
from emprops.worker.connector import PermanentJobError
from emprops.worker.connectors.http_failures import (
    failure_for_status,
    failure_for_transport,
    read_limited,
)
from emprops.worker.connectors.job_outputs import failure_from_store
from emprops.worker.connectors.outbound_http import OutboundClient, OutboundPolicy, Resolver

_PROBE = "emprops-probe"


def store_path_for(store: BlobStore, reference: str) -> str | None:
    """The store path a reference names: itself when it is not a URL, the rest of a URL under the
    store's own URL prefix, else None."""
    if "://" not in reference:
        return reference
    probe_url = store.url_for(_PROBE)
    root = probe_url[: -len(_PROBE)]
    if root and reference.startswith(root):
        return unquote(reference[len(root) :].split("?", 1)[0])
    return None


def outbound_client(
    policy: OutboundPolicy | None = None,
    *,
    service: str = "input",
    resolver: Resolver | None = None,
) -> httpx.AsyncClient:
    """The client to hand `load_input`: public addresses only unless `policy` allows more, each
    redirect checked again, bodies capped at `policy.max_response_bytes`."""
    return OutboundClient(policy, resolver=resolver, label=service)


def _is_http_url(reference: str) -> bool:
    try:
        return httpx.URL(reference).scheme in ("http", "https")
    except httpx.InvalidURL:
        return False


def job_input_roots(job: Job) -> list[str]:
    """The blob prefixes the engine lets this job read (`ctx.input_roots`), each ending in "/"
    (no partial segment match: `generations/u1` must not admit `generations/u10/...`)."""
    raw = (job.ctx or {}).get("input_roots")
    if not isinstance(raw, list):
        return []
    return [root.strip("/") + "/" for root in raw if isinstance(root, str) and root.strip("/")]


def is_under_a_root(key: str, roots: Sequence[str]) -> bool:
    """A plain normalized key (no `..`, `.`, `//`, leading `/` or backslash) under a root."""
    if not key or "\\" in key or key.startswith("/") or posixpath.normpath(key) != key:
        return False
    return any(key.startswith(root) and len(key) > len(root) for root in roots)


async def load_input(
    reference: str,
    *,
    store: BlobStore | None,
    client: httpx.AsyncClient,
    limit: int,
    service: str,
    roots: Sequence[str] | None = None,
) -> bytes:
    """The bytes of one input, at most `limit` of them. With `roots` (the job's input roots), a
    file of the blob store is read only under one of them: a job cannot name another user's."""
    path = store_path_for(store, reference) if store is not None else None
    if (
        store is not None
        and path is not None
        and roots is not None
        and not is_under_a_root(path, roots)
    ):
        raise PermanentJobError(
            f"{service}: input {reference[:120]!r} is outside the job's input roots {list(roots)}",
            details={"service": service, "reason": "input_not_allowed"},
        )
    if store is not None and path is not None:
        try:
            data = await store.get(path)
        except Exception as exc:
            raise failure_from_store(exc, f"read input {path!r}") from exc
    elif _is_http_url(reference):
        try:
            async with client.stream("GET", reference) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise failure_for_status(service, response)
                data = await read_limited(response, limit, service)
        except httpx.HTTPError as exc:
            raise failure_for_transport(service, exc, reference) from exc
    else:
        raise PermanentJobError(
            f"{service}: input {reference[:120]!r} is neither an http(s) URL nor in this worker's "
            "blob store",
            details={"service": service, "reason": "bad_input"},
        )
    if len(data) > limit:
        raise PermanentJobError(
            f"{service}: input {reference[:120]!r} is {len(data)} bytes, over the {limit} limit",
            details={"service": service, "reason": "too_large"},
        )
    return data
