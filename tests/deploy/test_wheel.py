"""EmProps installed as a user installs it: the wheel built, installed into a clean venv (and as a
uv tool), nothing of the source checkout in reach; it carries every file the program reads at run
time and `emprops demo` completes from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emprops.core.embedded_redis import EmbeddedRedis
from tests.chain.service_world import stop_node

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "emprops"


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment less what points at this checkout or its venv."""
    drop = ("EMPROPS_", "VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(COLUMNS="200", **extra)
    return env


def _run(args: list[str | Path], cwd: Path, timeout: float = 300, **env: str) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=_env(**env), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.skip("uv is not on PATH")
    return found


@pytest.fixture(scope="module")
def wheel(uv: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([uv, "build", "--wheel", "--out-dir", out], cwd=ROOT)
    (built,) = out.glob("emprops-*.whl")
    return built


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    yield data
    stop_node(data)
    EmbeddedRedis(data).stop()


def test_the_wheel_carries_every_file_the_program_reads(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("emprops-0.1.0.dist-info/entry_points.txt").decode()
    assert "emprops = emprops.cli:main" in entry_points
    # Everything under the package: Lua scripts, Studio templates and static files, migrations,
    # the demo's ComfyUI component.
    data = [
        p.relative_to(PACKAGE.parent).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    missing = sorted(set(data) - names)
    assert not missing, missing
    for folder, pattern in [
        ("queue/lua", "*.lua"), ("studio/templates", "*.html"), ("studio/static", "*"),
        ("demo/components/tinted-square", "*"), ("demo/components/_form_confs", "*"),
    ]:  # fmt: skip
        assert list((PACKAGE / folder).glob(pattern)), folder
    # What pyproject's force-include copies in from outside the package.
    artifacts = sorted((ROOT / "contracts" / "artifacts").glob("*.json"))
    assert artifacts
    for artifact in artifacts:
        assert f"emprops/chain/artifacts/{artifact.name}" in names
    for name in ("collection.json", "layers.json", "make_layers.py"):
        assert f"emprops/demo/layers-collection/{name}" in names


def test_the_demo_runs_from_the_installed_wheel(
    uv: str, wheel: Path, tmp_path: Path, data_dir: Path
) -> None:
    venv = tmp_path / "venv"
    _run([uv, "venv", "--quiet", "--python", sys.executable, venv], cwd=tmp_path)
    _run(
        [uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel], cwd=tmp_path
    )
    where = _run(
        [venv / "bin" / "python", "-c", "import emprops; print(emprops.__file__)"], cwd=tmp_path
    )
    assert where.strip().startswith(str(venv)), where  # the wheel's copy, not the checkout's
    out = _run(
        [venv / "bin" / "emprops", "demo", "--tokens", "10", "--workers", "2"],
        cwd=tmp_path, EMPROPS_DATA_DIR=str(data_dir),
    )  # fmt: skip
    assert "10 generated, 0 failed, 10 minted" in out
    assert "10 mints indexed" in out
    assert "Look at it: emprops serve" in out  # not the checkout's `uv run`
    assert (data_dir / "demo" / "contact-sheet.png").stat().st_size > 10_000


def test_the_wheel_installs_as_a_uv_tool(uv: str, wheel: Path, tmp_path: Path) -> None:
    tools, bin_dir = tmp_path / "tools", tmp_path / "tools" / "bin"
    _run(
        [uv, "tool", "install", "--quiet", "--force", "--python", sys.executable, wheel],
        cwd=tmp_path, UV_TOOL_DIR=str(tools), UV_TOOL_BIN_DIR=str(bin_dir),
    )  # fmt: skip
    out = _run([bin_dir / "emprops", "--help"], cwd=tmp_path)
    assert "demo" in out and "serve" in out
