"""`emprops demo` as a user runs it, in its own process on a fresh data directory (embedded Redis,
SQLite, local chain): a second demo while one runs is refused, a run killed midway is picked up by
the next, which completes, and a run after that resumes everything and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emprops.core.embedded_redis import EmbeddedRedis
from emprops.demo.lock import DemoLock
from tests.chain.service_world import stop_node

ROOT = Path(__file__).resolve().parents[2]
TOKENS = "6"


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    yield data
    stop_node(data)
    EmbeddedRedis(data).stop()


def demo(
    data_dir: Path, *, wait: bool = True
) -> subprocess.Popen[str] | subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPROPS_")}
    env.update(EMPROPS_DATA_DIR=str(data_dir), COLUMNS="200")
    args = [sys.executable, "-m", "emprops", "demo", "--tokens", TOKENS, "--workers", "2"]
    if wait:
        return subprocess.run(
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_the_demo_survives_a_kill_refuses_a_twin_completes_and_resumes(data_dir: Path) -> None:
    running = demo(data_dir, wait=False)
    assert isinstance(running, subprocess.Popen)
    deadline = time.monotonic() + 120
    state = data_dir / "demo" / "state.json"
    while not (state.is_file() and json.loads(state.read_text()).get("run_id")):
        assert running.poll() is None, running.stdout.read() if running.stdout else ""
        assert time.monotonic() < deadline, "the demo never started its run"
        time.sleep(0.2)
    refused = demo(data_dir)
    assert isinstance(refused, subprocess.CompletedProcess)
    assert refused.returncode == 1 and "another `emprops demo`" in refused.stderr + refused.stdout
    running.send_signal(signal.SIGKILL)  # mid-generation: no goodbye
    running.wait(30)
    with DemoLock(data_dir):  # the kernel released the dead demo's lock
        pass

    resumed = demo(data_dir)
    assert isinstance(resumed, subprocess.CompletedProcess)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    out = resumed.stdout
    assert f"{TOKENS} generated, 0 failed, {TOKENS} minted" in out
    assert f"{TOKENS} mints indexed" in out
    assert "collection" in out.split("resumed", 1)[1]  # the killed demo's collection, not a new one
    assert (data_dir / "demo" / "contact-sheet.png").stat().st_size > 10_000
    made = json.loads(state.read_text())

    again = demo(data_dir)
    assert isinstance(again, subprocess.CompletedProcess)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "generate, package, deploy, mint" in again.stdout  # all resumed, nothing redone
    assert json.loads(state.read_text()) == made
    assert f"{TOKENS} generated, 0 failed, {TOKENS} minted" in again.stdout
