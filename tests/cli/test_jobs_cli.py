"""`emprops jobs` and `emprops queue` from the command line: clear errors, nothing written."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
import redis
from typer.testing import CliRunner

from emprops.cli import app
from emprops.core.settings import get_settings
from tests.conftest import REDIS_URL

runner = CliRunner()


@pytest.fixture
def cli_env(queue_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("EMPROPS_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("EMPROPS_QUEUE_NAME", queue_name)
    get_settings.cache_clear()
    yield queue_name
    get_settings.cache_clear()


def queue_keys(queue: str) -> list[bytes]:
    with redis.Redis.from_url(REDIS_URL) as client:
        return list(client.scan_iter(match=f"emp:{{{queue}}}:*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--payload", "{bad"], "--payload is not valid JSON"),
        (["--requirements", "[1"], "--requirements is not valid JSON"),
        (["--payload", "[1, 2]"], "invalid payload"),
        (["--priority", "-1"], "invalid priority"),
        (["--requirements", '{"models": "x"}'], "models must be a list"),
        (["--id", "has space"], "invalid id"),
    ],
)
def test_bad_submit_names_the_field_and_writes_nothing(
    cli_env: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["jobs", "submit", "--service", "echo", *args])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert queue_keys(cli_env) == []


def test_unknown_service_is_refused(cli_env: str) -> None:
    result = runner.invoke(app, ["jobs", "submit", "--service", "nosuch"])
    assert result.exit_code == 1 and "unknown service 'nosuch'" in result.output
    assert queue_keys(cli_env) == []


def test_submit_get_cancel_stats(cli_env: str) -> None:
    result = runner.invoke(
        app, ["jobs", "submit", "--service", "echo", "--payload", '{"x": 1}', "--id", "cli-1"]
    )
    assert result.exit_code == 0 and result.output.strip() == "cli-1"
    again = runner.invoke(
        app, ["jobs", "submit", "--service", "echo", "--payload", '{"x": 1}', "--id", "cli-1"]
    )
    assert again.exit_code == 0 and "already submitted" in again.output
    clash = runner.invoke(
        app, ["jobs", "submit", "--service", "echo", "--payload", '{"x": 2}', "--id", "cli-1"]
    )
    assert clash.exit_code == 1 and "different payload" in clash.output
    shown = runner.invoke(app, ["jobs", "get", "cli-1"])
    job = orjson.loads(shown.output)
    assert job["status"] == "pending" and job["payload"] == {"x": 1}
    stats = orjson.loads(runner.invoke(app, ["queue", "stats", "--json"]).output)
    assert stats["pending"] == {"echo": 1} and stats["unworkable"] == ["cli-1"]
    cancelled = runner.invoke(app, ["jobs", "cancel", "cli-1"])
    assert "was pending, now cancelled" in cancelled.output
    missing = runner.invoke(app, ["jobs", "get", "nope"])
    assert missing.exit_code == 1 and "not found" in missing.output
