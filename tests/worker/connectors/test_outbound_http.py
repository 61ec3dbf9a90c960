"""Outbound HTTP cannot be pointed at us: loopback and private addresses are refused before any
connection is made, resolved names are checked and pinned, redirects are checked hop by hop.

Every server here is a real socket on loopback; "public" names only exist in injected resolvers.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from emprops.worker.connector import PermanentJobError
from emprops.worker.connectors.http_api import HttpApiConnector
from emprops.worker.connectors.job_inputs import load_input, outbound_client
from emprops.worker.connectors.outbound_http import (
    OutboundClient,
    OutboundPolicy,
    OutboundRefused,
    address_refusal,
)
from tests.worker.connectors.conftest import ProgressLog, make_job

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]


@dataclass
class Listener:
    """A minimal HTTP/1.1 server that counts what reaches it."""

    host: str
    respond: Callable[[Seen], Answer]
    port: int = 0
    keep_alive: bool = False
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, target, headers)
                self.requests.append(seen)
                status, extra, body = self.respond(seen)
                out = [f"HTTP/1.1 {status} X"]
                out += [] if self.keep_alive else ["Connection: close"]
                out += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + body)
                await writer.drain()
                if not self.keep_alive:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes = b"hello") -> Callable[[Seen], Answer]:
    return lambda _: (200, {"Content-Length": str(len(body))}, body)


def redirect(location: str) -> Callable[[Seen], Answer]:
    return lambda _: (302, {"Location": location, "Content-Length": "0"}, b"")


@contextlib.asynccontextmanager
async def listening(
    host: str, respond: Callable[[Seen], Answer], port: int = 0
) -> AsyncIterator[Listener]:
    listener = Listener(host, respond)
    server = await asyncio.start_server(listener.handle, host, port)
    listener.port = server.sockets[0].getsockname()[1]
    try:
        yield listener
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


def answers(*batches: list[str]) -> tuple[Callable[[str, int], Any], list[str]]:
    """A resolver giving `batches[0]` on the first call, then `batches[1]`, ...; and its log."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return batches[min(len(calls), len(batches)) - 1]

    return resolve, calls


LOOPBACK_ONLY = OutboundPolicy(allowed_networks=["127.0.0.1/32"])


async def test_loopback_is_refused_by_default_and_nothing_reaches_it() -> None:
    async with listening("127.0.0.1", ok()) as target, OutboundClient() as client:
        with pytest.raises(OutboundRefused) as caught:
            await client.get(f"{target.url}/admin")
    assert "127.0.0.1 is a loopback address" in caught.value.message
    assert "allowed_networks" in caught.value.message
    assert caught.value.details["reason"] == "address_not_allowed"
    assert caught.value.retryable is False
    assert (target.connections, target.requests) == (0, [])


async def test_allowed_networks_let_the_listener_through() -> None:
    async with (
        listening("127.0.0.1", ok(b"fine")) as target,
        OutboundClient(LOOPBACK_ONLY) as client,
    ):
        response = await client.get(f"{target.url}/x")
    assert (response.status_code, response.content) == (200, b"fine")
    assert [r.target for r in target.requests] == ["/x"]


async def test_ipv6_loopback_literal_is_refused() -> None:
    async with OutboundClient() as client:
        with pytest.raises(OutboundRefused, match=r"::1 is a loopback address"):
            await client.get("http://[::1]:9/")


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["93.184.216.34", "127.0.0.1"], ["10.1.2.3"], ["::ffff:127.0.0.1"]],
)
async def test_a_public_looking_name_that_resolves_inward_is_refused(
    addresses: list[str],
) -> None:
    resolver, calls = answers(addresses)
    async with listening("127.0.0.1", ok()) as target:
        async with OutboundClient(resolver=resolver) as client:
            with pytest.raises(OutboundRefused) as caught:
                await client.get(f"http://api.example.com:{target.port}/")
        assert target.connections == 0
    assert "(an address of api.example.com)" in caught.value.message
    assert caught.value.details["host"] == "api.example.com"
    assert calls == ["api.example.com"]


async def test_a_redirect_to_a_disallowed_address_is_refused_at_the_hop() -> None:
    async with listening("127.0.0.2", ok(b"secret")) as inner:
        async with (
            listening("127.0.0.1", redirect(f"{inner.url}/latest/meta-data")) as outer,
            OutboundClient(LOOPBACK_ONLY) as client,
        ):
            with pytest.raises(OutboundRefused) as caught:
                await client.get(f"{outer.url}/start")
        assert len(outer.requests) == 1
        assert inner.connections == 0
    assert "127.0.0.2 is a loopback address" in caught.value.message


