"""Outbound HTTP that a job payload cannot point at us (SSRF).

Job payloads choose URLs, so a plain client would let any user make a worker call its own
loopback services, the private network or the cloud metadata endpoint. `OutboundClient` resolves
each host itself, refuses the request unless every address is public (or explicitly allowed), and
then connects to the checked address, so a DNS answer that changes between the check and the
connect (rebinding) cannot move us. The Host header and TLS SNI keep the hostname, so virtual
hosts and certificates work as usual. Redirects are followed here, hop by hop, each one checked
again; bodies are capped in size and the whole exchange in time.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from emprops.worker.connector import PermanentJobError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses to try, as strings (tests inject their own answers).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SENSITIVE_HEADERS = ("authorization", "proxy-authorization", "cookie")
_BODY_HEADERS = ("content-length", "content-type", "transfer-encoding")
# Ranges the stdlib has no property for: shared address space (RFC 6598) and NAT64 (RFC 6052).
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA = ipaddress.IPv4Address("169.254.169.254")
_HINT = "allow it with allowed_networks in the worker config"


class OutboundRefused(PermanentJobError):
    """A request the outbound policy forbids; retrying cannot help until the config changes."""


def parse_networks(values: Sequence[str]) -> list[IPNetwork]:
    """CIDRs (or single addresses) from config; a typo is an error, never a silent no-op."""
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip()))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IP network (e.g. 10.0.0.0/8): {exc}") from None
    return networks


class OutboundAccess(BaseModel):
    """The worker config fields that open non-public addresses to a connector's outbound fetches
    (payload URLs); shared by every connector section that fetches."""

    allow_private: bool = Field(
        default=False, description="Payload URLs may reach any non-public address."
    )
    allowed_networks: list[str] = Field(
        default_factory=list,
        description='CIDRs payload URLs may reach even if private, e.g. "10.1.0.0/16".',
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        return [str(network) for network in parse_networks(values)]


class OutboundPolicy(BaseModel):
    """Where outbound requests may go and how much they may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_private: bool = Field(
        default=False,
        description="Allow every non-public address (loopback, private, link-local, ...).",
    )
    allowed_networks: list[str] = Field(
        default_factory=list, description='CIDRs allowed even if private, e.g. "127.0.0.1/32".'
    )
    allowed_hosts: list[str] | None = Field(
        default=None, description="Host patterns (fnmatch, e.g. *.example.com); unset: any host."
    )
    max_redirects: int = Field(default=5, ge=0, le=50)
    max_response_bytes: int = Field(default=32 << 20, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    request_timeout_s: float = Field(default=60.0, gt=0)
    total_timeout_s: float = Field(default=600.0, gt=0)

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        return [str(network) for network in parse_networks(values)]

    def networks(self) -> list[IPNetwork]:
        return parse_networks(self.allowed_networks)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form stands for (mapped, 6to4, NAT64), which is where it leads."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _non_public_kind(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        metadata = " (the cloud metadata service)" if address == _METADATA else ""
        return f"a link-local address{metadata}"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private-network address"
    if address in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if not address.is_global:
        return "not a public address"
    return None


def refused_kind(address: IPAddress, policy: OutboundPolicy) -> str | None:
    """What makes `address` off limits under `policy` ("a loopback address"), or None."""
    embedded = _embedded_ipv4(address)
    candidates = [address] if embedded is None else [address, embedded]
    networks = policy.networks()
    if any(candidate in network for candidate in candidates for network in networks):
        return None
    if policy.allow_private:
        return None
    if embedded is None:
        return _non_public_kind(address)
    # Judged by where it leads: the wrapper prefixes are themselves "reserved" to the stdlib.
    inner = _non_public_kind(embedded)
    return None if inner is None else f"a form of {embedded}, {inner}"


def address_refusal(address: IPAddress, policy: OutboundPolicy) -> str | None:
    """Why `address` may not be contacted under `policy`, as a sentence, or None if it may."""
    kind = refused_kind(address, policy)
    return None if kind is None else f"{address} is {kind}; {_HINT}"


def check_url(url: httpx.URL, policy: OutboundPolicy, label: str) -> None:
    """Refuse a URL for what it says (scheme, host allow-list), before any address is looked up."""
    where = _shown(url)
    if url.scheme not in ("http", "https"):
        raise OutboundRefused(
            f"{label}: refused {where}: only http and https URLs may be fetched",
            details={"service": label, "reason": "scheme", "url": where},
        )
    if not url.host:
        raise OutboundRefused(
            f"{label}: refused {where}: the URL has no host",
            details={"service": label, "reason": "no_host", "url": where},
        )
    allowed = policy.allowed_hosts
    if allowed is not None and not any(fnmatch.fnmatch(url.host, p.lower()) for p in allowed):
        raise OutboundRefused(
            f"{label}: host {url.host} is not in this worker's allowed_hosts",
            details={"service": label, "reason": "host_not_allowed", "host": url.host},
        )


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the OS resolver gives for `host`, in its preferred order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _shown(url: httpx.URL) -> str:
    """The URL without query or credentials: query strings often carry API keys."""
    return str(url.copy_with(query=None, fragment=None, userinfo=b""))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class _Pool:
    """One connection pool per TLS hostname: a connection verified for one name is never reused
    for another name that happens to resolve to the same address."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self.transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False)
        self.active = 0


class _Released(httpx.AsyncByteStream):
    """A response body that marks its pool idle again once closed."""

    def __init__(self, inner: httpx.AsyncByteStream, pool: _Pool) -> None:
        self._inner, self._pool, self._open = inner, pool, True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            self._pool.active -= 1
        await self._inner.aclose()


class PinnedTransport(httpx.AsyncBaseTransport):
    """Checks every address a host resolves to, then connects to the checked one.

    The host is resolved once per request (`resolver`, the system's by default); httpx only ever
    sees the checked address, so it never resolves the name again behind our back.
    """

    MAX_IDLE_POOLS = 32

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        resolver: Resolver | None = None,
        label: str = "outbound",
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self.label = label
        self._resolver = resolver or system_resolver
        self._ssl = verify or httpx.create_ssl_context()
        self._pools: OrderedDict[str, _Pool] = OrderedDict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        check_url(url, self.policy, self.label)
        host = url.host
        https = url.scheme == "https"
        addresses = await self._checked_addresses(request)
        extensions = dict(request.extensions)
        if https and _literal(host) is None:
            extensions["sni_hostname"] = host
        pool = await self._pool(host if https else "")
        failure: httpx.ConnectError | None = None
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=str(address)),
                headers=request.headers,  # Host: still the name the caller asked for
                stream=request.stream,
                extensions=extensions,
            )
            pool.active += 1
            try:
                response = await pool.transport.handle_async_request(pinned)
            except httpx.ConnectError as exc:  # nothing was sent: the next address may answer
                pool.active -= 1
                failure = exc
                continue
            except BaseException:
                pool.active -= 1
                raise
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _Released(response.stream, pool)
            return response
        assert failure is not None
        raise failure

    async def _checked_addresses(self, request: httpx.Request) -> list[IPAddress]:
        """Every address of the host, refused as a whole if any one is not allowed: a name with
        one public and one private answer must not reach the private one on a retry."""
        url = request.url
        host = url.host
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            port = url.port or (443 if url.scheme == "https" else 80)
            addresses = await self._resolve(host, port, request)
        for address in addresses:
            kind = refused_kind(address, self.policy)
            if kind is not None:
                named = "" if literal is not None else f" (an address of {host})"
                raise OutboundRefused(
                    f"{self.label}: refused {request.method} {_shown(url)}: "
                    f"{address}{named} is {kind}; {_HINT}",
                    details={
                        "service": self.label,
                        "reason": "address_not_allowed",
                        "host": host,
                        "address": str(address),
                    },
                )
        return addresses

    async def _resolve(self, host: str, port: int, request: httpx.Request) -> list[IPAddress]:
        limit_s = self.policy.connect_timeout_s
        try:
            async with asyncio.timeout(limit_s):
                answers = await self._resolver(host, port)
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"resolving {host} took longer than {limit_s:g} s", request=request
            ) from None
        except OSError as exc:
            raise httpx.ConnectError(f"could not resolve {host}: {exc}", request=request) from exc
        addresses: list[IPAddress] = []
        for answer in answers:
            address = _literal(answer)
            if address is None:
                raise httpx.ConnectError(
                    f"the resolver gave {answer!r} for {host}, not an address", request=request
                )
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise httpx.ConnectError(f"{host} has no addresses", request=request)
        return addresses

    async def _pool(self, key: str) -> _Pool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self._ssl)
            idle = [k for k, p in self._pools.items() if p.active == 0 and k != key]
            for old in idle[: max(0, len(self._pools) - self.MAX_IDLE_POOLS)]:
                await self._pools.pop(old).transport.aclose()
        self._pools.move_to_end(key)
        return pool

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()


class _Capped(httpx.AsyncByteStream):
    """A body read within the size cap and the exchange's deadline."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        *,
        limit: int,
        deadline: float,
        request: httpx.Request,
        label: str,
    ) -> None:
        self._inner, self._limit, self._deadline = inner, limit, deadline
        self._request, self._label = request, label

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        chunks = self._inner.__aiter__()
        while True:
            try:
                async with asyncio.timeout_at(self._deadline):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise httpx.ReadTimeout(
                    "the answer did not arrive within total_timeout_s", request=self._request
                ) from None
            size += len(chunk)
            if size > self._limit:
                raise _too_large(self._label, self._request.url, self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _too_large(label: str, url: httpx.URL, limit: int, declared: str = "") -> OutboundRefused:
    size = f"announced {declared} bytes" if declared else "sent more"
    return OutboundRefused(
        f"{label}: {_shown(url)} {size}, over max_response_bytes ({limit} bytes)",
        details={"service": label, "reason": "too_large", "limit": limit},
    )


class OutboundClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` bound to an `OutboundPolicy`: address checks and pinning on every
    connection, redirects followed here (never by httpx) and checked hop by hop, bodies capped.

    Redirects are followed by default; pass `follow_redirects=False` to get the 3xx itself.
    """

    def __init__(
        self,
        policy: OutboundPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        label: str = "outbound",
        headers: dict[str, str] | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        """`verify`: the TLS trust to use instead of the system's (a private CA, or tests)."""
        self.policy = policy or OutboundPolicy()
        self.label = label
        super().__init__(
            headers=headers,
            timeout=httpx.Timeout(
                self.policy.request_timeout_s, connect=self.policy.connect_timeout_s
            ),
            transport=PinnedTransport(self.policy, resolver=resolver, label=label, verify=verify),
            follow_redirects=False,
            trust_env=False,  # no proxies or netrc credentials from the environment
        )

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        follow = follow_redirects if isinstance(follow_redirects, bool) else True
        deadline = asyncio.get_running_loop().time() + self.policy.total_timeout_s
        history: list[httpx.Response] = []
        while True:
            response = await self._hop(request, auth, deadline)
            location = response.headers.get("location")
            if not follow or response.status_code not in REDIRECT_STATUSES or not location:
                break
            await response.aclose()
            history.append(response)
            if len(history) > self.policy.max_redirects:
                where = _shown(request.url)
                raise OutboundRefused(
                    f"{self.label}: more than {self.policy.max_redirects} redirects, the last "
                    f"from {where}",
                    details={"service": self.label, "reason": "too_many_redirects", "url": where},
                )
            request = self._redirected(request, response, location)
        response.history = history
        try:
            self._cap(response, deadline)
            if not stream:
                await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    async def _hop(self, request: httpx.Request, auth: Any, deadline: float) -> httpx.Response:
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                return await super().send(request, stream=True, auth=auth, follow_redirects=False)
        except TimeoutError:
            if not timeout.expired():
                raise
            raise httpx.ReadTimeout(
                f"no answer from {_shown(request.url)} within total_timeout_s "
                f"({self.policy.total_timeout_s:g} s)",
                request=request,
            ) from None

    def _redirected(
        self, request: httpx.Request, response: httpx.Response, location: str
    ) -> httpx.Request:
        """The next hop, as a browser would make it; credentials stay with their origin."""
        try:
            url = request.url.join(location)
        except httpx.InvalidURL as exc:
            raise httpx.RemoteProtocolError(
                f"bad redirect location {location[:200]!r}: {exc}", request=request
            ) from None
        check_url(url, self.policy, self.label)
        method = request.method
        if (response.status_code == 303 and method != "HEAD") or (
            response.status_code in (301, 302) and method == "POST"
        ):
            method = "GET"
        headers = httpx.Headers(request.headers)
        if (url.scheme, url.host, url.port) != (
            request.url.scheme,
            request.url.host,
            request.url.port,
        ):
            defaults = {name.lower() for name in self.headers}
            keep = defaults.union(_BODY_HEADERS).difference(_SENSITIVE_HEADERS)
            headers = httpx.Headers([(k, v) for k, v in headers.multi_items() if k.lower() in keep])
            headers["Host"] = url.netloc.decode("ascii")
        if method != request.method:
            for name in _BODY_HEADERS:
                headers.pop(name, None)
            return httpx.Request(method, url, headers=headers, extensions=request.extensions)
        return httpx.Request(
            method, url, headers=headers, stream=request.stream, extensions=request.extensions
        )

    def _cap(self, response: httpx.Response, deadline: float) -> None:
        limit = self.policy.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(self.label, response.request.url, limit, declared)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Capped(
            response.stream,
            limit=limit,
            deadline=deadline,
            request=response.request,
            label=self.label,
        )
