"""The runtime's own behaviour: what `check` reports, restarting a failed front-end, log formats."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamlore import metrics, runtime
from teamlore.cli import app
from teamlore.logconfig import configure_logging, request_id
from teamlore.settings import LoggingSettings


def test_check_says_what_is_enabled_and_why(tmp_path: Path) -> None:
    env = {
        "TEAMLORE_DATA_DIR": str(tmp_path),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        "TEAMLORE_MAIL__RECIPIENTS": "lore@acme.example",
    }
    result = CliRunner().invoke(app, ["check", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert {c["name"]: c["ok"] for c in report["checks"]} == {
        "settings": True,
        "database": True,
        "deletes": True,
        "model": True,
        "index": True,
        "file permissions": True,
    }
    deletes = next(c for c in report["checks"] if c["name"] == "deletes")
    assert deletes["warn"] is False and "secure-delete" in deletes["detail"]  # pysqlite3 is a dependency
    parts = {p["name"]: p for p in report["frontends"]}
    assert parts["mail"]["enabled"] is True and "2525" in parts["mail"]["why"]
    assert parts["discord"]["enabled"] is False and "TEAMLORE_DISCORD__TOKEN" in parts["discord"]["why"]
    assert parts["slack"]["enabled"] is False and "TEAMLORE_SLACK__BOT_TOKEN" in parts["slack"]["why"]
    human = CliRunner().invoke(app, ["check"], env=env)
    assert "enabled" in human.stdout and "mail" in human.stdout


def test_check_fails_on_a_bad_setting(tmp_path: Path) -> None:
    env = {"TEAMLORE_DATA_DIR": str(tmp_path), "TEAMLORE_MAIL__PORT": "not-a-port"}
    result = CliRunner().invoke(app, ["check"], env=env)
    assert result.exit_code == 2 and "TEAMLORE_MAIL__PORT" in result.stderr


def test_only_refuses_unknown_parts() -> None:
    assert runtime.parse_only("web, mail") == {"web", "mail"}
    assert runtime.parse_only(None) == set(runtime.PARTS)
    with pytest.raises(Exception, match="--only"):
        runtime.parse_only("web,telegram")


@pytest.mark.anyio
async def test_a_failing_frontend_is_restarted_with_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(runtime.anyio, "sleep", no_sleep)
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise RuntimeError("gateway went away")

    before = metrics.FRONTEND_RESTARTS.labels(frontend="flaky")._value.get()
    await runtime._supervise("flaky", flaky)
    assert calls == 4
    assert sleeps == [1.0, 2.0, 4.0]
    assert metrics.FRONTEND_RESTARTS.labels(frontend="flaky")._value.get() == before + 3


def test_json_logs_carry_the_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(LoggingSettings(level="INFO", format="json"))
        token = request_id.set("req-42")
        logging.getLogger("teamlore.test").info("handled %s", "thing")
        request_id.reset(token)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "handled thing" and line["request_id"] == "req-42"
    assert line["level"] == "INFO" and line["logger"] == "teamlore.test"
