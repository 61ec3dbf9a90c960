"""GeneratorV2 on the real broker with a real worker: refs flow between steps, picks follow the
hash, and a run that crashes resumes without redoing a finished step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from emprops.core.redis_connection import RedisEndpoint
from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.models import WorkerCapabilities
from emprops.worker.connectors.echo import EchoConnector
from emprops.worker.runtime import WorkerOptions, WorkerRuntime
from emprops.workflows import (
    GenerationInput,
    WorkflowCatalog,
    WorkflowDefinition,
    builtin_catalog,
    resolve_variables,
)
from emprops.workflows.engine import EngineEvent, GeneratorV2
from emprops.workflows.run_journal import SqliteRunJournal
from tests.conftest import REDIS_URL


def document(generations: int, delay: float = 0.0) -> GenerationInput:
    return GenerationInput.model_validate(
        {
            "version": "v2",
            "steps": [
                {"id": 1, "nodeName": "echo-job", "alias": "first",
                 "nodePayload": {"color": {"$ref": 953, "path": ".data.color"}, "delay_s": delay}},
                {"id": 2, "nodeName": "echo-job", "alias": "second",
                 "nodePayload": {"from_first": {"$ref": 1, "path": ".echo.color"},
                                 "size": {"$ref": 953, "path": ".data.size"}}},
            ],
            "generations": {"hashes": [], "generations": generations, "use_custom_hashes": False},
            "variables": [
                {"name": "color", "type": "weighted_pick", "value_type": "strings",
                 "value": {"display_names": ["Red", "Blue"], "values": ["red", "blue"],
                           "weights": [30, 70]}, "lock_value": False, "test_value": None},
                {"name": "size", "type": "pick", "value_type": "strings",
                 "value": {"display_names": ["S", "M", "L"], "values": ["s", "m", "l"]},
                 "lock_value": False, "test_value": None},
            ],
        }
    )  # fmt: skip


def catalog() -> WorkflowCatalog:
    workflows = builtin_catalog()
    fields = ("color", "delay_s", "from_first", "size", "fail")
    workflows.register(
        WorkflowDefinition(
            name="echo-job", type="direct_job", service="echo",
            data={"service_required": "echo", "payload": {}, "inputs": {f: f for f in fields}},
        )
    )  # fmt: skip
    return workflows


@pytest.fixture
async def worker(broker_config: BrokerConfig) -> AsyncIterator[WorkerRuntime]:
    runtime = WorkerRuntime(
        RedisEndpoint(url=REDIS_URL),
        broker_config,
        WorkerCapabilities(worker_id="engine-worker", services=["echo"]),
        {"echo": EchoConnector()},
        WorkerOptions(concurrency=8, heartbeat_s=0.2, idle_wait_s=1),
    )
    task = asyncio.create_task(runtime.run())
    yield runtime
    runtime.request_stop()
    await asyncio.wait_for(task, 10)


async def test_steps_run_in_order_with_refs_resolved(
    broker: Broker, worker: WorkerRuntime, tmp_path: Path
) -> None:
    gi = document(6)
    journal = SqliteRunJournal(tmp_path / "run.sqlite")
    events: list[EngineEvent] = []
    outcome = await GeneratorV2(broker, gi, catalog(), journal, reconcile_s=0.5).run(events.append)
    assert outcome.completed == list(range(6)) and outcome.failed == {}
    for g, hash_ in enumerate(outcome.hashes):
        picks = resolve_variables(gi.variables, hash_)
        first = outcome.records.outputs[(g, 1)]["echo"]
        second = outcome.records.outputs[(g, 2)]["echo"]
        assert first["color"] == picks["color"]
        assert second == {"from_first": picks["color"], "size": picks["size"]}
    kinds = [e.type for e in events]
    assert kinds.count("node_completed") == 12 and kinds.count("complete") == 6
    assert "node_started" in kinds


async def test_a_crashed_run_resumes_without_redoing_finished_steps(
    broker: Broker, worker: WorkerRuntime, tmp_path: Path
) -> None:
    gi = document(20, delay=0.05)
    path = tmp_path / "run.sqlite"
    first = GeneratorV2(broker, gi, catalog(), SqliteRunJournal(path), reconcile_s=0.3)

    class RunnerCrashed(Exception):
        pass

    def crash_midway(event: EngineEvent) -> None:
        if event.type == "complete":  # the runner dies; its queued jobs keep running
            raise RunnerCrashed

    with pytest.raises(RunnerCrashed):
        await first.run(crash_midway)
    recorded_before = len(SqliteRunJournal(path).records().outputs)
    assert 0 < recorded_before < 40

    outcome = await GeneratorV2(
        broker, gi, catalog(), SqliteRunJournal(path), reconcile_s=0.3
    ).run()
    assert outcome.completed == list(range(20))
    assert len(outcome.records.outputs) == 40
    for g in range(20):
        for step_id in (1, 2):
            job_id = GeneratorV2.job_id(outcome.run_id, g, step_id)
            events = [e.event for e in await broker.read_events(job_id)]
            assert events.count("job_claimed") == 1, (job_id, events)  # ran exactly once
            assert events.count("job_submitted") == 1


async def test_resuming_with_a_different_document_is_refused(
    broker: Broker, tmp_path: Path
) -> None:
    path = tmp_path / "run.sqlite"
    GeneratorV2(broker, document(2), catalog(), SqliteRunJournal(path)).open_run()
    with pytest.raises(Exception, match="different GenerationInput"):
        GeneratorV2(broker, document(3), catalog(), SqliteRunJournal(path)).open_run()


async def test_a_failed_step_fails_its_generation_only(
    broker: Broker, worker: WorkerRuntime, tmp_path: Path
) -> None:
    gi = document(3)
    data: dict[str, Any] = gi.model_dump(by_alias=True)
    data["steps"][0]["nodePayload"]["fail"] = "permanent"
    failing = GenerationInput.model_validate(data)
    outcome = await GeneratorV2(
        broker, failing, catalog(), SqliteRunJournal(tmp_path / "r.sqlite"), reconcile_s=0.3
    ).run()
    assert outcome.completed == [] and set(outcome.failed) == {0, 1, 2}
    assert all("permanently" in err for err in outcome.failed.values())
    assert not any(step == 2 for (_, step) in outcome.records.outputs)


def prompt_document(*nodes: dict[str, Any]) -> str:
    import json

    return json.dumps([{"type": "paragraph", "children": list(nodes)}])


async def test_prompt_steps_inline_txt_variables_and_feed_later_steps(
    broker: Broker, worker: WorkerRuntime, tmp_path: Path
) -> None:
    """The original's built-in `prompt` step makes its text in-process; a variable whose value is
    a `.txt` URL is inlined as the file's text (read by the caller's reader), and `#id` of the
    prompt step is its text."""
    texts = {"https://texts.example.test/mood.txt": "a quiet dawn"}
    read: list[str] = []

    async def reader(url: str) -> str:
        read.append(url)
        return texts[url]

    gi = GenerationInput.model_validate(
        {
            "version": "v2",
            "steps": [
                {"id": 1, "nodeName": "prompt", "nodePayload": {"prompt": prompt_document(
                    {"text": "over "}, {"type": "variable", "variable": {"name": "mood"},
                                        "children": [{"text": ""}]})}},
                {"id": 2, "nodeName": "echo-job", "nodePayload": {"color": prompt_document(
                    {"text": "seen: #1"})}},
            ],
            "generations": {"hashes": [], "generations": 2, "use_custom_hashes": False},
            "variables": [
                {"name": "mood", "type": "pick", "value_type": "text",
                 "value": {"display_names": ["Mood"],
                           "values": ["https://texts.example.test/mood.txt"]}},
            ],
        }
    )  # fmt: skip
    journal = SqliteRunJournal(tmp_path / "run.sqlite")
    engine = GeneratorV2(broker, gi, catalog(), journal, reconcile_s=0.5, text_reader=reader)
    outcome = await engine.run()
    assert outcome.completed == [0, 1], outcome.failed
    for g in range(2):
        assert outcome.records.outputs[(g, 1)] == {"data": "over a quiet dawn",
                                                   "mimeType": "text/plain"}  # fmt: skip
        assert outcome.records.outputs[(g, 2)]["echo"] == {"color": "seen: over a quiet dawn"}
    assert read == ["https://texts.example.test/mood.txt"]  # once per run