async def test_redirects_are_followed_within_the_limit_and_refused_past_it() -> None:
    def hops(seen: Seen) -> Answer:
        n = int(seen.target.strip("/") or 0)
        if n < 3:
            return (302, {"Location": f"/{n + 1}", "Content-Length": "0"}, b"")
        return (200, {"Content-Length": "4"}, b"done")

    async with listening("127.0.0.1", hops) as target:
        async with OutboundClient(LOOPBACK_ONLY) as client:
            response = await client.get(f"{target.url}/0")
            assert response.content == b"done"
            assert len(response.history) == 3
            unfollowed = await client.get(f"{target.url}/0", follow_redirects=False)
            assert unfollowed.status_code == 302
        strict = OutboundPolicy(allowed_networks=["127.0.0.1/32"], max_redirects=2)
        async with OutboundClient(strict) as client:
            with pytest.raises(OutboundRefused) as caught:
                await client.get(f"{target.url}/0")
    assert caught.value.details["reason"] == "too_many_redirects"


async def test_a_redirect_to_another_scheme_is_refused() -> None:
    async with (
        listening("127.0.0.1", redirect("file:///etc/passwd")) as target,
        OutboundClient(LOOPBACK_ONLY) as client,
    ):
        with pytest.raises(OutboundRefused) as caught:
            await client.get(target.url)
    assert caught.value.details["reason"] == "scheme"


async def test_credentials_do_not_follow_a_redirect_to_another_origin() -> None:
    both = OutboundPolicy(allowed_networks=["127.0.0.0/30"])
    async with (
        listening("127.0.0.2", ok()) as other,
        listening("127.0.0.1", redirect(f"{other.url}/next")) as first,
        OutboundClient(both, headers={"User-Agent": "emprops-test"}) as client,
    ):
        await client.get(first.url, headers={"Authorization": "Bearer k", "X-Api-Key": "k2"})
    assert first.requests[0].headers["x-api-key"] == "k2"
    moved = other.requests[0].headers
    assert "authorization" not in moved and "x-api-key" not in moved
    assert moved["host"] == f"127.0.0.2:{other.port}"
    assert moved["user-agent"] == "emprops-test"


async def _bind_pair() -> tuple[asyncio.Server, asyncio.Server, Listener, Listener]:
    """Listeners on 127.0.0.1 and 127.0.0.2 sharing one port, as one name's two answers."""
    for _ in range(20):
        first = Listener("127.0.0.1", ok(b"from 127.0.0.1"))
        second = Listener("127.0.0.2", ok(b"from 127.0.0.2"))
        server1 = await asyncio.start_server(first.handle, first.host, 0)
        first.port = second.port = server1.sockets[0].getsockname()[1]
        try:
            server2 = await asyncio.start_server(second.handle, second.host, second.port)
        except OSError:
            server1.close()
            continue
        return server1, server2, first, second
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


async def test_dns_rebinding_cannot_move_a_checked_connection() -> None:
    server1, server2, first, second = await _bind_pair()
    resolver, calls = answers(["127.0.0.1"], ["127.0.0.2"])
    try:
        async with OutboundClient(LOOPBACK_ONLY, resolver=resolver) as client:
            response = await client.get(f"http://rebind.example:{first.port}/")
            assert response.content == b"from 127.0.0.1"
            assert calls == ["rebind.example"]  # one answer, checked and used
            assert first.requests[0].headers["host"] == f"rebind.example:{first.port}"
            with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2 \(an address of rebind"):
                await client.get(f"http://rebind.example:{first.port}/")
        assert calls == ["rebind.example", "rebind.example"]
        assert (second.connections, second.requests) == (0, [])
    finally:
        server1.close()
        server2.close()


@pytest.mark.parametrize("declared", [True, False])
async def test_responses_are_capped(declared: bool) -> None:
    body = b"x" * 5000

    def big(_: Seen) -> Answer:
        return (200, {"Content-Length": str(len(body))} if declared else {}, body)

    policy = OutboundPolicy(allowed_networks=["127.0.0.1/32"], max_response_bytes=1000)
    async with listening("127.0.0.1", big) as target, OutboundClient(policy) as client:
        with pytest.raises(OutboundRefused) as caught:
            await client.get(target.url)
        with pytest.raises(OutboundRefused):  # streamed: at the headers or while reading
            async with client.stream("GET", target.url) as response:
                await response.aread()
    assert caught.value.details["reason"] == "too_large"


async def test_the_whole_exchange_has_a_deadline() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read(65536)
            await asyncio.sleep(30)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = OutboundPolicy(allowed_networks=["127.0.0.1/32"], total_timeout_s=0.3)
    try:
        async with OutboundClient(policy) as client:
            with pytest.raises(httpx.TimeoutException, match="total_timeout_s"):
                await client.get(f"http://127.0.0.1:{port}/")
    finally:
        server.close()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "link-local address (the cloud metadata service)"),
        ("::ffff:127.0.0.1", "a form of 127.0.0.1, a loopback address"),
        ("::ffff:169.254.169.254", "a form of 169.254.169.254"),
        ("64:ff9b::7f00:1", "a form of 127.0.0.1"),
        ("2002:7f00:1::", "a form of 127.0.0.1"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_the_checker_names_what_is_refused(address: str, kind: str) -> None:
    parsed = ipaddress.ip_address(address)
    why = address_refusal(parsed, OutboundPolicy())
    assert why is not None
    assert why.startswith(f"{parsed} is ") and kind in why


def test_the_checker_passes_public_and_explicitly_allowed_addresses() -> None:
    default = OutboundPolicy()
    for public in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert address_refusal(ipaddress.ip_address(public), default) is None
    for allowed in ("127.0.0.1", "::ffff:127.0.0.1"):
        assert address_refusal(ipaddress.ip_address(allowed), LOOPBACK_ONLY) is None
    assert address_refusal(ipaddress.ip_address("127.0.0.2"), LOOPBACK_ONLY) is not None
    permissive = OutboundPolicy(allow_private=True)
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), permissive) is None


