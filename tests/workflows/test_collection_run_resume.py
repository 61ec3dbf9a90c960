"""The issue's acceptance run: a 1,000-token layered collection runs distributed over 2 worker
processes, its runner is killed with SIGKILL midway, and a second run finishes it without
redoing a finished step."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from emprops.queue.keys import QueueKeys
from emprops.workflows.engine import GeneratorV2
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
TOKENS = 1000
LAYERS = ["Background", "Body", "Eyes", "Mouth", "Headwear", "Accessory", "Frame"]


def recorded(out: Path) -> int:
    try:
        with sqlite3.connect(out / "run.sqlite", timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM step_result").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def collection_run(tmp: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "emprops", "collection", "run", "collection.json", "--out", "out",
            "--workers", "2", "--concurrency", "2"]  # fmt: skip
    log = open(tmp / f"runner-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(args, cwd=tmp, env=env, stdout=log, stderr=log)


def test_a_killed_layered_run_resumes_without_redoing_steps(
    tmp_path: Path, queue_name: str
) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "examples/layers-collection/make_layers.py"),
         str(tmp_path / "layers"), "--size", "32"],
        check=True, capture_output=True,
    )  # fmt: skip
    config = {"version": 1, "layers_dir": "layers", "output": {"format": "png"},
              "configurations": [{"grow_edition_size_to": TOKENS,
                                  "layers": [{"name": name} for name in LAYERS]}]}  # fmt: skip
    (tmp_path / "layers.json").write_text(json.dumps(config))
    document = {"version": "v2", "variables": [],
                "steps": [{"id": 1, "nodeName": "layers", "nodePayload": {"config": "layers.json"}}],
                "generations": {"hashes": [], "generations": TOKENS, "use_custom_hashes": False}}  # fmt: skip
    (tmp_path / "collection.json").write_text(json.dumps(document))
    env = {**os.environ, "EMPROPS_REDIS_URL": REDIS_URL, "EMPROPS_QUEUE_NAME": queue_name,
           "EMPROPS_DATA_DIR": str(tmp_path / "data"), "EMPROPS_LEASE_S": "3",
           "EMPROPS_HEARTBEAT_S": "0.5"}  # fmt: skip
    out = tmp_path / "out"

    runner = collection_run(tmp_path, env)
    deadline = time.monotonic() + 240
    while recorded(out) < 150:
        assert runner.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    partial = recorded(out)
    assert 150 <= partial < TOKENS
    time.sleep(2)  # its workers see their parent die and hand back their jobs

    resumed = collection_run(tmp_path, env)
    assert resumed.wait(timeout=300) == 0
    assert recorded(out) == TOKENS

    manifest = json.loads((out / "manifest.json").read_text())
    tokens = manifest["tokens"]
    assert len(tokens) == TOKENS and all(t["status"] == "complete" for t in tokens)
    digests = set()
    for token in tokens:
        path = Path(token["files"][0].removeprefix("file://"))
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == TOKENS  # every token a distinct trait combination
    keys = QueueKeys(queue_name)
    with redis.Redis.from_url(REDIS_URL) as client:
        for g in range(TOKENS):
            job_id = GeneratorV2.job_id(manifest["run_id"], g, 1)
            events = [f[b"event"] for _, f in client.xrange(keys.events(job_id))]
            assert events.count(b"complete_job") == 1, (job_id, events)
