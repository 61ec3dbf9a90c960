"""`emprops demo` as a user runs it, in its own process on a fresh data directory (embedded Redis,
SQLite, local chain): it completes, a second run resumes and duplicates nothing, a run killed
midway is picked up by the next, and a second demo while one runs is refused."""

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


def test_the_demo_completes_and_resumes_without_duplicating(data_dir: Path) -> None:
    first = demo(data_dir)
    assert isinstance(first, subprocess.CompletedProcess)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    out = first.stdout
    assert f"{TOKENS} generated, 0 failed, {TOKENS} minted" in out
    assert f"{TOKENS} mints indexed" in out
    assert "nothing (a fresh run)" in out
    assert (data_dir / "demo" / "contact-sheet.png").stat().st_size > 10_000
    state = json.loads((data_dir / "demo" / "state.json").read_text())

    second = demo(data_dir)
    assert isinstance(second, subprocess.CompletedProcess)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "resumed" in second.stdout and "generate, package, deploy, mint" in second.stdout
    assert json.loads((data_dir / "demo" / "state.json").read_text()) == state
    assert f"{TOKENS} generated, 0 failed, {TOKENS} minted" in second.stdout


def test_a_killed_demo_is_picked_up_and_a_second_one_is_refused(data_dir: Path) -> None:
    running = demo(data_dir, wait=False)
    assert isinstance(running, subprocess.Popen)
    deadline = time.monotonic() + 120
    state = data_dir / "demo" / "state.json"
    while not (
        state.is_file()
        and "run_id" in state.read_text()
        and json.loads(state.read_text())["run_id"]
    ):
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
    assert f"{TOKENS} generated, 0 failed, {TOKENS} minted" in resumed.stdout
    assert "collection" in resumed.stdout.split("resumed", 1)[1]
