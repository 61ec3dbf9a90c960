"""What `emprops doctor` checks: each part of a configuration, tried for real (a Redis ping, a
database query, a probe blob written and deleted, the chain's id), with what to do when it fails.

A check never raises: whatever goes wrong becomes a `Finding` naming the setting to change.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from emprops.core.settings import Settings


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    part: str
    verdict: Verdict
    detail: str
    fix: str = ""


Check = Callable[[Settings], Awaitable[list[Finding]]]


async def check_data_dir(settings: Settings) -> list[Finding]:
    path = settings.data_dir.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".doctor-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return [Finding("data dir", Verdict.FAIL, f"{path}: {exc.strerror or exc}",
                        "set EMPROPS_DATA_DIR to a writable folder")]  # fmt: skip
    return [Finding("data dir", Verdict.OK, str(path))]


async def check_redis(settings: Settings) -> list[Finding]:
    from emprops.core.embedded_redis import find_redis_server

    if not settings.redis_url:
        try:
            binary = find_redis_server(settings.redis_server_bin)
        except Exception as exc:
            return [Finding("redis", Verdict.FAIL, f"no redis-server for the embedded Redis: {exc}",
                            "set EMPROPS_REDIS_URL, or EMPROPS_REDIS_SERVER_BIN")]  # fmt: skip
        return [
            Finding("redis", Verdict.OK, f"embedded ({binary}), started on demand in the data dir")
        ]
    import redis.asyncio

    # a plain connection to the one node named: it answers INFO whether or not it is in a cluster
    client = redis.asyncio.Redis.from_url(settings.redis_url)
    try:
        info = await asyncio.wait_for(client.info("server"), timeout=5)
        cluster_on = (await asyncio.wait_for(client.info("cluster"), timeout=5)).get(
            "cluster_enabled", 0
        )
    except Exception as exc:
        return [Finding("redis", Verdict.FAIL, f"{_redacted(settings.redis_url)}: {exc}",
                        "check EMPROPS_REDIS_URL and that Redis is running")]  # fmt: skip
    finally:
        await client.aclose()
    version = str(info.get("redis_version", "?")) if isinstance(info, dict) else "?"
    findings = [Finding("redis", Verdict.OK, f"Redis {version} at {_redacted(settings.redis_url)}")]
    if _version_tuple(version) < (6, 2):
        findings.append(Finding("redis", Verdict.FAIL, f"Redis {version} is older than 6.2",
                                "the broker's scripts need Redis 6.2 or newer"))  # fmt: skip
    if bool(cluster_on) != settings.redis_cluster:
        findings.append(
            Finding("redis", Verdict.FAIL,
                    f"the server {'is' if cluster_on else 'is not'} a cluster node but "
                    f"EMPROPS_REDIS_CLUSTER={str(settings.redis_cluster).lower()}",
                    f"set EMPROPS_REDIS_CLUSTER={'true' if cluster_on else 'false'}")
        )  # fmt: skip
    return findings


async def check_database(settings: Settings) -> list[Finding]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from emprops.db import create_engine, database_url
    from emprops.db.migrate import alembic_config

    url = database_url(settings)
    shown = _redacted(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=10)
            current = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    except Exception as exc:
        return [Finding("database", Verdict.FAIL, f"{shown}: {exc}",
                        "check EMPROPS_DATABASE_URL and that the server is running")]  # fmt: skip
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current == head:
        return [Finding("database", Verdict.OK, f"{shown}, schema at {head}")]
    return [Finding("database", Verdict.WARN, f"{shown}, schema at {current or 'nothing'}, code at {head}",
                    "`emprops serve` migrates at start; or run it once before the workers")]  # fmt: skip


async def check_storage(settings: Settings) -> list[Finding]:
    from emprops.storage import open_blob_store

    where = settings.storage_url or f"file://{(settings.data_dir / 'blobs').resolve()}"
    probe = f"doctor/{uuid.uuid4().hex}.txt"
    try:
        store = open_blob_store(settings.storage_url, data_dir=settings.data_dir,
                                cdn_url=settings.cdn_url, options=settings.storage_options)  # fmt: skip
        await store.put(probe, b"emprops doctor")
        if await store.get(probe) != b"emprops doctor":
            raise RuntimeError("read back something else than was written")
        await store.delete(probe)
    except Exception as exc:
        return [Finding("storage", Verdict.FAIL, f"{_redacted(where)}: {exc}",
                        "check EMPROPS_STORAGE_URL / EMPROPS_STORAGE_OPTIONS and credentials")]  # fmt: skip
    return [Finding("storage", Verdict.OK, f"{_redacted(where)}: write, read, delete")]


async def check_secret(settings: Settings) -> list[Finding]:
    if settings.secret_key is not None:
        if len(settings.secret_key.get_secret_value()) < 32:
            return [Finding("secret key", Verdict.FAIL, "EMPROPS_SECRET_KEY is shorter than 32 characters",
                            "use e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`")]  # fmt: skip
        return [Finding("secret key", Verdict.OK, "set")]
    shared = settings.database_url is not None and not settings.database_url.startswith("sqlite")
    if shared:
        return [Finding("secret key", Verdict.WARN,
                        "unset: each API machine generates its own, so tokens from one fail on another",
                        "set EMPROPS_SECRET_KEY, the same on every API process")]  # fmt: skip
    return [
        Finding("secret key", Verdict.OK, f"generated once into {settings.data_dir}/secret.key")
    ]


async def check_workers(settings: Settings) -> list[Finding]:
    if not settings.redis_url:
        return [
            Finding(
                "workers", Verdict.OK, "local workers are started by the commands that need them"
            )
        ]
    from emprops.cli.context import broker_config
    from emprops.core.redis_connection import RedisEndpoint
    from emprops.queue.broker import Broker

    client = RedisEndpoint(url=settings.redis_url, cluster=settings.redis_cluster).async_client()
    try:
        stats = await asyncio.wait_for(Broker(client, broker_config(settings)).stats(), timeout=10)
    except Exception as exc:
        return [Finding("workers", Verdict.WARN, f"could not read the queue: {exc}")]
    finally:
        await client.aclose()
    served = {s for w in stats.workers for s in w.capabilities.get("services", [])}
    findings = [Finding("workers", Verdict.OK if stats.workers else Verdict.WARN,
                        f"{len(stats.workers)} live, serving {', '.join(sorted(served)) or 'nothing'}",
                        "" if stats.workers else "start `emprops worker --services render` somewhere")]  # fmt: skip
    waiting = sorted(s for s, n in stats.pending.items() if n and s not in served)
    if waiting:
        findings.append(Finding("workers", Verdict.WARN, f"jobs wait for services nobody serves: {', '.join(waiting)}",
                                "start workers for them"))  # fmt: skip
    return findings


async def check_chain_config(settings: Settings) -> list[Finding]:
    from emprops.chain.readiness import check_chain
    from emprops.core.errors import EmpropsError

    try:
        found = await asyncio.wait_for(check_chain(settings), timeout=settings.chain_rpc_timeout_s)
    except EmpropsError as exc:
        return [Finding("chain", Verdict.FAIL, exc.message,
                        "check EMPROPS_CHAIN, EMPROPS_CHAIN_RPC_URL and EMPROPS_CHAIN_SIGNER_KEY")]  # fmt: skip
    except TimeoutError:
        return [Finding("chain", Verdict.FAIL, "the chain's RPC did not answer in time",
                        "check EMPROPS_CHAIN_RPC_URL")]  # fmt: skip
    return [Finding("chain", Verdict.OK, found)]


CHECKS: list[Check] = [
    check_data_dir,
    check_redis,
    check_database,
    check_storage,
    check_secret,
    check_workers,
    check_chain_config,
]


async def run_checks(settings: Settings, checks: list[Check] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in checks or CHECKS:
        try:
            findings.extend(await check(settings))
        except Exception as exc:  # a check's own bug must not hide the others
            findings.append(Finding(check.__name__.removeprefix("check_"), Verdict.FAIL, repr(exc)))
    return findings


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:3]:
        parts.append(int(part) if part.isdigit() else 0)
    return tuple(parts)


def _redacted(url: str) -> str:
    """A URL without its password, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        netloc = f"{parts.username}:***@{host}" if parts.username else f"***@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    return url
