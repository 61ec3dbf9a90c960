"""The render service end to end: payload in, bytes rendered in a pool process, stored in a real
(local) blob store, step output back; and the event loop stays free while it renders."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emprops.art.layers import LayersRenderRequest, open_layer_set, plan_collection, render_layers
from emprops.queue.models import Job
from emprops.storage import BlobStore, open_blob_store
from emprops.worker.connector import PermanentJobError, RetryableJobError
from emprops.worker.connectors.render import RenderConnector
from tests.art.conftest import HASH, token_hashes


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    async def __call__(self, percent: float, message: str = "") -> None:
        self.calls.append((percent, message))


@pytest.fixture(scope="module")
def connector(example_layers: Path) -> Iterator[RenderConnector]:
    """One connector (one pool process) for the module: spawning a process is the slow part."""
    render = RenderConnector({"assets_root": str(example_layers.parent), "processes": 1})
    yield render
    if render._pool is not None:
        render._pool.shutdown(wait=True)


@pytest.fixture
def store(tmp_path: Path, connector: RenderConnector) -> BlobStore:
    blobs = open_blob_store(None, data_dir=tmp_path, cdn_url=None)
    connector.store = blobs
    return blobs


def _job(payload: dict[str, Any], **fields: Any) -> Job:
    return Job(id="job-1", service_required="render", payload=payload, **fields)


async def test_a_layers_token_is_rendered_stored_and_returned(
    connector: RenderConnector, store: BlobStore, example_layers: Path
) -> None:
    token = plan_collection(open_layer_set(example_layers), token_hashes(60)).tokens[20]
    payload = {
        "renderer": "layers",
        "config": "layers.json",
        "hash": token.hash,
        "configuration": token.configuration,
        "traits": token.traits,
        "output_path": "generations/u1/r1/20/101/layers.{ext}",
    }
    progress = Progress()
    result = await connector.process(_job(payload), progress)
    assert result["mimeType"] == "image/png"
    assert result["path"] == "generations/u1/r1/20/101/layers.png"
    assert result["src"] == store.url_for(result["path"])
    stored = await store.get(result["path"])
    request = LayersRenderRequest(
        config="layers.json",
        hash=token.hash,
        configuration=token.configuration,
        traits=token.traits,
    )
    assert stored == render_layers(request, example_layers).data  # same bytes in any process
    percents = [p for p, _ in progress.calls]
    assert percents == sorted(percents) and percents[-1] == 100


async def test_an_animated_token_becomes_a_gif(
    connector: RenderConnector, store: BlobStore
) -> None:
    traits = {
        "Background": "Ocean", "Body": "Tan", "Eyes": "Round", "Mouth": "Smile",
        "Headwear": "Cap", "Accessory": "Sparkle Loop", "Frame": "None",
    }  # fmt: skip
    payload = {
        "renderer": "layers",
        "config": "layers.json",
        "hash": HASH,
        "configuration": 1,
        "traits": traits,
        "output_path": "out/token-7",
    }
    result = await connector.process(_job(payload), Progress())
    assert (result["mimeType"], result["path"], result["frames"]) == (
        "image/gif",
        "out/token-7.gif",
        8,
    )
    assert (await store.get("out/token-7.gif"))[:6] == b"GIF89a"


async def test_an_animation_goes_where_the_job_ctx_says(
    connector: RenderConnector, store: BlobStore
) -> None:
    payload = {
        "renderer": "animate",
        "hash": HASH,
        "format": "mp4",
        "params": {"width": 64, "height": 64, "frames": 6, "style": "plasma"},
    }
    ctx = {"prefix": "generations/u1/r1/3/102", "filename": "animate"}
    result = await connector.process(_job(payload, ctx=ctx), Progress())
    assert result["path"] == "generations/u1/r1/3/102/animate.mp4"
    assert result["mimeType"] == "video/mp4" and result["frames"] == 6
    assert (await store.get(result["path"]))[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"renderer": "oil", "hash": HASH}, "bad render payload"),
        ({"renderer": "layers", "config": "../../etc/x.json", "hash": HASH}, "outside"),
        (
            {"renderer": "layers", "config": "layers.json", "hash": HASH, "traits": {"Eyes": "X"}},
            "traits name layer|has no trait|give nothing",
        ),
        ({"renderer": "layers", "config": "missing.json", "hash": HASH}, "does not exist"),
        (
            {
                "renderer": "animate",
                "hash": HASH,
                "params": {"frames": 2, "width": 32},
                "output_path": "a/b.jpg",
            },
            r"ends in \.jpg but the output is image/gif",
        ),
    ],
)
async def test_bad_jobs_fail_for_good_with_the_reason(
    connector: RenderConnector, store: BlobStore, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(PermanentJobError, match=message):
        await connector.process(_job(payload), Progress())


async def test_without_a_store_the_job_is_left_for_another_worker(example_layers: Path) -> None:
    render = RenderConnector({"assets_root": str(example_layers.parent)})
    with pytest.raises(RetryableJobError, match="no blob store"):
        await render.process(_job({"renderer": "animate", "hash": HASH}), Progress())
    assert render._pool is None  # nothing was started for a job it cannot finish


async def test_rendering_leaves_the_event_loop_free(
    connector: RenderConnector, store: BlobStore
) -> None:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    payload = {
        "renderer": "animate",
        "hash": HASH,
        "params": {"width": 256, "height": 256, "frames": 48, "style": "flow"},
    }
    tick = asyncio.create_task(ticker())
    started = time.monotonic()
    await connector.process(_job(payload), Progress())
    elapsed = time.monotonic() - started
    done.set()
    await tick
    # Rendering on the loop would stall the ticker for about the whole render.
    assert len(gaps) > 10
    assert max(gaps) < elapsed / 3


async def test_a_collection_plan_is_made_where_the_layers_are(
    connector: RenderConnector, store: BlobStore, example_layers: Path
) -> None:
    hashes = token_hashes(60, "plan")
    payload = {"renderer": "layers_plan", "config": "layers.json", "hashes": hashes,
               "output_path": "generations/u1/r1/plan.{ext}"}  # fmt: skip
    result = await connector.process(_job(payload), Progress())
    assert (result["path"], result["mimeType"], result["tokens"]) == (
        "generations/u1/r1/plan.json", "application/json", 60
    )  # fmt: skip
    stored = await store.get(result["path"])
    expected = plan_collection(open_layer_set(example_layers), hashes)
    assert stored == expected.model_dump_json().encode()
    short = dict(payload, hashes=hashes[:5])
    with pytest.raises(PermanentJobError, match=r"makes 60 tokens .* but 5 hashes"):
        await connector.process(_job(short), Progress())
