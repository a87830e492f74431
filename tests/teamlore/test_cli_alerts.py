"""`teamlore alerts` through typer's CliRunner: test every notifier, run a job, show the schedule."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from memory_core import MemoryCore
from memory_core.testing import draft, open_test_core
from scheduler import AlertsSettings
from scheduler.notifiers import SIGNATURE_HEADER, sign
from teamlore.cli.alerts import build_alerts_app
from tests.scheduler.conftest import DISCORD_HOOK, SECRET, SLACK_API, SLACK_HOOK, WEBHOOK, all_notifiers

runner = CliRunner()


def app_for(settings: AlertsSettings, data_dir: Path | None = None) -> Any:
    def open_core() -> AbstractAsyncContextManager[MemoryCore]:
        assert data_dir is not None, "this command should not need the core"
        return open_test_core(data_dir)

    return build_alerts_app(open_core, lambda: settings)


def test_alerts_test_reports_each_notifier(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(SLACK_API).mock(return_value=httpx.Response(200, json={"ok": True}))
    respx_mock.post(SLACK_HOOK).mock(return_value=httpx.Response(200, text="ok"))
    respx_mock.post(DISCORD_HOOK).mock(return_value=httpx.Response(204))
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    result = runner.invoke(app_for(all_notifiers()), ["test", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(r["notifier"], r["ok"]) for r in report] == [
        ("slack", True),
        ("slack-webhook", True),
        ("discord", True),
        ("webhook", True),
        ("log", True),
    ]
    request = hook.calls.last.request
    timestamp = int(request.headers["X-Teamlore-Timestamp"])
    assert request.headers[SIGNATURE_HEADER] == sign(SECRET, timestamp, request.content)
    assert json.loads(request.content)["event"] == "test"


def test_alerts_test_fails_when_a_notifier_fails(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(DISCORD_HOOK).mock(return_value=httpx.Response(404, text="Unknown Webhook"))
    respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    settings = AlertsSettings(discord_webhook_url=DISCORD_HOOK, webhook_url=WEBHOOK, webhook_secret=SECRET)
    result = runner.invoke(app_for(settings), ["test"])
    assert result.exit_code == 1
    assert (
        "discord" in result.stdout
        and "failed" in result.stdout
        and "HTTP 404: Unknown Webhook" in result.stdout
    )
    assert "webhook" in result.stdout and "ok" in result.stdout


def test_alerts_test_without_any_notifier_says_what_to_set() -> None:
    result = runner.invoke(app_for(AlertsSettings(log_alerts=False)), ["test"])
    assert result.exit_code == 2
    assert "TEAMLORE_ALERTS__SLACK_WEBHOOK_URL" in result.stderr


def test_alerts_run_digest_and_status(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    import anyio

    async def seed() -> None:
        async with open_test_core(tmp_path) as core:
            await core.store("default", draft("The VPN moved to vpn2.corp.example.com.", tags=("infra",)))

    anyio.run(seed)
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    settings = AlertsSettings(webhook_url=WEBHOOK, webhook_secret=SECRET, log_alerts=False)
    app = app_for(settings, tmp_path)

    result = runner.invoke(app, ["run", "digest", "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["summary"] == "digest of default: 1 new memories"
    assert outcome["deliveries"] == [
        {"notifier": "webhook", "ok": True, "attempts": 1, "status": 200, "error": None}
    ]
    assert "#infra" in json.loads(hook.calls.last.request.content)["text"]

    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["leader"] is None and status["jobs"] == []
    assert [(d["event"], d["notifier"], d["ok"]) for d in status["deliveries"]] == [
        ("digest", "webhook", True)
    ]


@pytest.mark.parametrize("job", ["expiry", "snapshot"])
def test_alerts_run_other_jobs(tmp_path: Path, job: str) -> None:
    result = runner.invoke(app_for(AlertsSettings(), tmp_path), ["run", job])
    assert result.exit_code == 0, result.output
    assert ("expiry sweep of default: 0 expired" if job == "expiry" else "index snapshot") in result.stdout


def test_alerts_run_links_to_the_web_app_with_a_public_url(
    tmp_path: Path, respx_mock: respx.MockRouter
) -> None:
    import anyio

    async def seed() -> None:
        async with open_test_core(tmp_path) as core:
            await core.store("default", draft("Standup moved to 9:45.", tags=("team",)))

    anyio.run(seed)
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    settings = AlertsSettings(webhook_url=WEBHOOK, webhook_secret=SECRET, log_alerts=False)
    app = build_alerts_app(
        lambda: open_test_core(tmp_path), lambda: settings, lambda: "https://lore.example.com"
    )
    result = runner.invoke(app, ["run", "digest"])
    assert result.exit_code == 0, result.output
    links = json.loads(hook.calls.last.request.content)["links"]
    assert [link["url"] for link in links] == [
        "https://lore.example.com/recent",
        "https://lore.example.com/quality",
    ]
