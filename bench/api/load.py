"""Load on the API over loopback: the read path and the start-generation path.

Starts a real `emprops serve` (one uvicorn process, SQLite by default or EMPROPS_DATABASE_URL,
the test Redis), creates a user with credits and a collection, then drives it with a bounded number
of requests from `--clients` concurrent httpx clients. The load generator shares the machine's 2
cores with the server, so the figures are a floor, not a ceiling.

    uv run --frozen python bench/api/load.py [--requests 3000] [--starts 300] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks-api.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    client: httpx.AsyncClient, count: int, clients: int, request: Any
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def one_client() -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            start = time.perf_counter()
            response = await request(client, i)
            latencies.append(time.perf_counter() - start)
            errors += response.status_code >= 400

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {"requests": count, "errors": errors, "rps": count / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--starts", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="emprops-load-"))
    port = free_port()
    env = {**os.environ, "EMPROPS_DATA_DIR": str(data_dir),
           "EMPROPS_REDIS_URL": os.environ.get("EMPROPS_REDIS_URL", "redis://127.0.0.1:6379/0"),
           "EMPROPS_QUEUE_NAME": f"load-{uuid.uuid4().hex[:8]}", "EMPROPS_RATE_LIMIT": "1000000/minute",
           "EMPROPS_LOG_LEVEL": "WARNING"}  # fmt: skip
    admin_key = subprocess.run(
        [sys.executable, "-m", "emprops", "users", "create", "--name", "load", "--admin"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    user_id, key = admin_key[1], admin_key[2]
    server = subprocess.Popen(
        [sys.executable, "-m", "emprops", "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        results = asyncio.run(load(port, key, user_id, args))
    finally:
        server.terminate()
        try:
            server.wait(60)  # it hands its runs back to the queue before it exits
        except subprocess.TimeoutExpired:
            server.kill()
    write_report(results, args)


async def load(
    port: int, key: str, user_id: str, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers,
                                     timeout=30, limits=httpx.Limits(max_connections=64)) as client:  # fmt: skip
        for _ in range(100):
            try:
                if (await client.get("/me")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        await client.post("/workflows", json={"name": "echo-job", "type": "direct_job",
                              "service": "echo", "data": {"service_required": "echo", "payload": {}}})  # fmt: skip
        await client.post("/credits/grant", json={"user_id": user_id, "amount": 1_000_000})
        project = (await client.post("/projects", json={"name": "load"})).json()
        document = {"version": "v2", "variables": [],
                        "steps": [{"id": 1, "nodeName": "echo-job", "nodePayload": {"x": 1}}],
                        "generations": {"hashes": [], "generations": 1, "use_custom_hashes": False}}  # fmt: skip
        collection = (await client.post(f"/projects/{project['id']}/collections",
                          json={"source": "custom", "title": "load", "data": document})).json()  # fmt: skip
        cid = collection["id"]

        async def read(c: httpx.AsyncClient, _i: int) -> httpx.Response:
            return await c.get(f"/collections/{cid}")

        async def start(c: httpx.AsyncClient, _i: int) -> httpx.Response:
            return await c.post(f"/collections/{cid}/generations", json={"generations": 1})

        await drive(client, 200, args.clients, read)  # warm up
        return {
            "GET /collections/{id}": await drive(client, args.requests, args.clients, read),
            "POST /collections/{id}/generations": await drive(
                client, args.starts, args.clients, start
            ),
        }


def write_report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    db = "PostgreSQL" if os.environ.get("EMPROPS_DATABASE_URL") else "SQLite"
    lines = [
        "## API load (loopback)", "",
        f"Command: `uv run --frozen python bench/api/load.py --requests {args.requests} "
        f"--starts {args.starts} --clients {args.clients}`", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. One `emprops serve` process "
        f"(uvicorn), {db}, Redis on loopback, {args.clients} concurrent httpx clients in one process "
        "on the same 2 cores (the client takes CPU from the server: a floor, not a ceiling). "
        "Authenticated with an API key; rate limiting on (limit set out of reach). A start creates "
        "the run, holds credits and writes the outbox row in one transaction, answers 202, and the "
        "dispatcher queues it afterwards (no worker runs here: the queue only fills).", "",
        "| route | requests | errors | req/s | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for route, r in results.items():
        lines.append(f"| `{route}` | {r['requests']:.0f} | {r['errors']:.0f} | {r['rps']:,.0f} | "
                     f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")  # fmt: skip
    DOCS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
