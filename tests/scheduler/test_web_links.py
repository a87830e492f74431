"""With TEAMLORE_HTTP__PUBLIC_URL set, alerts and digests link to the web app's pages on every platform."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from memory_core import MemoryCore, Source
from memory_core.testing import draft
from scheduler import AlertsSettings, JobRuntime, SchedulerStore
from scheduler.jobs import run_digest, run_quality_check
from scheduler.message import Link, Notification, Section, discord_payload, plain_text, slack_payload
from scheduler.notifiers import build_notifiers

from .conftest import WEBHOOK

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTE = Notification(
    event="quality_alert",
    tenant="default",
    title="Memory quality fell to 61/100",
    level="warning",
    sections=(Section("Score", ("61/100",)),),
    links=(Link("Open the quality report", "https://lore.example.com/quality"),),
)


def test_each_platform_shows_the_links() -> None:
    assert plain_text(NOTE).endswith("Open the quality report: https://lore.example.com/quality")
    slack = slack_payload(NOTE)
    assert slack["blocks"][-1] == {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "<https://lore.example.com/quality|Open the quality report>"}
        ],
    }
    discord = discord_payload(NOTE)["embeds"][0]
    assert discord["url"] == "https://lore.example.com/quality"
    assert discord["fields"][-1]["value"] == "[Open the quality report](https://lore.example.com/quality)"
    plain = Notification(event="e", tenant=None, title="t", level="info", sections=())
    assert "url" not in discord_payload(plain)["embeds"][0] and "context" not in str(slack_payload(plain))


@pytest.fixture
async def runtime(core: MemoryCore) -> AsyncIterator[JobRuntime]:
    store = SchedulerStore.for_async_url(core.settings.resolved_database_url)
    await store.create()
    alerts = AlertsSettings(webhook_url=WEBHOOK, webhook_secret="k", log_alerts=False)
    async with httpx.AsyncClient(timeout=5) as client:
        yield JobRuntime(
            core=core,
            settings=alerts,
            notifiers=build_notifiers(alerts, client),
            store=store,
            web_url="https://lore.example.com/",
        )
    await store.dispose()


async def test_alerts_and_digests_link_to_the_web_app(
    core: MemoryCore, runtime: JobRuntime, respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    await core.store("default", draft("Deploys to production happen on Tuesdays after standup."))
    await run_quality_check(runtime, "default", now=NOW)
    await core.record_ingest_failure("default", source=Source.EMAIL, reason="no text", ref="<a@x>")
    alert = await run_quality_check(runtime, "default", now=NOW + timedelta(hours=1))
    assert alert.notification is not None
    body = json.loads(hook.calls[-1].request.content)
    assert body["links"] == [{"label": "Open the quality report", "url": "https://lore.example.com/quality"}]
    assert "https://lore.example.com/quality" in body["text"]
    await run_digest(runtime, "default", now=datetime.now(UTC))
    digest = json.loads(hook.calls[-1].request.content)
    assert digest["event"] == "digest"
    assert [link["url"] for link in digest["links"]] == [
        "https://lore.example.com/recent",
        "https://lore.example.com/quality",
    ]