def test_a_bad_network_in_the_config_is_an_error() -> None:
    with pytest.raises(ValidationError, match="not an IP network"):
        OutboundPolicy(allowed_networks=["127.0.0.1/33"])
    with pytest.raises(ValidationError):
        OutboundPolicy(allow_privat=True)  # type: ignore[call-arg]


async def test_an_http_job_aimed_at_loopback_fails_permanently(progress: ProgressLog) -> None:
    connector = HttpApiConnector({})
    async with listening("127.0.0.1", ok(b"{}")) as target:
        payload = {"request": {"method": "POST", "url": f"{target.url}/internal", "body": {}}}
        with pytest.raises(PermanentJobError) as caught:
            await connector.process(make_job("http", payload), progress)
        await connector.close()
        assert (target.connections, target.requests) == (0, [])
    assert "127.0.0.1 is a loopback address" in caught.value.message
    assert "allowed_networks" in caught.value.message
    assert caught.value.details["service"] == "http"


async def test_an_http_job_may_use_a_network_the_worker_allows(progress: ProgressLog) -> None:
    connector = HttpApiConnector({"allowed_networks": ["127.0.0.1"]})
    async with listening("127.0.0.1", ok(b'{"v": 7}')) as target:
        payload = {"request": {"url": f"{target.url}/v"}, "output": ".v"}
        result = await connector.process(make_job("http", payload), progress)
        await connector.close()
    assert result["data"] == 7


async def test_load_input_through_the_outbound_client() -> None:
    async with listening("127.0.0.1", ok(b"pixels")) as target:
        async with outbound_client(service="comfyui") as client:
            with pytest.raises(OutboundRefused, match="comfyui: refused"):
                await load_input(
                    f"{target.url}/in.png", store=None, client=client, limit=100, service="x"
                )
        assert target.connections == 0
        async with outbound_client(LOOPBACK_ONLY) as client:
            data = await load_input(
                f"{target.url}/in.png", store=None, client=client, limit=100, service="x"
            )
            assert data == b"pixels"
            with pytest.raises(PermanentJobError, match="neither an http"):
                await load_input("ftp://h/in.png", store=None, client=client, limit=9, service="x")


def _self_signed(name: str, directory: Path) -> tuple[Path, Path]:
    """A certificate for `name` (and its key) that is its own CA, as PEM files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_tls_keeps_the_hostname_while_connecting_to_the_checked_address(
    tmp_path: Path,
) -> None:
    cert, key = _self_signed("secure.example", tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment, func-returns-value]
    listener = Listener("127.0.0.1", ok(b"over tls"), keep_alive=True)
    server = await asyncio.start_server(listener.handle, "127.0.0.1", 0, ssl=server_context)
    listener.port = server.sockets[0].getsockname()[1]
    trust = ssl.create_default_context(cafile=str(cert))
    resolver, _ = answers(["127.0.0.1"])
    try:
        async with OutboundClient(LOOPBACK_ONLY, resolver=resolver, verify=trust) as client:
            for _ in range(2):
                response = await client.get(f"https://secure.example:{listener.port}/")
                assert response.content == b"over tls"
            assert (listener.connections, names) == (1, ["secure.example"])  # kept alive
            # Another name on the same address gets its own connection, so its own (failing)
            # certificate check: the verified secure.example connection is not reused for it.
            with pytest.raises(httpx.ConnectError, match="certificate"):
                await client.get(f"https://other.example:{listener.port}/")
    finally:
        server.close()
    assert names == ["secure.example", "other.example"]
    assert listener.requests[0].headers["host"] == f"secure.example:{listener.port}"
    assert len(listener.requests) == 2
