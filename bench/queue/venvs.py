"""One virtual environment per queue library, from the pinned files in requirements/.

The peers cannot share one environment (arq needs redis<6, BullMQ redis>=6.2, SAQ redis<8), and
none of them may go into the project's own environment; py-spy lives in its own `tools` one.

    uv run --frozen python bench/queue/venvs.py            # create the missing ones
    uv run --frozen python bench/queue/venvs.py --force    # recreate all
    uv run --frozen python bench/queue/venvs.py --compile  # re-pin requirements/*.txt from *.in

Uses `uv` (installs only the exact versions in requirements/<name>.txt, nothing else)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements"
VENVS = HERE / ".venvs"
PEERS = ("bullmq", "saq", "celery", "arq", "rq")
ALL = (*PEERS, "tools")


def python_of(name: str) -> Path:
    return VENVS / name / "bin" / "python"


def _uv_env() -> dict[str, str]:
    # Never fetch an interpreter: the venvs use the Python that runs this script.
    return {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}


def create(name: str, *, force: bool = False) -> Path:
    target = VENVS / name
    marker = target / ".requirements.txt"
    wanted = (REQUIREMENTS / f"{name}.txt").read_text()
    if not force and marker.exists() and marker.read_text() == wanted:
        return python_of(name)
    if target.exists():
        shutil.rmtree(target)
    print(f"creating {target.relative_to(HERE.parents[1])}", file=sys.stderr)
    subprocess.run(
        ["uv", "venv", "-q", "--python", sys.executable, str(target)], check=True, env=_uv_env()
    )
    subprocess.run(
        ["uv", "pip", "install", "-q", "--python", str(python_of(name)), "--no-deps",
         "-r", str(REQUIREMENTS / f"{name}.txt")],
        check=True, env=_uv_env(),
    )  # fmt: skip
    marker.write_text(wanted)
    return python_of(name)


def ensure(names: tuple[str, ...] = ALL) -> dict[str, Path]:
    return {name: create(name) for name in names}


def compile_pins() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in ALL:
        subprocess.run(
            ["uv", "pip", "compile", "-q", "--no-header", "--python-version", version,
             str(REQUIREMENTS / f"{name}.in"), "-o", str(REQUIREMENTS / f"{name}.txt")],
            check=True, env=_uv_env(), cwd=REQUIREMENTS,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="recreate every environment")
    parser.add_argument("--compile", action="store_true", help="re-pin requirements/*.txt")
    args = parser.parse_args()
    if args.compile:
        compile_pins()
        return
    for name in ALL:
        print(name, create(name, force=args.force))


if __name__ == "__main__":
    main()
