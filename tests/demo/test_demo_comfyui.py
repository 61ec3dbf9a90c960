"""`emprops demo --comfyui URL` as a user runs it, in its own process on a fresh data directory,
against the ComfyUI replay server served by this test: the demo's own component is imported, its
worker renders every token on that ComfyUI, and the collection is packaged, deployed, minted and
indexed. A URL where no ComfyUI answers is refused with a clear error before anything starts."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PIL import Image

from emprops.core.embedded_redis import EmbeddedRedis
from emprops.demo.comfyui import BLENDS, TINTS
from emprops.packaging import read_package_report
from tests.chain.service_world import stop_node
from tests.protocol_servers.comfyui_replay import ComfyUIReplay
from tests.protocol_servers.live_server import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
TOKENS = 3


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    yield data
    stop_node(data)
    EmbeddedRedis(data).stop()


@pytest.fixture
async def comfy() -> AsyncIterator[tuple[ComfyUIReplay, str]]:
    replay = ComfyUIReplay()
    async with serve(replay.app) as url:
        yield replay, url
        await replay.aclose()


async def demo(data_dir: Path, comfyui_url: str) -> tuple[int, str]:
    """Runs the demo while this loop goes on serving the replay server; (exit code, output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPROPS_")}
    env.update(EMPROPS_DATA_DIR=str(data_dir), COLUMNS="200")
    log = data_dir.parent / "demo.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emprops", "demo", "--comfyui", comfyui_url,
            "--tokens", str(TOKENS), "--workers", "2",
            cwd=ROOT, env=env, stdout=sink, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await asyncio.wait_for(process.wait(), 240)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"the demo did not finish:\n{log.read_text()[-3000:]}") from None
    return int(process.returncode or 0), log.read_text()


async def test_the_demo_makes_an_ai_collection_on_comfyui(
    data_dir: Path, comfy: tuple[ComfyUIReplay, str]
) -> None:
    replay, url = comfy
    code, out = await demo(data_dir, url)
    assert code == 0, out[-4000:]
    assert "tinted-square v1 (created)" in out
    assert f"{TOKENS} generated, 0 failed, {TOKENS} minted" in out
    assert f"{TOKENS} mints indexed" in out

    # Every token was rendered by ComfyUI: one prompt each, the demo's graph with its variables.
    assert len(replay.prompts) == TOKENS
    tints = {0xFFFFFF ^ c for c in TINTS.values()}
    for prompt in replay.prompts:
        graph = prompt["prompt"]
        assert graph["1"]["inputs"]["color"] in tints
        assert graph["4"]["inputs"]["blend_factor"] in BLENDS.values()
        assert graph["6"]["class_type"] == "SaveImage"
    (report_path,) = (data_dir / "publish").rglob("report.json")
    package = report_path.parent
    report = read_package_report(package)
    assert report.tokens == TOKENS
    served = set(replay.files.values())
    for token in report.token_entries:
        image = (package / token.image_file).read_bytes()
        assert image in served  # the very PNG ComfyUI answered, as the package's token image
        with Image.open(package / token.image_file) as png:
            assert json.loads(png.info["prompt"])["6"]["class_type"] == "SaveImage"
        traits = {a.trait_type: a.value for a in token.attributes}
        assert traits.keys() == {"tint", "blend"}
        assert traits["tint"] in TINTS and traits["blend"] in BLENDS
    state = json.loads((data_dir / "demo-comfyui" / "state.json").read_text())
    assert state["tokens"] == TOKENS and state["collection_id"] in out
    assert (data_dir / "demo-comfyui" / "contact-sheet.png").is_file()
    assert not (data_dir / "demo").exists()  # the layered demo's state is left alone


async def test_a_comfyui_that_does_not_answer_is_a_clear_error(data_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out = await demo(data_dir, url)
    assert code == 1, out
    assert f"ComfyUI at {url} does not answer GET /system_stats" in out
    assert "Traceback" not in out
    assert not (data_dir / "demo-comfyui").exists()  # refused before anything started
