"""Capability matching, ported from the original system's cases, with its quirks fixed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from emprops.queue.broker import Broker
from emprops.queue.models import JobRequest, WorkerCapabilities


def worker(**kw: Any) -> WorkerCapabilities:
    kw.setdefault("worker_id", "w1")
    kw.setdefault("services", ["comfyui"])
    return WorkerCapabilities.model_validate(kw)


async def claim_id(broker: Broker, caps: WorkerCapabilities) -> str | None:
    result = await broker.claim(caps)
    return result.jobs[0].job.id if result.jobs else None


async def submit(broker: Broker, job_id: str, **kw: Any) -> None:
    kw.setdefault("service_required", "comfyui")
    await broker.submit(JobRequest(id=job_id, **kw))


async def test_empty_queue_gives_nothing(broker: Broker) -> None:
    result = await broker.claim(worker())
    assert result.jobs == [] and result.scanned == 0


async def test_service_must_be_offered(broker: Broker) -> None:
    await submit(broker, "j", service_required="ollama")
    assert await claim_id(broker, worker(services=["comfyui"])) is None
    assert await claim_id(broker, worker(services=["comfyui", "ollama"])) == "j"


async def test_models_must_be_installed_for_the_jobs_service(broker: Broker) -> None:
    await submit(broker, "j", requirements={"positive_requirements": {"models": ["sdxl", "flux"]}})
    assert await claim_id(broker, worker(models={"comfyui": ["sdxl"]})) is None
    assert await claim_id(broker, worker(models={"ollama": ["sdxl", "flux"]})) is None
    assert await claim_id(broker, worker(models={"comfyui": ["flux", "sdxl", "x"]})) == "j"


async def test_hardware_numbers_are_minimums(broker: Broker) -> None:
    await submit(
        broker, "j", requirements={"positive_requirements": {"hardware": {"gpu_memory_gb": 16}}}
    )
    assert await claim_id(broker, worker(hardware={"gpu_memory_gb": 12})) is None
    assert await claim_id(broker, worker(hardware={"gpu_memory_gb": 24})) == "j"


async def test_strict_isolation_needs_strict_worker_and_allowed_customer(broker: Broker) -> None:
    await submit(
        broker,
        "j",
        customer_id="acme",
        requirements={"positive_requirements": {"customer_isolation": "strict"}},
    )
    loose = worker(customer_access={"isolation": "loose", "allowed_customers": ["acme"]})
    strict_other = worker(customer_access={"isolation": "strict", "allowed_customers": ["other"]})
    strict_acme = worker(customer_access={"isolation": "strict", "allowed_customers": ["acme"]})
    assert await claim_id(broker, worker()) is None
    assert await claim_id(broker, loose) is None
    assert await claim_id(broker, strict_other) is None
    assert await claim_id(broker, strict_acme) == "j"


async def test_strict_worker_serves_only_its_customers(broker: Broker) -> None:
    await submit(broker, "other", customer_id="other")
    await submit(broker, "anon")
    strict = worker(customer_access={"isolation": "strict", "allowed_customers": ["acme"]})
    assert await claim_id(broker, strict) is None
    await submit(broker, "mine", customer_id="acme")
    assert await claim_id(broker, strict) == "mine"


async def test_allow_and_deny_lists(broker: Broker) -> None:
    await submit(
        broker,
        "j",
        customer_id="acme",
        requirements={"positive_requirements": {"customer_isolation": "loose"}},
    )
    assert await claim_id(broker, worker(customer_access={"denied_customers": ["acme"]})) is None
    allow_other = worker(customer_access={"isolation": "loose", "allowed_customers": ["other"]})
    assert await claim_id(broker, allow_other) is None
    assert await claim_id(broker, worker(customer_access={"isolation": "loose"})) == "j"


async def test_nested_custom_capability_with_version_minimum(broker: Broker) -> None:
    need = {"features": {"controlnet": {"enabled": True, "version": 2}}}
    await submit(broker, "j", requirements={"positive_requirements": need})
    old = worker(features={"controlnet": {"enabled": True, "version": 1}})
    off = worker(features={"controlnet": {"enabled": False, "version": 3}})
    new = worker(features={"controlnet": {"enabled": True, "version": 3, "extra": "x"}})
    assert await claim_id(broker, old) is None
    assert await claim_id(broker, off) is None
    assert await claim_id(broker, new) == "j"


async def test_dotted_custom_capability(broker: Broker) -> None:
    await submit(broker, "j", requirements={"positive_requirements": {"region.zone": "eu-1"}})
    assert await claim_id(broker, worker(region={"zone": "us-1"})) is None
    assert await claim_id(broker, worker(region={"zone": "eu-1"})) == "j"


async def test_missing_custom_capability_is_rejected(broker: Broker) -> None:
    await submit(broker, "j", requirements={"positive_requirements": {"tensorrt": True}})
    assert await claim_id(broker, worker()) is None
    assert await claim_id(broker, worker(tensorrt=True)) == "j"


async def test_required_list_must_be_contained(broker: Broker) -> None:
    await submit(broker, "j", requirements={"positive_requirements": {"tags": ["a", "b"]}})
    assert await claim_id(broker, worker(tags=["a"])) is None
    assert await claim_id(broker, worker(tags=["b", "c", "a"])) == "j"


async def test_negative_requirement_rejects_matching_worker(broker: Broker) -> None:
    await submit(
        broker,
        "j",
        requirements={
            "positive_requirements": {"hardware": {"gpu_memory_gb": 8}},
            "negative_requirements": {"gpu_model": "T4"},
        },
    )
    assert await claim_id(broker, worker(hardware={"gpu_memory_gb": 16, "gpu_model": "T4"})) is None
    assert await claim_id(broker, worker(hardware={"gpu_memory_gb": 16, "gpu_model": "L4"})) == "j"


async def test_only_negative_requirements_match_any_other_worker(broker: Broker) -> None:
    # The original treated the whole object as positive, so this job could never run.
    await submit(broker, "j", requirements={"negative_requirements": {"gpu_model": "T4"}})
    assert await claim_id(broker, worker(hardware={"gpu_model": "T4"})) is None
    assert await claim_id(broker, worker()) == "j"


async def test_flat_requirements_are_positive_except_known_job_keys(broker: Broker) -> None:
    await submit(broker, "j", requirements={"hardware": {"ram_gb": 32}, "timeout_minutes": 5})
    assert await claim_id(broker, worker(hardware={"ram_gb": 16})) is None
    assert await claim_id(broker, worker(hardware={"ram_gb": 64})) == "j"


async def test_dedicated_worker_takes_only_its_workflow(broker: Broker) -> None:
    await submit(broker, "other", workflow_id="wf-other")
    await submit(broker, "free")
    dedicated = worker(workflow_id="wf-mine")
    assert await claim_id(broker, dedicated) is None
    await submit(broker, "mine", workflow_id="wf-mine")
    assert await claim_id(broker, dedicated) == "mine"
    assert await claim_id(broker, worker()) == "other"


async def test_two_workers_racing_for_one_job_exactly_one_wins(broker: Broker) -> None:
    for round_ in range(20):
        await submit(broker, f"race-{round_}")
        results = await asyncio.gather(*(broker.claim(worker(worker_id=f"w{i}")) for i in range(8)))
        winners = [r.jobs[0].lease.worker_id for r in results if r.jobs]
        assert len(winners) == 1


async def test_malformed_requirements_are_refused_with_the_field() -> None:
    with pytest.raises(ValidationError, match="negative_requirements must be an object"):
        JobRequest(service_required="x", requirements={"negative_requirements": ["T4"]})
    with pytest.raises(ValidationError, match="models must be a list"):
        JobRequest(service_required="x", requirements={"models": "sdxl"})
    with pytest.raises(ValidationError, match="customer_isolation"):
        JobRequest(service_required="x", requirements={"customer_isolation": "very"})


async def test_unparsable_stored_requirements_never_match(broker: Broker) -> None:
    await submit(broker, "j")
    await broker.redis.hset(broker.keys.job("j"), "requirements", "{not json")
    assert await claim_id(broker, worker()) is None
    assert "j" in await broker.unworkable()


async def test_scan_is_bounded(broker: Broker, redis_client: Any) -> None:
    from dataclasses import replace

    small = Broker(redis_client, replace(broker.config, claim_scan=10))
    for i in range(12):
        await submit(small, f"big-{i:02d}", priority=90, requirements={"vram": 80})
    await submit(small, "fits", priority=10)
    caps = worker(vram=24)
    result = await small.claim(caps)
    assert result.jobs == [] and result.scanned == 10
    wide = Broker(redis_client, replace(broker.config, claim_scan=20))
    assert await claim_id(wide, caps) == "fits"


async def test_unworkable_report_lists_jobs_no_live_worker_can_run(broker: Broker) -> None:
    await submit(broker, "needs-gpu", requirements={"hardware": {"gpu_memory_gb": 80}})
    await submit(broker, "easy")
    assert set(await broker.unworkable()) == {"needs-gpu", "easy"}  # no worker at all
    await broker.heartbeat(worker(hardware={"gpu_memory_gb": 24}), [])
    assert await broker.unworkable() == ["needs-gpu"]
