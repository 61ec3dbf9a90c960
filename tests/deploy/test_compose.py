"""compose.yaml cannot be run here (no container runtime with images), so it is checked against
the code it starts: every command is a real `emprops` command, every EMPROPS_* variable a real
setting, every worker config file parses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from emprops.cli import app
from emprops.core.settings import Settings
from emprops.worker.config import load_worker_config

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_every_service_command_is_a_real_emprops_command() -> None:
    runner = CliRunner()
    commands = [
        s["command"] for s in _compose()["services"].values()
        if isinstance(s.get("command"), list) and s["command"][0] == "emprops"
    ]  # fmt: skip
    assert len(commands) >= 4
    for command in commands:
        words = [w for w in command[1:] if not w.startswith("-")][:2]
        result = runner.invoke(
            app, [*words[:1], "--help"] if words[0] in ("serve", "worker") else [*words, "--help"]
        )
        assert result.exit_code == 0, f"{command}: {result.output}"


def test_every_emprops_variable_is_a_setting() -> None:
    text = (ROOT / "compose.yaml").read_text()
    names = set(re.findall(r"\bEMPROPS_([A-Z0-9_]+)\s*:", text))
    assert names, "compose.yaml sets no EMPROPS_ variables"
    fields = {name.upper() for name in Settings.model_fields}
    assert names <= fields, f"not settings: {sorted(names - fields)}"


def test_worker_config_files_parse(tmp_path: Path) -> None:
    config = load_worker_config(ROOT / "examples" / "worker.toml")
    assert config.worker.services == ["render"]
    assert config.connectors["render"]["assets_root"] == "/app"
