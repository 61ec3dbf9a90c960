"""`emprops doctor` against real services: a good configuration passes, each broken part is named
with its fix, and a configuration that does not parse exits 1 naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from emprops.cli import app
from emprops.core.settings import Settings
from emprops.doctor import Verdict, run_checks
from tests.conftest import REDIS_URL


def _settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path / "data", "redis_url": REDIS_URL, **changes}
    return Settings(**values)  # type: ignore[arg-type]


async def test_a_working_configuration_has_no_failures(tmp_path: Path) -> None:
    findings = await run_checks(_settings(tmp_path))
    assert {f.part for f in findings} >= {"data dir", "redis", "database", "storage", "workers"}
    assert [f for f in findings if f.verdict is Verdict.FAIL] == []


async def test_each_broken_part_is_named_with_its_fix(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    settings = _settings(
        tmp_path,
        redis_url="redis://127.0.0.1:1/0",
        database_url="postgresql://postgres@127.0.0.1:1/nothing",
        storage_url=f"file://{blocked}/blobs",
        secret_key="short",
    )
    failed = {f.part: f for f in await run_checks(settings) if f.verdict is Verdict.FAIL}
    assert set(failed) >= {"redis", "database", "storage", "secret key"}
    assert "EMPROPS_REDIS_URL" in failed["redis"].fix
    assert "EMPROPS_DATABASE_URL" in failed["database"].fix
    assert "EMPROPS_STORAGE_URL" in failed["storage"].fix


async def test_a_cluster_flag_that_disagrees_with_the_server_fails(tmp_path: Path) -> None:
    findings = await run_checks(_settings(tmp_path, redis_cluster=True))
    (redis_fail,) = [f for f in findings if f.part == "redis" and f.verdict is Verdict.FAIL]
    assert "EMPROPS_REDIS_CLUSTER=false" in redis_fail.fix


def test_the_command_exits_1_naming_a_bad_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EMPROPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EMPROPS_LEASE_S", "-1")
    from emprops.core.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["doctor"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "EMPROPS_LEASE_S" in result.output
